"""PostgreSQL plans (``EXPLAIN (FORMAT JSON)``, or TEXT turned into the same shape) → :class:`Plan`.

PostgreSQL prints per-loop averages: times and rows are multiplied by ``Actual Loops``. Inside a
parallel section (the subtree below a Gather / Gather Merge, SubPlans and InitPlans run there
included) each process reports its own average and the processes run at the same time, so times
are divided by the number of processes that ran the section (as PEV2 does); rows stay totals. A
Gather's own InitPlans and SubPlans run in the leader, outside the section.

A number PostgreSQL cannot print (NaN, a negative count, text where a number goes) is read as
missing, and a section of another shape than PostgreSQL's (``"JIT": 5``) is left out of the model
(``raw`` keeps the document as it was): a hand-edited plan still reads, and every view works.

Exclusive times (where each millisecond of the root's time was spent) are worked out by
:mod:`workbench.plans.postgresql.timing`, whose docstring gives the rule.
"""

from __future__ import annotations

import math
from typing import Any

from workbench.errors import PlanParseError
from workbench.plans.model import Plan, PlanNode, Spill
from workbench.plans.postgresql.timing import PARALLEL_ROOTS, exclusive_times

__all__ = ["from_postgres_json", "is_postgres_json", "unwrap_postgres_json"]

_CONDITIONS = (
    "Index Cond",
    "Recheck Cond",
    "Filter",
    "Join Filter",
    "Hash Cond",
    "Merge Cond",
    "TID Cond",
    "One-Time Filter",
    "Order By",
    "Cache Key",
)
_BUFFERS = {
    "Shared Hit Blocks": "shared_hit",
    "Shared Read Blocks": "shared_read",
    "Shared Dirtied Blocks": "shared_dirtied",
    "Shared Written Blocks": "shared_written",
    "Local Hit Blocks": "local_hit",
    "Local Read Blocks": "local_read",
    "Local Dirtied Blocks": "local_dirtied",
    "Local Written Blocks": "local_written",
    "Temp Read Blocks": "temp_read",
    "Temp Written Blocks": "temp_written",
    "I/O Read Time": "io_read_ms",
    "I/O Write Time": "io_write_ms",
    "Shared I/O Read Time": "io_read_ms",
    "Shared I/O Write Time": "io_write_ms",
    "Local I/O Read Time": "local_io_read_ms",
    "Local I/O Write Time": "local_io_write_ms",
    "Temp I/O Read Time": "temp_io_read_ms",
    "Temp I/O Write Time": "temp_io_write_ms",
    "WAL Records": "wal_records",
    "WAL FPI": "wal_fpi",
    "WAL Bytes": "wal_bytes",
}
_AGGREGATE_LABELS = {
    "Plain": "Aggregate",
    "Hashed": "HashAggregate",
    "Sorted": "GroupAggregate",
    "Mixed": "MixedAggregate",
}
_INF = math.inf
_TARGETS = ("CTE Name", "Function Name", "Table Function Name", "Tuplestore Name")
_REMOVED = {
    "Rows Removed by Filter": "rows_removed_by_filter",
    "Rows Removed by Join Filter": "rows_removed_by_join_filter",
    "Rows Removed by Index Recheck": "rows_removed_by_index_recheck",
}
_CONDITION_KEYS = frozenset(_CONDITIONS)
# "Workers": a parallel sort's spills are in its workers' fields
_SPILL_KEYS = frozenset(
    {"Sort Space Type", "Hash Batches", "HashAgg Batches", "Disk Usage", "Storage", "Workers"}
)
_RANK = {key: i for i, key in enumerate((*_CONDITIONS, *_BUFFERS))}
# node types whose name in TEXT format depends on other fields (see _operation)
_NAMED_WITH_FIELDS = frozenset(
    {"Aggregate", "ModifyTable", "SetOp", "Hash Join", "Merge Join", "Nested Loop", "Custom Scan"}
)
_TEXT_FIELDS = (
    "Relation Name",
    "Schema",
    "Alias",
    "Index Name",
    "Join Type",
    "Parent Relationship",
    "Subplan Name",
)
_TEXT_OR_NONE = frozenset({str, type(None)})
# frozensets: a set intersects one in C without first copying it (dict keys would be)
_BUFFER_KEYS = frozenset(_BUFFERS)
_REMOVED_KEYS = frozenset(_REMOVED)
_OPTIONAL = _CONDITION_KEYS | _BUFFER_KEYS | _REMOVED_KEYS | set(_TARGETS) | _SPILL_KEYS


