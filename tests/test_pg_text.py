"""The PostgreSQL TEXT plan parser: PEV2's corpus, every psql frame, edge cases, bad input.

The corpus (``tests/data/pev2``, see its README) pairs TEXT plans with the JSON PEV2's
own parser produces. PEV2 spells a few things its own way rather than PostgreSQL's; ``_as_postgres``
translates those expectations to PostgreSQL's ``EXPLAIN (FORMAT JSON)`` spelling (each rule says
why), so every field is still compared and the parser is held to PostgreSQL's format.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import PlanParseError
from workbench.plans.postgresql.text import parse_pg_text, strip_psql_frames

CORPUS = Path(__file__).resolve().parent / "data" / "pev2"
PAIRS = sorted(CORPUS.glob("from-text/*-plan")) + sorted(
    CORPUS.glob("12-line-wrapped-plans/*-plan")
)
FRAMES = CORPUS / "11-psql-frames"
TEXT_FRAMES = sorted(FRAMES.glob("text-[012]-*.plan"))
JSON_FRAMES = sorted(FRAMES.glob("json-*.plan"))

# Fields excluded from the comparison, with the reason.
EXCLUDED = {
    # PEV2 invents these two for its temp-buffer display; PostgreSQL has no such counters (temp
    # files are only read and written: explain.c prints "temp read=.. written=..").
    "Temp Hit Blocks",
    "Temp Dirtied Blocks",
}
# Fields that differ between two runs of the same query, and so between the frame variants.
TIMINGS = {"Actual Startup Time", "Actual Total Time", "Planning Time", "Execution Time"}
_QUALIFIED = re.compile(r'^(?:("(?:[^"]|"")+"|[^".]+)\.)?("(?:[^"]|"")+"|[^".]+)$')
_JOIN = re.compile(
    r"^(Nested Loop|Hash|Merge) (?:(Left|Right|Full|Semi|Anti|Right Semi|Right Anti) )?Join$"
)
_AGG_STRATEGY = {"GroupAggregate": "Sorted", "HashAggregate": "Hashed", "MixedAggregate": "Mixed"}


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def _as_postgres(node: dict[str, Any]) -> dict[str, Any]:
    """Translate one PEV2 expected node (and its children) to PostgreSQL's JSON spelling."""
    node = dict(node)
    kind = node.get("Node Type", "")
    if join := _JOIN.match(kind):  # PEV2 keeps TEXT's "Hash Semi Join", "Nested Loop Join"
        node["Node Type"] = "Nested Loop" if join[1] == "Nested Loop" else f"{join[1]} Join"
        if join[2]:
            node.setdefault("Join Type", join[2])
    elif kind in _AGG_STRATEGY:  # PG: Node Type "Aggregate" + Strategy ("HashAggregate" is text)
        node["Node Type"] = "Aggregate"
        node.setdefault("Strategy", _AGG_STRATEGY[kind])
    elif kind in ("Insert", "Update", "Delete", "Merge"):  # PG: ModifyTable + Operation
        node["Node Type"] = "ModifyTable"
        node.setdefault("Operation", kind)
    elif kind.startswith("Subquery Scan "):  # PG <= 8.4 text "Subquery Scan x": x is the Alias
        node["Node Type"] = "Subquery Scan"
        node["Alias"] = kind.removeprefix("Subquery Scan ")
    if "Index Name" in node:  # PEV2 keeps quote_identifier()'s quotes; JSON names are raw
        node["Index Name"] = _unquote(node["Index Name"])
    if "Relation Name" in node:  # PEV2 keeps "schema.name" (quoted); JSON splits off "Schema"
        m = _QUALIFIED.match(node["Relation Name"])
        assert m, node["Relation Name"]
        if m[1]:
            node["Schema"] = _unquote(m[1])
        node["Relation Name"] = _unquote(m[2])
    if "Plans" in node:
        node["Plans"] = [_as_postgres(child) for child in node["Plans"]]
    return node