def is_postgres_json(doc: Any) -> bool:
    """The shape of PostgreSQL's JSON: ``[{"Plan": {"Node Type": ...}}]`` or the object."""
    try:
        top = unwrap_postgres_json(doc)
    except PlanParseError:
        return False
    return isinstance(top.get("Plan"), dict) and "Node Type" in top["Plan"]


def unwrap_postgres_json(doc: Any) -> dict[str, Any]:
    """The top object of an ``EXPLAIN (FORMAT JSON)`` document."""
    if isinstance(doc, list) and len(doc) == 1:
        doc = doc[0]
    if isinstance(doc, dict) and "QUERY PLAN" in doc:  # a row as some clients export it
        return unwrap_postgres_json(doc["QUERY PLAN"])
    if not isinstance(doc, dict) or not isinstance(doc.get("Plan"), dict):
        raise PlanParseError(
            'not a PostgreSQL JSON plan: expected [{"Plan": {"Node Type": ...}}]',
            hint="paste the output of EXPLAIN (FORMAT JSON) ..., or the TEXT output as psql "
            "prints it",
        )
    return doc


def from_postgres_json(
    doc: Any, *, format: str = "postgresql-json", sql: str | None = None
) -> Plan:
    """Build the model from a PostgreSQL JSON document (a parsed ``EXPLAIN (FORMAT JSON)``)."""
    top = unwrap_postgres_json(doc)
    root_raw = top["Plan"]
    analyzed = "Actual Loops" in root_raw or "Actual Rows" in root_raw
    try:
        nodes = _build(root_raw, analyzed=analyzed)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanParseError(
            f"malformed PostgreSQL plan: {type(exc).__name__}: {exc}",
            hint="is the document complete? a truncated copy loses its closing brackets",
        ) from None
    plan = Plan(
        nodes[0],
        nodes=nodes,
        dialect="postgresql",
        format=format,
        raw=doc,
        analyzed=analyzed,
        planning_time_ms=_float(top.get("Planning Time")),
        execution_time_ms=_float(top.get("Execution Time", top.get("Total Runtime"))),
        # sections of another shape than PostgreSQL's are left out here (``raw`` keeps them)
        jit=jit if isinstance(jit := top.get("JIT"), dict) else None,
        triggers=[t for t in _list(top.get("Triggers")) if isinstance(t, dict)],
        settings={str(k): str(v) for k, v in settings.items()}
        if isinstance(settings := top.get("Settings"), dict)
        else {},
        sql=sql,
    )
    _exclusive_costs(plan)
    if analyzed:
        exclusive_times(plan)
    return plan


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _build(raw: dict[str, Any], *, analyzed: bool) -> list[PlanNode]:
    """All nodes in pre-order, numbered and linked (iterative: plans can be thousands of nodes
    deep)."""
    nodes: list[PlanNode] = []
    stack: list[tuple[dict[str, Any], PlanNode | None, float]] = [(raw, None, 1.0)]
    while stack:
        data, parent, divisor = stack.pop()
        node = _node(data, analyzed, divisor)
        node.id = len(nodes)
        nodes.append(node)
        if parent is not None:
            node.parent = parent
            node.depth = parent.depth + 1
            parent.children.append(node)
        plans = data.get("Plans")
        # what is not a list of nodes is no child of this one (``raw`` keeps it)
        children = [c for c in plans if isinstance(c, dict)] if isinstance(plans, list) else []
        if not children:
            continue
        parallel = _text(data["Node Type"]) in PARALLEL_ROOTS
        inside = _processes(data, children) if parallel else divisor
        for child in reversed(children):
            # a Gather's own InitPlans and SubPlans run in the leader, outside its section;
            # inside it, every node (SubPlans too) runs once in each process
            own = parallel and child.get("Parent Relationship") in ("InitPlan", "SubPlan")
            stack.append((child, node, divisor if own else inside))
    return nodes


def _processes(gather: dict[str, Any], children: list[dict[str, Any]]) -> float:
    """How many processes ran a Gather's section, on average per execution of the Gather.

    Each process runs the section's top node once per execution, so its loops say it exactly
    (the leader does not take part with ``parallel_leader_participation = off`` or a single-copy
    Gather); without loops, the workers launched and the leader.
    """
    top = next(
        (c for c in children if c.get("Parent Relationship") not in ("InitPlan", "SubPlan")),
        None,
    )
    loops = _float(top.get("Actual Loops")) if top is not None else None
    executions = _float(gather.get("Actual Loops"))
    if loops and executions:
        return max(1.0, loops / executions)
    launched = _float(gather.get("Workers Launched", gather.get("Workers Planned"))) or 0.0
    return max(1.0, launched + (0.0 if gather.get("Single Copy") else 1.0))


def _node(raw: dict[str, Any], analyzed: bool, divisor: float) -> PlanNode:
    get = raw.get
    # A number that PostgreSQL cannot print (NaN, negative loops, text) is missing, as PEV2 and
    # the engine's own JSON readers treat it: the node keeps what is valid, views show a gap.
    # (the checks of the commonest fields are written out: a call per field per node would
    # be a third of the parse)
    loops = get("Actual Loops")
    if loops.__class__ is not int or loops < 0:
        loops = _float(loops)
    total = get("Actual Total Time")
    if total.__class__ is not float or not 0.0 <= total < _INF:
        total = _float(total)
    startup_cost = get("Startup Cost")
    if startup_cost.__class__ is not float or not 0.0 <= startup_cost < _INF:
        startup_cost = _float(startup_cost)
    total_cost = get("Total Cost")
    if total_cost.__class__ is not float or not 0.0 <= total_cost < _INF:
        total_cost = _float(total_cost)
    # the text fields, read and checked in C-level passes (plans are big)
    texts = tuple(map(get, _TEXT_FIELDS))
    if not _TEXT_OR_NONE.issuperset(map(type, texts)):
        texts = tuple(value if type(value) is str else None for value in texts)
    relation, schema, alias, index, join_type, parent_relationship, subplan_name = texts
    node = PlanNode(
        operation=_operation(raw),
        relation=relation,
        schema=schema,
        alias=alias,
        index=index,
        join_type=join_type,
        startup_cost=startup_cost,
        total_cost=total_cost,
        width=_int(get("Plan Width")),
        workers_planned=_int(get("Workers Planned")),
        workers_launched=_int(get("Workers Launched")),
        parent_relationship=parent_relationship,
        subplan_name=subplan_name,
        raw=raw,
    )
    plan_rows = get("Plan Rows")
    if plan_rows.__class__ is not int or plan_rows < 0:
        plan_rows = _float(plan_rows)
    # one C-level set intersection finds the optional fields a node has (plans are big: a
    # dict lookup per possible field per node would dominate the parse)
    present = raw.keys() & _OPTIONAL
    if analyzed and loops is not None:
        loops = float(loops)  # row and time totals are floats, whatever the document held
        node.loops = loops
        node.never_executed = loops == 0
        rows = get("Actual Rows", 0.0)
        if rows.__class__ not in (int, float) or not 0 <= rows < _INF:
            rows = _float(rows)
        node.actual_rows = rows * loops if rows is not None else None
        node.estimated_rows = plan_rows * loops if plan_rows is not None else None
        if total is not None:
            node.inclusive_time_ms = total * loops / divisor
            startup = get("Actual Startup Time")
            if startup.__class__ is not float or not 0.0 <= startup < _INF:
                startup = _float(startup)
            node.startup_time_ms = startup
        for key in present & _REMOVED_KEYS:
            if (removed := _float(raw[key])) is not None:
                setattr(node, _REMOVED[key], removed * loops)
    elif plan_rows is not None:
        node.estimated_rows = float(plan_rows)
    if not present:
        return node
    for key in sorted(present & _CONDITION_KEYS, key=_RANK.__getitem__):  # stable order
        value = raw[key]
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        node.conditions[key] = str(value)
    # most counters are 0 and need no more than that look (plans are big)
    counted = [key for key in present & _BUFFER_KEYS if raw[key] != 0]
    for key in sorted(counted, key=_RANK.__getitem__) if len(counted) > 1 else counted:
        value = raw[key]
        if value.__class__ not in (int, float) or not 0 < value < _INF:
            value = _float(value)
        if value:
            name = _BUFFERS[key]
            node.buffers[name] = node.buffers.get(name, 0.0) + value
    for key in _TARGETS:
        if key in present and (target := _text(raw[key])):
            node.details["target"] = target
            break
    if present & _SPILL_KEYS:
        node.spill = _spill(raw)
    return node