def _first_mismatch(expect: Any, actual: Any, path: str = "$") -> str | None:
    """The path of the first expected value the parse does not have, or None."""
    if isinstance(expect, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {actual!r}"
        for key, value in expect.items():
            if key in EXCLUDED:
                continue
            if key not in actual:
                return f"{path}.{key}: missing (expected {value!r})"
            found = _first_mismatch(value, actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expect, list):
        if isinstance(actual, list) and all(isinstance(x, str) for x in expect + actual):
            if expect != actual:
                return f"{path}: expected {expect!r}, got {actual!r}"
            return None
        if not isinstance(actual, list) or len(actual) != len(expect):
            return f"{path}: expected {len(expect)} items, got {actual!r}"
        for i, (e, a) in enumerate(zip(expect, actual, strict=True)):
            found = _first_mismatch(e, a, f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(expect, bool) or isinstance(actual, bool):
        return None if expect is actual else f"{path}: expected {expect!r}, got {actual!r}"
    if isinstance(expect, str) and isinstance(actual, list):
        # PEV2 keeps "Output" as the text line; JSON has the list of expressions.
        actual = ", ".join(actual)
    if (
        isinstance(expect, str)
        and isinstance(actual, int | float)
        and re.fullmatch(r"-?[\d.]+", expect)
    ):
        expect = float(expect)  # PEV2 keeps "Sort Space Used" as a string; JSON has a number
    if isinstance(expect, int | float):
        ok = isinstance(actual, int | float) and math.isclose(
            expect, actual, rel_tol=1e-9, abs_tol=1e-9
        )
    else:
        ok = expect == actual
    return None if ok else f"{path}: expected {expect!r}, got {actual!r}"


def _expected(plan_file: Path) -> dict[str, Any]:
    expect_file = plan_file.with_name(plan_file.name.removesuffix("plan") + "expect")
    expect = json.loads(expect_file.read_text())
    if isinstance(expect, list):  # PostgreSQL's JSON is a one-element list; PEV2 often drops it
        (expect,) = expect
    expect["Plan"] = _as_postgres(expect["Plan"])
    return expect


def _without(doc: Any, keys: set[str]) -> Any:
    if isinstance(doc, dict):
        return {k: _without(v, keys) for k, v in doc.items() if k not in keys}
    if isinstance(doc, list):
        return [_without(v, keys) for v in doc]
    return doc


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    out, todo = [], [plan]
    while todo:
        node = todo.pop()
        out.append(node)
        todo.extend(reversed(node.get("Plans", [])))
    return out


# -- the corpus ------------------------------------------------------------------------------


def test_the_corpus_is_all_there() -> None:
    assert len(list(CORPUS.glob("from-text/*-plan"))) == 47
    assert len(list(CORPUS.glob("12-line-wrapped-plans/*-plan"))) == 10
    assert len(TEXT_FRAMES) == 13 and len(JSON_FRAMES) == 15


@pytest.mark.parametrize("plan_file", PAIRS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_pair(plan_file: Path) -> None:
    parsed = parse_pg_text(plan_file.read_text())
    mismatch = _first_mismatch(_expected(plan_file), parsed)
    assert mismatch is None, mismatch


@pytest.mark.parametrize("plan_file", TEXT_FRAMES, ids=lambda p: p.name)
def test_every_text_frame_parses_to_the_same_plan(plan_file: Path) -> None:
    # Each variant is its own EXPLAIN ANALYZE run: everything but the timings is identical.
    reference = _without(parse_pg_text(TEXT_FRAMES[0].read_text()), TIMINGS)
    assert _without(parse_pg_text(plan_file.read_text()), TIMINGS) == reference


@pytest.mark.parametrize("plan_file", JSON_FRAMES, ids=lambda p: p.name)
def test_every_json_frame_strips_to_the_same_document(plan_file: Path) -> None:
    reference = _without(json.loads(strip_psql_frames(JSON_FRAMES[0].read_text())), TIMINGS)
    assert _without(json.loads(strip_psql_frames(plan_file.read_text())), TIMINGS) == reference


@pytest.mark.parametrize("plan_file", TEXT_FRAMES, ids=lambda p: p.name)
def test_text_frames_agree_with_the_json_document(plan_file: Path) -> None:
    (document,) = json.loads(strip_psql_frames(JSON_FRAMES[0].read_text()))
    parsed = parse_pg_text(plan_file.read_text())
    # Timings differ between the two runs; "Inner Unique" is printed in TEXT only with VERBOSE.
    mismatch = _first_mismatch(_without(document, TIMINGS | {"Inner Unique"}), parsed)
    assert mismatch is None, mismatch
    for node in _nodes(parsed["Plan"]):
        assert isinstance(node["Actual Startup Time"], float), node
        assert node["Actual Total Time"] >= node["Actual Startup Time"]


@pytest.mark.parametrize(
    "plan_file", sorted(CORPUS.glob("*/*plan")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_stripping_is_idempotent(plan_file: Path) -> None:
    once = strip_psql_frames(plan_file.read_text())
    assert strip_psql_frames(once) == once


def test_dbeaver_frame() -> None:
    parsed = parse_pg_text((FRAMES / "text-3-dbeaver.plan").read_text())
    root = parsed["Plan"]
    assert (root["Node Type"], root["Operation"]) == ("ModifyTable", "Delete")
    assert (root["Schema"], root["Relation Name"]) == ("public", "toto123456789")
    assert root["WAL Records"] == 5_000_000 and root["WAL Bytes"] == 327_276_611
    scan = root["Plans"][0]
    assert scan["Parent Relationship"] == "Outer" and scan["Output"] == ["ctid"]
    assert scan["WAL Records"] == 0 and scan["Shared Hit Blocks"] == 0  # JSON prints zeros
    assert parsed["Planning"]["Shared Hit Blocks"] == 4
    assert parsed["Execution Time"] == 4024.335


# -- hand-written edge cases -----------------------------------------------------------------


def test_never_executed_nodes() -> None:
    plan = parse_pg_text(
        "Nested Loop  (cost=0.00..2.00 rows=1 width=4) (actual time=0.010..0.011 rows=0 loops=1)\n"
        "  ->  Seq Scan on a  (cost=0.00..1.00 rows=1 width=4) (actual time=0.005..0.006 rows=0 loops=1)\n"
        "  ->  Seq Scan on b  (cost=0.00..1.00 rows=1 width=4) (never executed)\n"
        "        Filter: (x > 1)\n"
    )
    never = plan["Plan"]["Plans"][1]
    # What EXPLAIN (ANALYZE, FORMAT JSON) prints for it: zero times (timing is on), rows, loops.
    assert never["Actual Loops"] == 0 and never["Actual Rows"] == 0
    assert never["Actual Startup Time"] == never["Actual Total Time"] == 0.0
    assert never["Rows Removed by Filter"] == 0
    assert plan["Triggers"] == []


def test_never_executed_without_timing_has_no_times() -> None:
    plan = parse_pg_text(
        "Limit  (cost=0.00..1.00 rows=1 width=4) (actual rows=0 loops=1)\n"
        "  ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4) (never executed)\n"
    )
    assert "Actual Total Time" not in plan["Plan"]["Plans"][0]


def test_initplan_subplan_and_cte_names() -> None:
    plan = parse_pg_text(
        "CTE Scan on big b  (cost=1.00..2.00 rows=1 width=4)\n"
        "  Filter: (x = (SubPlan 2))\n"
        "  CTE big\n"
        "    ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n"
        "  InitPlan 1 (returns $1)\n"
        "    ->  Result  (cost=0.00..0.01 rows=1 width=4)\n"
        "  SubPlan 2\n"
        "    ->  Index Only Scan using u_pkey on u  (cost=0.15..8.17 rows=1 width=4)\n"
        "          Index Cond: (id = b.x)\n"
    )["Plan"]
    assert (plan["CTE Name"], plan["Alias"]) == ("big", "b")
    children = [
        (c["Parent Relationship"], c["Subplan Name"], c["Node Type"]) for c in plan["Plans"]
    ]
    assert children == [
        ("InitPlan", "CTE big", "Seq Scan"),
        ("InitPlan", "InitPlan 1 (returns $1)", "Result"),
        ("SubPlan", "SubPlan 2", "Index Only Scan"),
    ]
    assert plan["Plans"][2]["Index Cond"] == "(id = b.x)"


def test_plain_child_after_an_initplan_is_outer() -> None:
    plan = parse_pg_text(
        "Limit  (cost=1.00..2.00 rows=1 width=4)\n"
        "  InitPlan 1\n"
        "    ->  Result  (cost=0.00..0.01 rows=1 width=4)\n"
        "  ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n"
    )["Plan"]
    assert [c["Parent Relationship"] for c in plan["Plans"]] == ["InitPlan", "Outer"]
    assert "Subplan Name" not in plan["Plans"][1]


def test_parallel_workers() -> None:
    plan = parse_pg_text(
        "Gather Merge  (cost=1.00..9.00 rows=10 width=4) (actual time=1.000..2.000 rows=10 loops=1)\n"
        "  Workers Planned: 2\n"
        "  Workers Launched: 2\n"
        "  ->  Sort  (cost=0.50..0.60 rows=4 width=4) (actual time=0.500..0.600 rows=3 loops=3)\n"
        "        Output: x\n"
        "        Sort Key: t.x DESC\n"
        "        Sort Method: quicksort  Memory: 25kB\n"
        "        Worker 0:  actual time=0.400..0.500 rows=3 loops=1\n"
        "          Sort Method: quicksort  Memory: 26kB\n"
        "          Buffers: shared hit=3\n"
        "        Worker 1:  Sort Method: external merge  Disk: 100kB\n"
        "        ->  Parallel Seq Scan on public.t  (cost=0.00..0.40 rows=4 width=4) (actual time=0.010..0.100 rows=3 loops=3)\n"
        "              Output: x\n"
        "              Buffers: shared hit=9\n"
    )["Plan"]
    assert (plan["Workers Planned"], plan["Workers Launched"]) == (2, 2)
    sort = plan["Plans"][0]
    assert sort["Sort Key"] == ["t.x DESC"]
    assert sort["Workers"] == [
        {
            "Worker Number": 0,
            "Actual Startup Time": 0.4,
            "Actual Total Time": 0.5,
            "Actual Rows": 3,
            "Actual Loops": 1,
            "Sort Method": "quicksort",
            "Sort Space Used": 26,
            "Sort Space Type": "Memory",
            "Shared Hit Blocks": 3,
            "Shared Read Blocks": 0,
            "Shared Dirtied Blocks": 0,
            "Shared Written Blocks": 0,
            "Local Hit Blocks": 0,
            "Local Read Blocks": 0,
            "Local Dirtied Blocks": 0,
            "Local Written Blocks": 0,
            "Temp Read Blocks": 0,
            "Temp Written Blocks": 0,
        },
        {
            "Worker Number": 1,
            "Sort Method": "external merge",
            "Sort Space Used": 100,
            "Sort Space Type": "Disk",
        },
    ]
    scan = sort["Plans"][0]
    assert scan["Parallel Aware"] is True and scan["Node Type"] == "Seq Scan"
    assert (scan["Schema"], scan["Relation Name"], scan["Alias"]) == ("public", "t", "t")
    assert sort["Shared Hit Blocks"] == 0  # BUFFERS was on: JSON has zeros where TEXT is silent


def test_node_type_spellings() -> None:
    cases = {
        "Hash Right Anti Join": {"Node Type": "Hash Join", "Join Type": "Right Anti"},
        "Merge Full Join": {"Node Type": "Merge Join", "Join Type": "Full"},
        "Nested Loop Semi Join": {"Node Type": "Nested Loop", "Join Type": "Semi"},
        "Parallel Hash Join": {
            "Node Type": "Hash Join",
            "Join Type": "Inner",
            "Parallel Aware": True,
        },
        "Finalize GroupAggregate": {
            "Node Type": "Aggregate",
            "Strategy": "Sorted",
            "Partial Mode": "Finalize",
        },
        "Partial HashAggregate": {
            "Node Type": "Aggregate",
            "Strategy": "Hashed",
            "Partial Mode": "Partial",
        },
        "MixedAggregate": {"Node Type": "Aggregate", "Strategy": "Mixed", "Partial Mode": "Simple"},
        "Aggregate": {"Node Type": "Aggregate", "Strategy": "Plain"},
        "HashSetOp Except All": {
            "Node Type": "SetOp",
            "Strategy": "Hashed",
            "Command": "Except All",
        },
        "SetOp Intersect": {"Node Type": "SetOp", "Strategy": "Sorted", "Command": "Intersect"},
        "Insert on t": {"Node Type": "ModifyTable", "Operation": "Insert", "Relation Name": "t"},
        "Update on public.t t1": {
            "Node Type": "ModifyTable",
            "Operation": "Update",
            "Schema": "public",
            "Alias": "t1",
        },
        "Foreign Update on ft": {
            "Node Type": "Foreign Scan",
            "Operation": "Update",
            "Relation Name": "ft",
        },
        "Custom Scan (ChunkAppend) on metrics": {
            "Node Type": "Custom Scan",
            "Custom Plan Provider": "ChunkAppend",
            "Relation Name": "metrics",
        },
        "Index Only Scan Backward using i on t x": {
            "Node Type": "Index Only Scan",
            "Scan Direction": "Backward",
            "Index Name": "i",
            "Relation Name": "t",
            "Alias": "x",
        },
        "Subquery Scan on sub": {"Node Type": "Subquery Scan", "Alias": "sub"},
        "Function Scan on pg_catalog.generate_series g": {
            "Node Type": "Function Scan",
            "Function Name": "generate_series",
            "Schema": "pg_catalog",
            "Alias": "g",
        },
        'Values Scan on "*VALUES*"': {"Node Type": "Values Scan", "Alias": "*VALUES*"},
        "WorkTable Scan on r r_1": {"Node Type": "WorkTable Scan", "CTE Name": "r", "Alias": "r_1"},
        "Bitmap Index Scan on i": {"Node Type": "Bitmap Index Scan", "Index Name": "i"},
        "Memoize": {"Node Type": "Memoize"},
        "Incremental Sort": {"Node Type": "Incremental Sort"},
        "Gather Merge": {"Node Type": "Gather Merge"},
        "Async Foreign Scan on f": {
            "Node Type": "Foreign Scan",
            "Operation": "Select",
            "Async Capable": True,
        },
    }
    for head, fields in cases.items():
        node = parse_pg_text(f"{head}  (cost=0.00..1.00 rows=1 width=4)")["Plan"]
        mismatch = _first_mismatch(fields, node)
        assert mismatch is None, f"{head}: {mismatch}"


def test_triggers_jit_planning_settings_and_summary() -> None:
    plan = parse_pg_text(
        "Insert on t  (cost=0.00..0.01 rows=0 width=0) (actual time=0.100..0.100 rows=0 loops=1)\n"
        "  ->  Result  (cost=0.00..0.01 rows=1 width=4) (actual time=0.001..0.001 rows=1 loops=1)\n"
        "Settings: search_path = 'app, public', work_mem = '64MB'\n"
        "Planning:\n"
        "  Buffers: shared hit=12 read=1\n"
        "  Memory: used=10kB  allocated=16kB\n"
        "Planning Time: 0.050 ms\n"
        "Trigger audit: time=0.020 calls=1\n"
        "Trigger for constraint t_fk on t: time=0.030 calls=1\n"
        "JIT:\n"
        "  Functions: 4\n"
        "  Options: Inlining true, Optimization true, Expressions true, Deforming false\n"
        "  Timing: Generation 0.5 ms (Deform 0.1 ms), Inlining 1.0 ms, Optimization 2.0 ms, "
        "Emission 3.0 ms, Total 6.5 ms\n"
        "Execution Time: 0.300 ms\n"
    )
    assert plan["Settings"] == {"search_path": "app, public", "work_mem": "64MB"}
    assert plan["Planning"]["Shared Hit Blocks"] == 12 and plan["Planning"]["Memory Used"] == 10
    assert plan["Triggers"] == [
        {"Trigger Name": "audit", "Time": 0.02, "Calls": 1},
        {"Constraint Name": "t_fk", "Relation": "t", "Time": 0.03, "Calls": 1},
    ]
    assert plan["JIT"] == {
        "Functions": 4,
        "Options": {
            "Inlining": True,
            "Optimization": True,
            "Expressions": True,
            "Deforming": False,
        },
        "Timing": {
            "Generation": {"Deform": 0.1, "Total": 0.5},
            "Inlining": 1.0,
            "Optimization": 2.0,
            "Emission": 3.0,
            "Total": 6.5,
        },
    }
    assert (plan["Planning Time"], plan["Execution Time"]) == (0.05, 0.3)
    assert next(iter(plan)) == "Plan"


def test_unicode_and_quoted_identifiers() -> None:
    plan = parse_pg_text(
        'Index Scan using "idx ünïcode" on "Sales Schema"."Order ""Lines""" "ol 1"'
        "  (cost=0.29..8.30 rows=1 width=4)\n"
        '  Index Cond: ("Order ID" = 42)\n'
        "  ->  Seq Scan on таблица т  (cost=0.00..1.00 rows=1 width=4)\n"
    )["Plan"]
    assert plan["Index Name"] == "idx ünïcode"
    assert (plan["Schema"], plan["Relation Name"], plan["Alias"]) == (
        "Sales Schema",
        'Order "Lines"',
        "ol 1",
    )
    assert plan["Index Cond"] == '("Order ID" = 42)'
    assert plan["Plans"][0]["Relation Name"] == "таблица"


def test_io_timings_by_version() -> None:
    def io(line: str) -> dict[str, Any]:
        node = parse_pg_text(f"Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n  {line}")["Plan"]
        return {k: v for k, v in node.items() if "I/O" in k}

    assert io("I/O Timings: read=1.5") == {"I/O Read Time": 1.5, "I/O Write Time": 0.0}
    assert io("I/O Timings: shared/local read=1.5, temp write=2.0") == {
        "I/O Read Time": 1.5,
        "I/O Write Time": 0.0,
        "Temp I/O Read Time": 0.0,
        "Temp I/O Write Time": 2.0,
    }
    assert io("I/O Timings: shared read=1.5, local write=0.5") == {
        "Shared I/O Read Time": 1.5,
        "Shared I/O Write Time": 0.0,
        "Local I/O Read Time": 0.0,
        "Local I/O Write Time": 0.5,
        "Temp I/O Read Time": 0.0,
        "Temp I/O Write Time": 0.0,
    }


@pytest.mark.parametrize(
    ("planning", "execution", "fields"),
    [
        ("Planning Time", "Execution Time", ("Planning Time", "Execution Time")),  # 13+
        ("Planning time", "Execution time", ("Planning Time", "Execution Time")),  # 9.4-12
        (None, "Total runtime", (None, "Total Runtime")),  # <= 9.3
    ],
)
def test_summary_times_of_every_version(
    planning: str | None, execution: str, fields: tuple[str | None, str]
) -> None:
    text = (
        "Limit  (cost=0.00..1.00 rows=1 width=4) (actual time=0.010..0.030 rows=1 loops=1)\n"
        "  ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4) "
        "(actual time=0.008..0.020 rows=1 loops=1)\n"
        "        Filter: (a > 1)\n"
        + (f"{planning}: 0.650 ms\n" if planning else "")
        + f"{execution}: 2999.940 ms\n"
    )
    doc = parse_pg_text(text)
    if fields[0]:
        assert doc[fields[0]] == 0.650
    assert doc[fields[1]] == 2999.940
    seq_scan = doc["Plan"]["Plans"][0]
    assert not any("time" in key.lower() for key in seq_scan if not key.startswith("Actual"))


def test_io_timings_with_only_temp_take_the_documents_names() -> None:
    """PostgreSQL 15-16 and 17+ both print "I/O Timings: temp ..." alone (shared/local timings
    zero); JSON still names the zero shared/local fields, the version's way. Nothing else in the
    plan tells: PostgreSQL 15-16's names, as PEV2 gives them."""

    def io(node: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in node.items() if "I/O" in k}

    head = "Sort  (cost=1.00..2.00 rows=1 width=4) (actual time=1.000..2.000 rows={} loops=1)"
    alone = parse_pg_text(f"{head.format(1)}\n  I/O Timings: temp read=2.049 write=54.951")
    assert io(alone["Plan"]) == {
        "I/O Read Time": 0.0,
        "I/O Write Time": 0.0,
        "Temp I/O Read Time": 2.049,
        "Temp I/O Write Time": 54.951,
    }
    assert list(io(alone["Plan"]))[-1] == "Temp I/O Write Time"  # JSON's order
    pg17 = {
        "Shared I/O Read Time": 0.0,
        "Shared I/O Write Time": 0.0,
        "Local I/O Read Time": 0.0,
        "Local I/O Write Time": 0.0,
        "Temp I/O Read Time": 0.0,
        "Temp I/O Write Time": 3.0,
    }
    # another line of the plan spells the areas out (17+): the temp-only lines follow it
    doc = parse_pg_text(
        f"{head.format(1)}\n"
        "  I/O Timings: temp write=3.0\n"
        "  ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4) "
        "(actual time=0.500..0.900 rows=1 loops=1)\n"
        "        I/O Timings: shared read=0.5\n"
        "Planning:\n"
        "  I/O Timings: temp write=3.0\n"
    )
    assert io(doc["Plan"]) == pg17
    assert io(doc["Planning"]) == pg17
    assert io(doc["Plan"]["Plans"][0])["Shared I/O Read Time"] == 0.5
    # "rows=1.00" is PostgreSQL 18's: 17+ names too
    pg18 = parse_pg_text(f"{head.format('1.00')}\n  I/O Timings: temp write=3.0")
    assert io(pg18["Plan"]) == pg17


def test_grouping_sets() -> None:
    plan = parse_pg_text(
        "MixedAggregate  (cost=1.00..2.00 rows=3 width=12)\n"
        "  Hash Key: a\n"
        "  Hash Key: b\n"
        "  Group Key: ()\n"
        "  ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n"
    )["Plan"]
    assert plan["Grouping Sets"] == [{"Hash Keys": [["a"], ["b"]]}, {"Group Keys": [[]]}]


def test_values_are_typed_like_json() -> None:
    node = parse_pg_text(
        "Result  (cost=0.00..0.01 rows=1 width=4) (actual time=0.002..0.002 rows=1.00 loops=1)\n"
        "  One-Time Filter: false\n"
        "  Disabled: true\n"
        "  Index Searches: 3\n"
    )["Plan"]
    assert node["Startup Cost"] == 0.0 and isinstance(node["Startup Cost"], float)
    assert isinstance(node["Plan Rows"], int) and isinstance(node["Actual Loops"], int)
    assert node["Actual Rows"] == 1.0 and isinstance(node["Actual Rows"], float)  # PG 18
    assert node["One-Time Filter"] == "false"
    assert node["Disabled"] is True and node["Index Searches"] == 3


def test_psql_prompt_footer_and_timing_are_stripped() -> None:
    text = (
        "db=> explain select 1;\n"
        "                 QUERY PLAN\n"
        "--------------------------------------------\n"
        " Result  (cost=0.00..0.01 rows=1 width=4)\n"
        "(1 row)\n"
        "\n"
        "Time: 0.512 ms\n"
    )
    assert strip_psql_frames(text) == "Result  (cost=0.00..0.01 rows=1 width=4)"


def test_multiline_cell_marker_is_removed_from_a_text_plan() -> None:
    # A value with a newline makes a multi-line cell: psql pads its lines to the column width
    # and ends each but the last with "+".
    root = "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)"
    first = "  Filter: (note = 'a".ljust(len(root))
    text = (
        f"{'QUERY PLAN':^{len(root) + 2}}\n{'-' * (len(root) + 2)}\n {root}\n"
        f" {first}+\n b'::text)\n(2 rows)\n"
    )
    plan = parse_pg_text(text)["Plan"]
    assert plan["Filter"] == "(note = 'a b'::text)"


def test_border_2_line_wrapped_by_a_terminal() -> None:
    # The terminal cut the first row: its tail lacks the left border (and carries the right one).
    text = (
        "+------------------------------------+\n"
        "|              QUERY PLAN            |\n"
        "+------------------------------------+\n"
        "| Limit  (cost=0.00..0.01 rows=1 wid\n"
        "th=4)                                |\n"
        "|   ->  Result  (cost=0.00..0.01 rows=1 width=4) |\n"
        "+------------------------------------+\n"
        "(2 rows)\n"
    )
    assert strip_psql_frames(text) == (
        "Limit  (cost=0.00..0.01 rows=1 width=4)\n  ->  Result  (cost=0.00..0.01 rows=1 width=4)"
    )


def test_expanded_records() -> None:
    # psql's \x (or \x auto on a wide plan): one record per plan line.
    text = (
        "-[ RECORD 1 ]---------------------------------------------------\n"
        "QUERY PLAN | Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)\n"
        "-[ RECORD 2 ]---------------------------------------------------\n"
        "QUERY PLAN |   Filter: (x = 1)\n"
    )
    plan = parse_pg_text(text)["Plan"]
    assert (plan["Relation Name"], plan["Filter"]) == ("t", "(x = 1)")


def test_several_plans_are_refused() -> None:
    with pytest.raises(PlanParseError, match="more than one plan"):
        parse_pg_text(
            "Result  (cost=0.00..0.01 rows=1 width=4)\n\n"
            "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\n"
        )


def test_a_large_plan_parses() -> None:
    """Its speed is measured in benchmarks/bench_plan_parse.py."""
    lines = ["Append  (cost=0.00..9.00 rows=10000 width=4) (actual time=0.1..9.0 rows=10 loops=1)"]
    lines += [
        f"  ->  Seq Scan on part_{i} p{i}  (cost=0.00..9.00 rows=1 width=4) "
        f"(actual time=0.010..0.020 rows=1 loops=1)\n        Filter: (x = {i})\n"
        "        Rows Removed by Filter: 9\n        Buffers: shared hit=1"
        for i in range(9_999)
    ]
    plan = parse_pg_text("\n".join(lines))
    assert len(plan["Plan"]["Plans"]) == 9_999
    assert plan["Plan"]["Plans"][-1]["Rows Removed by Filter"] == 9


def test_a_deep_plan_needs_no_recursion() -> None:
    # explain.c indents each level by 6: "->  " two columns right of the parent's name.
    deep = "Limit  (cost=0.00..1.00 rows=1 width=4)\n" + "\n".join(
        f"{' ' * (6 * i + 2)}->  Limit  (cost=0.00..1.00 rows=1 width=4)" for i in range(1_499)
    )
    plan = parse_pg_text(deep)["Plan"]
    assert len(_nodes(plan)) == 1_500
    assert max(len(node.get("Plans", ())) for node in _nodes(plan)) == 1
    assert all(node["Parent Relationship"] == "Outer" for node in _nodes(plan)[1:])


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n",
        "hello world",
        "The query was slow, please help.\nThanks!",
        '[{"Plan": {"Node Type": "Seq Scan"}}]',
        "Seq Scan on t  (cost=0.00..1",
        "Seq Scan on t  (cost=abc rows=1 width=4)",
        "QUERY PLAN\n----------\n(0 rows)",
        "SELECT * FROM t WHERE x = 1;",
    ],
)
def test_bad_input_raises_plan_parse_error(text: str) -> None:
    with pytest.raises(PlanParseError) as info:
        parse_pg_text(text)
    assert "plan" in str(info.value).lower()


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises_anything_else(text: str) -> None:
    with contextlib.suppress(PlanParseError):
        parse_pg_text(text)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)",
                "  ->  Hash  (cost=1.00..1.00 rows=1 width=4)",
                "        Filter: (x > 1)",
                "  InitPlan 1",
                "Planning Time: 1.0 ms",
                "   Buckets: 1024",
                "Worker 0:  Sort Method: quicksort  Memory: 1kB",
                "JIT:",
                "  Timing: x",
                "(never executed)",
            ]
        ),
        max_size=12,
    )
)
def test_shuffled_plan_lines_never_raise_anything_else(lines: list[str]) -> None:
    with contextlib.suppress(PlanParseError):
        parse_pg_text("\n".join(lines))


# -- psql's other output formats, captured from a real psql 15 (tests/data/psql, see its README)
PSQL = Path(__file__).resolve().parent / "data" / "psql"


def _shape(plan: Any) -> list[tuple[Any, ...]]:
    return [
        (
            n.operation,
            n.depth,
            n.actual_rows,
            n.loops,
            sorted(n.conditions.items()),
            n.raw.get("Output"),
        )
        for n in plan.nodes
    ]


@pytest.mark.parametrize(
    "name", [*sorted(p.name for p in PSQL.glob("wrapped-border*.txt")), "csv.txt"]
)
def test_psql_wrapped_and_csv_formats_read_as_the_aligned_plan(name: str) -> None:
    import workbench as wb

    reference = wb.parse_plan((PSQL / "reference.txt").read_text())
    plan = wb.parse_plan((PSQL / name).read_text())
    assert len(plan.nodes) == len(reference.nodes) == 7
    # the same statement, run again for each format: everything but the times agrees
    assert _shape(plan) == _shape(reference)
    assert plan.root.inclusive_time_ms and plan.planning_time_ms


@pytest.mark.parametrize("name", ["csv-json.txt", "wrapped-json.txt"])
def test_psql_csv_and_wrapped_json_plans(name: str) -> None:
    import workbench as wb

    plan = wb.parse_plan((PSQL / name).read_text())
    assert [n.operation for n in plan.nodes] == ["Index Scan"]
    assert plan.root.index == "orders_pkey" and plan.root.actual_rows == 99