def _operation(raw: dict[str, Any]) -> str:
    """The operation as PostgreSQL's TEXT format names it (what people recognise)."""
    node_type = raw["Node Type"]
    if type(node_type) is not str:
        node_type = str(node_type)
    label = _named_label(raw, node_type) if node_type in _NAMED_WITH_FIELDS else node_type
    if raw.get("Scan Direction") == "Backward":
        label += " Backward"
    if raw.get("Parallel Aware") is True:
        label = f"Parallel {label}"
    return label


def _named_label(raw: dict[str, Any], node_type: str) -> str:
    """The name of a node whose TEXT format name depends on other fields."""

    def get(key: str, default: str | None = None) -> str | None:
        value = raw.get(key, default)
        return value if isinstance(value, str) else None  # only text names an operation

    if node_type == "Aggregate":
        label = _AGGREGATE_LABELS.get(get("Strategy", "Plain") or "", "Aggregate")
        mode = get("Partial Mode")
        return f"{mode} {label}" if mode in ("Partial", "Finalize") else label
    if node_type == "ModifyTable":
        return get("Operation", node_type) or node_type
    if node_type == "SetOp":
        return ("HashSetOp" if get("Strategy") == "Hashed" else "SetOp") + (
            f" {get('Command')}" if get("Command") else ""
        )
    if node_type in ("Hash Join", "Merge Join", "Nested Loop"):
        join = get("Join Type")
        if not join or join == "Inner":
            return node_type
        if node_type == "Nested Loop":
            return f"Nested Loop {join} Join"
        return node_type.replace(" Join", f" {join} Join")
    provider = get("Custom Plan Provider")  # Custom Scan
    return f"Custom Scan ({provider})" if provider else node_type


def _spill(raw: dict[str, Any]) -> Spill | None:
    get = raw.get
    if get("Sort Space Type") == "Disk":
        used = _float(get("Sort Space Used"))
        return Spill(
            "sort",
            f"{get('Sort Method', 'external sort')}, {used or 0:,.0f} kB on disk",
            disk_kb=used,
        )
    batches = _int(get("Hash Batches"))
    if batches and batches > 1:
        original = get("Original Hash Batches")
        peak = get("Peak Memory Usage")
        return Spill(
            "hash",
            f"{batches} batches"
            + (f" (planned {original})" if original else "")
            + (f", peak memory {peak} kB" if peak is not None else ""),
            batches=batches,
        )
    agg_batches = _int(get("HashAgg Batches"))
    disk = _float(get("Disk Usage"))
    if (agg_batches and agg_batches > 1) or (disk and disk > 0):
        return Spill(
            "aggregate",
            f"{agg_batches or '?'} batches, {disk or 0:,.0f} kB on disk",
            disk_kb=disk,
            batches=agg_batches or None,
        )
    if get("Storage") == "Disk":
        used = _float(get("Maximum Storage"))
        return Spill("materialize", f"{used or 0:,.0f} kB on disk", disk_kb=used)
    return _workers_spill(get("Workers"))


def _workers_spill(workers: Any) -> Spill | None:
    """A sort that spilled in parallel workers (the leader's own fields say nothing of them,
    and a leader that does not participate has none)."""
    if not isinstance(workers, list):
        return None
    spilled = [w for w in workers if isinstance(w, dict) and w.get("Sort Space Type") == "Disk"]
    if not spilled:
        return None
    used = sum(_float(w.get("Sort Space Used")) or 0.0 for w in spilled)
    method = spilled[0].get("Sort Method", "external sort")
    return Spill(
        "sort",
        f"{method}, {used:,.0f} kB on disk in {len(spilled)} worker"
        + ("s" if len(spilled) != 1 else ""),
        disk_kb=used,
    )


def _exclusive_costs(plan: Plan) -> None:
    """A node's cost minus its children's (InitPlans included: their cost is in the total too)."""
    for node in plan.nodes:
        if node.total_cost is not None:
            below = sum(child.total_cost or 0.0 for child in node.children)
            node.exclusive_cost = max(0.0, node.total_cost - below)


def _float(value: Any) -> float | None:
    """A number PostgreSQL could have printed (finite, not negative); anything else is missing."""
    kind = type(value)
    if kind is int:  # the common cases first: plans are big
        return float(value) if value >= 0 else None
    if kind is float:
        return value if 0.0 <= value < math.inf else None  # NaN fails both comparisons
    if kind is str:
        try:
            return _float(float(value))
        except ValueError:
            return None
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    if value is None:  # the common cases first
        return None
    if type(value) is int:
        return value if value >= 0 else None
    number = _float(value)
    return int(number) if number is not None and number.is_integer() else None