@pytest.mark.parametrize("width", [60, 80, 100])
def test_a_parallel_plan_cut_by_fold_reads_whole(width: int) -> None:
    import textwrap

    import workbench as wb

    text = (PSQL / "parallel-initplan.txt").read_text()
    reference = wb.parse_plan(text)
    # what a terminal of that width shows: every line cut, the header and its rule too
    folded = "\n".join(
        "\n".join(
            textwrap.wrap(line, width, drop_whitespace=False, replace_whitespace=False) or [""]
        )
        for line in text.splitlines()
    )
    plan = wb.parse_plan(folded)
    assert [n.operation for n in plan.nodes] == [n.operation for n in reference.nodes]
    assert plan.root.operation == "Finalize GroupAggregate"
    assert [n.actual_rows for n in plan.nodes] == [n.actual_rows for n in reference.nodes]


def test_an_initplan_evaluated_by_a_gather_is_charged_to_it() -> None:
    import workbench as wb

    plan = wb.parse_plan((PSQL / "parallel-initplan.txt").read_text())
    assert [n.operation for n in plan.nodes] == [
        "Finalize GroupAggregate",
        "Finalize Aggregate",
        "Gather",
        "Partial Aggregate",
        "Parallel Seq Scan",
        "Gather Merge",
        "Sort",
        "Partial HashAggregate",
        "Parallel Seq Scan",
    ]
    by_op = {n.operation: n for n in plan.nodes}
    gather_merge = by_op["Gather Merge"]
    assert gather_merge.raw["Params Evaluated"] == "$1"
    # Gather Merge (22.331 ms) evaluated InitPlan 1 (6.638 ms) before starting its workers, and
    # drove its Sort (1.825 ms × 3 loops / 3 processes): what is left is its own
    assert gather_merge.exclusive_time_ms == pytest.approx(22.331 - 6.638 - 1.825, abs=1e-6)
    assert plan.root.exclusive_time_ms == pytest.approx(22.464 - 22.331, abs=1e-6)
    assert sum(n.exclusive_time_ms or 0.0 for n in plan.nodes) == pytest.approx(22.464, abs=1e-9)


def test_exclusive_times_add_up_to_the_root_on_every_corpus_plan() -> None:
    import workbench as wb

    checked = 0
    for path in sorted(CORPUS.rglob("*")):
        if not path.is_file() or path.name in ("LICENSE", "README.md"):
            continue
        try:
            plan = wb.parse_plan(path.read_text())
        except (PlanParseError, UnicodeDecodeError):
            continue  # expectations and fragments, not plans
        if plan.root.inclusive_time_ms is None:
            continue
        checked += 1
        times = [n.exclusive_time_ms or 0.0 for n in plan.nodes]
        assert min(times) >= 0, path.name
        assert sum(times) == pytest.approx(plan.root.inclusive_time_ms, rel=1e-9, abs=1e-9), path
    assert checked >= 90


def test_numbers_postgresql_cannot_print_are_missing_not_fatal() -> None:
    import workbench as wb

    document = [
        {
            "Plan": {
                "Node Type": "Seq Scan",
                "Relation Name": "t",
                "Actual Loops": -1,
                "Actual Total Time": "NaN",
                "Actual Rows": 5,
                "Plan Rows": 1,
                "Total Cost": 1.0,
            },
            "JIT": 5,
            "Triggers": "none",
            "Execution Time": 1.0,
        }
    ]
    plan = wb.parse_plan(json.dumps(document))
    assert plan.root.loops is None and plan.root.inclusive_time_ms is None
    assert plan.jit is None and plan.jit_time_ms is None and plan.triggers == []
    assert "Seq Scan on t" in plan.to_text() and len(plan.to_frame()) == 1
    document[0]["JIT"] = {"Timing": "x"}
    document[0]["Plan"].update({"Actual Loops": 1, "Actual Total Time": 1.0})
    plan = wb.parse_plan(json.dumps(document))
    assert plan.jit_time_ms is None and "1.00 ms" in plan.to_text()


def test_live_psql_wrapped_output_parses(pg_url: str) -> None:
    import shutil
    import subprocess

    import workbench as wb

    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed")
    sql = (
        "EXPLAIN (ANALYZE, VERBOSE, BUFFERS) SELECT u.email, count(*) FROM users u "
        "JOIN orders o ON o.user_id = u.id WHERE o.total_cents > 1000 GROUP BY u.email"
    )
    shapes = []
    for options in (
        ["-P", "format=aligned"],
        ["-P", "format=wrapped", "-P", "columns=50"],
        ["-P", "format=wrapped", "-P", "border=2", "-P", "linestyle=unicode", "-P", "columns=64"],
        ["--csv"],
    ):
        out = subprocess.run(
            [psql, "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-X", *options, "-c", sql],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        shapes.append(
            [
                (n.operation, n.actual_rows, sorted(n.conditions.items()))
                for n in wb.parse_plan(out).nodes
            ]
        )
    assert len(shapes[0]) >= 4 and all(shape == shapes[0] for shape in shapes)


@pytest.mark.parametrize("marker", ["> ", ">", ">> ", "  > "])
def test_a_plan_quoted_in_a_reply_reads_whole(marker: str) -> None:
    import workbench as wb

    text = (PSQL / "reference.txt").read_text()
    quoted = "\n".join((marker + line).rstrip() for line in text.splitlines())
    assert _shape(wb.parse_plan(quoted)) == _shape(wb.parse_plan(text))
