"""The plan model on real engines, pasted plans of every engine, views, diff and bad input."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workbench as wb
from workbench.plans import from_dict

CORPUS = Path(__file__).resolve().parent / "data" / "pev2"

POSTGRES_QUERIES = {
    "seq scan": "SELECT * FROM orders WHERE user_id = 4242",
    "parallel aggregate": "SELECT count(*) FROM order_items WHERE quantity > 1",
    "nested loop with loops": "SELECT u.email, o.total_cents FROM users u "
    "JOIN orders o ON o.id = u.id WHERE u.id < 2000",
    "materialized cte read twice": "WITH big AS MATERIALIZED (SELECT user_id, count(*) c "
    "FROM orders GROUP BY user_id) SELECT (SELECT max(c) FROM big) m, count(*) FROM big b "
    "WHERE c > 5",
    "initplan parameter": "SELECT id FROM users u WHERE u.id = (SELECT max(user_id) FROM orders) "
    "OR u.account_id = 1 LIMIT 5",
    "correlated subplan": "SELECT u.id, (SELECT count(*) FROM events e WHERE e.user_id = u.id) "
    "FROM users u WHERE u.id < 300",
    "hash join and sort": "SELECT u.country, sum(o.total_cents) FROM orders o JOIN users u "
    "ON u.id = o.user_id WHERE o.status = 'pending' GROUP BY 1 ORDER BY 2 DESC",
}


def _json_node_count(node: dict) -> int:  # type: ignore[type-arg]
    return 1 + sum(_json_node_count(c) for c in node.get("Plans", []))


# -- PostgreSQL, captured ------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(POSTGRES_QUERIES))
def test_postgres_18_exclusive_times_add_up(embedded_session: wb.Session, name: str) -> None:
    plan = embedded_session.explain(POSTGRES_QUERIES[name], analyze=True)
    raw_plan = plan.raw[0]["Plan"]
    assert len(plan.nodes) == _json_node_count(raw_plan)
    assert plan.analyzed and plan.timed
    total = sum(n.exclusive_time_ms or 0.0 for n in plan.nodes)
    root = plan.root.inclusive_time_ms
    assert root is not None
    assert total == pytest.approx(root, rel=0.03, abs=0.05), plan.to_text()
    assert plan.total_time_ms is not None and plan.total_time_ms >= root * 0.98
    assert plan.planning_time_ms is not None
    assert plan.hot_path[0].exclusive_time_ms == max(n.exclusive_time_ms or 0 for n in plan.nodes)


def test_postgres_15_capture_and_settings(pg_url: str) -> None:
    s = wb.connect(pg_url)
    plan = s.explain(
        "SELECT * FROM orders o JOIN users u ON u.id = o.user_id WHERE o.id < 50",
        analyze=True,
        settings={"work_mem": "2MB"},
    )
    assert plan.dialect == "postgresql"
    assert plan.settings.get("work_mem") == "2MB"
    assert len(plan.nodes) == _json_node_count(plan.raw[0]["Plan"])
    assert any(n.buffers for n in plan.nodes)  # BUFFERS is on


def test_loops_multiply_times_and_rows(embedded_session: wb.Session) -> None:
    plan = embedded_session.explain(POSTGRES_QUERIES["correlated subplan"], analyze=True)
    looped = [n for n in plan.nodes if (n.loops or 0) > 1]
    assert looped
    for node in looped:
        raw = node.raw
        assert node.actual_rows == pytest.approx(raw["Actual Rows"] * raw["Actual Loops"])
        assert node.inclusive_time_ms == pytest.approx(
            raw["Actual Total Time"] * raw["Actual Loops"]
        )


def test_parallel_nodes_are_divided_by_processes(embedded_session: wb.Session) -> None:
    plan = embedded_session.explain(POSTGRES_QUERIES["parallel aggregate"], analyze=True)
    gather = next(n for n in plan.nodes if n.operation == "Gather")
    workers = gather.workers_launched
    assert workers is not None
    below = gather.children[0]
    raw = below.raw
    expected = raw["Actual Total Time"] * raw["Actual Loops"] / (workers + 1)
    assert below.inclusive_time_ms == pytest.approx(expected)
    assert below.actual_rows == pytest.approx(raw["Actual Rows"] * raw["Actual Loops"])


def test_cte_time_is_charged_to_its_scans(embedded_session: wb.Session) -> None:
    plan = embedded_session.explain(POSTGRES_QUERIES["materialized cte read twice"], analyze=True)
    cte = next(n for n in plan.nodes if (n.subplan_name or "").startswith("CTE"))
    root = plan.root
    assert cte.parent is root
    # the root did not spend the CTE's time: its exclusive time is small
    assert (root.exclusive_time_ms or 0) < 0.2 * (cte.inclusive_time_ms or 0)


def test_generic_plans_for_dollar_parameters(embedded_session: wb.Session, pg_url: str) -> None:
    for s in (embedded_session, wb.connect(pg_url)):
        generic = s.explain("SELECT * FROM orders WHERE user_id = $1")
        assert not generic.analyzed
        assert generic.root.total_cost
        with_values = s.explain(
            "SELECT * FROM orders WHERE user_id = $1 AND status = $2",
            analyze=True,
            params=[42, "it's pending"],
        )
        assert with_values.analyzed
        leftover = s.query("SELECT count(*) AS n FROM pg_prepared_statements").n.iloc[0]
        assert leftover == 0
    with pytest.raises(wb.QueryError, match="need values"):
        embedded_session.explain("SELECT * FROM orders WHERE id = $1", analyze=True)


def test_explain_refuses_an_explain(embedded_session: wb.Session) -> None:
    with pytest.raises(wb.UnsafeStatementError, match="without EXPLAIN"):
        embedded_session.explain("EXPLAIN SELECT 1")


# -- the other engines, captured -----------------------------------------------------------------
def test_mariadb_analyze(mariadb_url: str, table_name: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(mariadb_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table_name} (id INT PRIMARY KEY, g INT, v INT)"))
        conn.execute(text(f"INSERT INTO {table_name} SELECT seq, seq % 7, seq FROM seq_1_to_3000"))
    try:
        s = wb.connect(engine)
        sql = (
            f"SELECT a.g, count(*) FROM {table_name} a JOIN {table_name} b ON b.id = a.v "
            "WHERE a.v > 10 GROUP BY a.g ORDER BY 2 DESC"
        )
        plan = s.explain(sql, analyze=True)
        assert plan.dialect == "mariadb" and plan.analyzed
        tables = [n for n in plan.nodes if n.relation == table_name]
        assert len(tables) == 2  # one node per table access, named by table, aliases kept
        assert {n.alias for n in tables} == {"a", "b"}
        lookup = next(n for n in tables if n.alias == "b")
        assert lookup.loops == pytest.approx(2990)
        assert lookup.actual_rows == pytest.approx(2990)
        total = sum(n.exclusive_time_ms or 0 for n in plan.nodes)
        assert total == pytest.approx(plan.total_time_ms, rel=0.02)
        estimated = s.explain(sql)
        assert not estimated.analyzed and len(estimated.nodes) == len(plan.nodes)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {table_name}"))


def test_sqlite_plan_matches_the_engine_and_times_the_statement(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, g INT, v TEXT)")
        conn.execute("CREATE INDEX t_g ON t (g)")
        conn.executemany(
            "INSERT INTO t VALUES (?, ?, ?)", [(i, i % 10, str(i)) for i in range(5000)]
        )
    sql = "SELECT a.g, count(*) FROM t a JOIN t b ON b.id = a.id + 1 WHERE a.g = 3 GROUP BY a.g ORDER BY 2"
    with sqlite3.connect(path) as conn:
        engine_rows = conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
    s = wb.connect(f"sqlite:///{path}")
    plan = s.explain(sql)
    assert len(plan.nodes) == len(engine_rows)
    assert [n.raw["detail"] for n in plan.nodes] == [r[-1] for r in engine_rows]
    search = next(n for n in plan.nodes if n.index == "t_g")
    assert search.relation == "t" and search.alias == "a"
    timed = s.explain(sql, analyze=True)
    assert timed.analyzed and timed.root.inclusive_time_ms and timed.root.inclusive_time_ms > 0
    assert timed.total_time_ms == timed.root.inclusive_time_ms
    assert timed.root.actual_rows == 1


def test_duckdb_plan_matches_the_engine(tmp_path: Path) -> None:
    path = tmp_path / "t.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE t AS SELECT range AS id, range % 10 AS g FROM range(100000)")
    sql = "SELECT g, count(*) FROM t WHERE id > 10 GROUP BY g ORDER BY g"
    s = wb.connect(f"duckdb:///{path}")
    plan = s.explain(sql, analyze=True)
    document = plan.raw

    def count(ops: list) -> int:  # type: ignore[type-arg]
        return sum(1 + count(op.get("children", [])) for op in ops)

    assert len(plan.nodes) == count(document["operator"])
    timings = sum(n.raw.get("timing", 0.0) for n in plan.nodes) * 1000
    assert plan.root.inclusive_time_ms == pytest.approx(timings)
    scan = next(n for n in plan.nodes if n.relation == "t")
    assert scan.actual_rows is not None and scan.estimated_rows is not None
    estimated = s.explain(sql)
    assert not estimated.analyzed and estimated.nodes


# -- pasted plans of every engine ----------------------------------------------------------------
MYSQL_JSON = {
    "query_block": {
        "select_id": 1,
        "cost_info": {"query_cost": "1.45"},
        "nested_loop": [
            {
                "table": {
                    "table_name": "o",
                    "access_type": "ALL",
                    "possible_keys": ["PRIMARY"],
                    "rows_examined_per_scan": 12,
                    "rows_produced_per_join": 1,
                    "filtered": "10.00",
                    "cost_info": {"read_cost": "1.21", "eval_cost": "0.12", "prefix_cost": "1.33"},
                    "attached_condition": "(`shop`.`o`.`status` = 'pending')",
                }
            },
            {
                "table": {
                    "table_name": "u",
                    "access_type": "eq_ref",
                    "key": "PRIMARY",
                    "ref": ["shop.o.user_id"],
                    "rows_examined_per_scan": 1,
                    "rows_produced_per_join": 1,
                    "filtered": "100.00",
                    "cost_info": {"read_cost": "0.10", "eval_cost": "0.02", "prefix_cost": "1.45"},
                }
            },
        ],
    }
}
MYSQL_TREE = """\
-> Limit: 10 row(s)  (cost=4.95 rows=9) (actual time=0.153..0.200 rows=3 loops=1)
    -> Nested loop inner join  (cost=4.95 rows=9) (actual time=0.150..0.196 rows=3 loops=1)
        -> Filter: (o.`status` = 'pending')  (cost=1.20 rows=3) (actual time=0.020..0.030 rows=3 loops=1)
            -> Table scan on o  (cost=1.20 rows=12) (actual time=0.018..0.026 rows=12 loops=1)
        -> Single-row index lookup on u using PRIMARY (id=o.user_id)  (cost=0.93 rows=1) (actual time=0.045..0.050 rows=1 loops=3)
"""
SQLITE_SHELL = """\
QUERY PLAN
|--SCAN o
|--SEARCH u USING INTEGER PRIMARY KEY (rowid=?)
`--USE TEMP B-TREE FOR ORDER BY
"""
DUCKDB_JSON = [
    {
        "name": "PROJECTION",
        "extra_info": {"Estimated Cardinality": "3"},
        "children": [
            {
                "name": "SEQ_SCAN",
                "extra_info": {
                    "Table": "shop.main.orders",
                    "Filters": "status='pending'",
                    "Estimated Cardinality": "3",
                },
                "children": [],
            }
        ],
    }
]


def test_pasted_mysql_json() -> None:
    plan = wb.parse_plan(json.dumps(MYSQL_JSON), dialect="mysql")
    assert plan.format == "mysql-json" and not plan.analyzed
    assert [n.relation for n in plan.nodes if n.relation] == ["o", "u"]
    assert plan.nodes[1].operation == "Table Scan"
    assert plan.nodes[1].conditions["Filter"].startswith("(`shop`")


def test_pasted_mysql_tree_multiplies_loops() -> None:
    plan = wb.parse_plan(
        MYSQL_TREE,
        dialect="mysql",
        sql="SELECT * FROM orders o JOIN users u "
        "ON u.id = o.user_id WHERE o.status = 'pending' LIMIT 10",
    )
    assert plan.format == "mysql-tree" and plan.analyzed and len(plan.nodes) == 5
    lookup = plan.nodes[-1]
    assert lookup.relation == "users" and lookup.alias == "u" and lookup.index == "PRIMARY"
    assert lookup.inclusive_time_ms == pytest.approx(0.150) and lookup.actual_rows == 3
    assert plan.nodes[2].conditions["Filter"] == "(o.`status` = 'pending')"
    assert sum(n.exclusive_time_ms or 0 for n in plan.nodes) == pytest.approx(0.200)


def test_pasted_sqlite_shell_output() -> None:
    plan = wb.parse_plan(SQLITE_SHELL, dialect="sqlite")
    assert len(plan.nodes) == 3 and plan.root.synthetic
    assert plan.nodes[1].index == "INTEGER PRIMARY KEY"


def test_pasted_duckdb_json() -> None:
    plan = wb.parse_plan(DUCKDB_JSON, dialect="duckdb")
    assert plan.nodes[1].relation == "orders" and plan.nodes[1].estimated_rows == 3


def test_pasted_postgres_json_and_text_agree() -> None:
    folder = CORPUS / "11-psql-frames"
    text_plan = wb.parse_plan(
        (folder / "text-0-unaligned-ascii-double-double-double.plan").read_text()
    )
    json_plan = wb.parse_plan(
        (folder / "json-0-unaligned-ascii-double-double-double.plan").read_text()
    )
    assert text_plan.format == "postgresql-text" and json_plan.format == "postgresql-json"
    for a, b in zip(text_plan.nodes, json_plan.nodes, strict=True):
        assert (a.operation, a.relation, a.actual_rows, a.loops) == (
            b.operation,
            b.relation,
            b.actual_rows,
            b.loops,
        )
        assert a.conditions == b.conditions  # two runs of one query: times differ, not the tree


@pytest.mark.parametrize(
    ("source", "dialect", "message"),
    [
        (MYSQL_JSON, "postgresql", "looks like a mysql plan"),
        (MYSQL_TREE, "postgresql", "looks like a mysql plan"),
        (SQLITE_SHELL, "duckdb", "looks like a sqlite plan"),
        ([{"Plan": {"Node Type": "Result"}}], "mysql", "looks like a postgresql plan"),
    ],
)
def test_a_plan_of_another_dialect_is_refused(source: object, dialect: str, message: str) -> None:
    with pytest.raises(wb.PlanParseError, match=message):
        wb.parse_plan(source, dialect=dialect)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("", "empty"),
        ("   \n  ", "empty"),
        ('[{"Plan": {"Node Type": "Seq Scan", "Plans": [', "does not parse"),
        ("hello, this is not a plan", "PostgreSQL"),
        ('{"some": "json"}', "unknown shape"),
        ([1, 2, 3], "unknown shape"),
    ],
)
def test_bad_input_says_what_was_expected(source: object, message: str) -> None:
    with pytest.raises(wb.PlanParseError, match=message):
        wb.parse_plan(source)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_random_text_raises_only_plan_parse_error(text: str) -> None:
    with contextlib.suppress(wb.PlanParseError):
        wb.parse_plan(text)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Plan",
                    "Node Type",
                    "Plans",
                    "Actual Loops",
                    "Actual Total Time",
                    "Plan Rows",
                    "query_block",
                    "table",
                    "children",
                    "name",
                    "id",
                    "parent",
                    "detail",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_json_values, st.sampled_from([None, "postgresql", "mysql", "mariadb", "sqlite", "duckdb"]))
def test_random_documents_raise_only_plan_parse_error(doc: object, dialect: str | None) -> None:
    for source in (doc, json.dumps(doc)):
        with contextlib.suppress(wb.PlanParseError):
            wb.parse_plan(source, dialect=dialect)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=2000))
def test_truncated_real_plans_raise_only_plan_parse_error(cut: int) -> None:
    text = (
        CORPUS / "11-psql-frames" / "json-0-unaligned-ascii-double-double-double.plan"
    ).read_text()
    for source in (text[:cut], text[-cut:]):
        with contextlib.suppress(wb.PlanParseError):
            wb.parse_plan(source)


# -- views -----------------------------------------------------------------------------------------
HOSTILE = [
    {
        "Plan": {
            "Node Type": "Seq Scan",
            "Relation Name": "<img src=x onerror=alert(1)>",
            "Alias": "</script><script>alert(2)</script>",
            "Startup Cost": 0,
            "Total Cost": 10,
            "Plan Rows": 1,
            "Plan Width": 4,
            "Actual Startup Time": 0.1,
            "Actual Total Time": 0.5,
            "Actual Rows": 40,
            "Actual Loops": 1,
            "Filter": "(name = '<b onmouseover=x>')",
        },
        "Execution Time": 0.6,
    }
]


def test_html_view_escapes_everything() -> None:
    html = wb.parse_plan(HOSTILE).to_html()
    assert "<img" not in html and "<script>" not in html and "<b onmouseover" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "40× rows" in html  # the misestimate is flagged


def test_text_and_frame_views(embedded_session: wb.Session) -> None:
    plan = embedded_session.explain(POSTGRES_QUERIES["materialized cte read twice"], analyze=True)
    text = plan.to_text()
    assert text.splitlines()[0].startswith("postgresql · total")
    assert "#0 Aggregate" in text and "CTE Scan on big" in text and "%" in text
    frame = plan.to_frame()
    assert len(frame) == len(plan.nodes)
    assert {"exclusive_time_ms", "inclusive_time_ms", "share", "misestimate_factor"} <= set(frame)
    assert frame.share.sum() == pytest.approx(1.0)


def test_misestimate_arrows_in_text() -> None:
    text = wb.parse_plan(HOSTILE).to_text()
    assert "▲40×" in text


def test_misestimate_is_judged_per_loop() -> None:
    # an inner index lookup estimated at 1 row, finding nothing in 100,000 loops: no misestimate
    doc = [
        {
            "Plan": {
                "Node Type": "Nested Loop",
                "Join Type": "Inner",
                "Plan Rows": 100,
                "Actual Rows": 0,
                "Actual Loops": 1,
                "Actual Total Time": 80.0,
                "Plans": [
                    {
                        "Node Type": "Seq Scan",
                        "Relation Name": "a",
                        "Parent Relationship": "Outer",
                        "Plan Rows": 100000,
                        "Actual Rows": 100000,
                        "Actual Loops": 1,
                        "Actual Total Time": 10.0,
                    },
                    {
                        "Node Type": "Index Scan",
                        "Relation Name": "b",
                        "Index Name": "b_pkey",
                        "Parent Relationship": "Inner",
                        "Plan Rows": 1,
                        "Actual Rows": 0,
                        "Actual Loops": 100000,
                        "Actual Total Time": 0.0005,
                    },
                ],
            },
            "Execution Time": 81.0,
        }
    ]
    plan = wb.parse_plan(doc)
    inner = plan.nodes[2]
    assert inner.misestimate is not None and inner.misestimate.factor == 1.0
    assert plan.misestimated() == [plan.nodes[0]]  # 100 estimated, 0 found: that one is real


def test_diff_before_and_after_an_index(embedded_session: wb.Session) -> None:
    sql = "SELECT * FROM orders WHERE user_id = 4242"
    before = embedded_session.explain(sql, analyze=True)
    with embedded_session.sandbox() as tx:
        tx.execute("CREATE INDEX wb_test_orders_user ON orders (user_id)")
        rows = tx.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql).rows
    after = wb.parse_plan(rows[0][0])
    diff = before.diff(after)
    assert diff.time_ratio is not None and diff.time_ratio < 0.5
    assert "faster" in diff.verdict
    changed = " ".join(diff.changed_operations)
    assert "Seq Scan on orders →" in changed and "wb_test_orders_user" in changed
    assert len(diff.to_frame()) >= len(after.nodes)


def test_diff_calls_a_small_change_about_the_same() -> None:
    def timed(ms: float) -> wb.Plan:
        node = {
            "Node Type": "Seq Scan",
            "Relation Name": "t",
            "Plan Rows": 10,
            "Actual Rows": 10,
            "Actual Loops": 1,
            "Actual Total Time": ms,
        }
        return wb.parse_plan([{"Plan": node, "Execution Time": ms}])

    assert timed(10.0).diff(timed(10.5)).direction == "same"
    assert "about the same" in timed(10.0).diff(timed(9.4)).verdict
    assert timed(10.0).diff(timed(4.0)).direction == "faster"
    assert "2.5× slower" in timed(4.0).diff(timed(10.0)).verdict


def test_round_trip_through_to_dict(embedded_session: wb.Session, tmp_path: Path) -> None:
    plans = [
        embedded_session.explain(POSTGRES_QUERIES["hash join and sort"], analyze=True),
        wb.parse_plan((CORPUS / "from-text" / "01-plan").read_text()),
        wb.parse_plan(MYSQL_TREE, dialect="mysql"),
        wb.parse_plan(SQLITE_SHELL, dialect="sqlite"),
    ]
    sqlite_session = wb.connect(f"sqlite:///{tmp_path / 'x.sqlite'}")
    plans.append(sqlite_session.explain("SELECT 1", analyze=True))
    for plan in plans:
        again = from_dict(json.loads(json.dumps(plan.to_dict())))
        assert [n.label for n in again.nodes] == [n.label for n in plan.nodes]
        assert (
            again.total_time_ms == pytest.approx(plan.total_time_ms)
            if plan.total_time_ms
            else again.total_time_ms is None
        )


def test_big_plan_parses_within_budget() -> None:
    from benchmarks.plan_fixtures import big_postgres_plan

    plan = wb.parse_plan(big_postgres_plan(2_000))
    assert len(plan.nodes) == 2_000
    assert sum(n.exclusive_time_ms or 0 for n in plan.nodes) == pytest.approx(
        plan.root.inclusive_time_ms, rel=0.01
    )
    deep = {"Node Type": "Result", "Total Cost": 1.0}
    top = deep
    for _ in range(3000):  # a 3,000-deep chain must not hit recursion limits anywhere
        top = {"Node Type": "Limit", "Total Cost": 1.0, "Plans": [top]}
    chain = wb.parse_plan([{"Plan": top}])
    assert len(chain.nodes) == 3001
    assert chain.to_text().count("\n") >= 3000
    assert "Result" in chain.to_html()


def test_a_sort_that_spills_in_parallel_workers_is_a_spill() -> None:
    """The leader's own fields say nothing of its workers' sorts (and a leader that does not
    participate has none): each worker's Sort Space Type counts."""
    sort = {
        "Node Type": "Sort",
        "Actual Rows": 100000,
        "Actual Loops": 4,
        "Workers": [
            {
                "Worker Number": n,
                "Sort Method": "external merge",
                "Sort Space Used": 900,
                "Sort Space Type": "Disk",
            }
            for n in range(4)
        ]
        + [
            {
                "Worker Number": 4,
                "Sort Method": "quicksort",
                "Sort Space Used": 25,
                "Sort Space Type": "Memory",
            }
        ],
    }
    document = [{"Plan": {"Node Type": "Gather Merge", "Workers Launched": 5, "Plans": [sort]}}]
    plan = wb.parse_plan(json.dumps(document))
    (spilled,) = [n for n in plan.nodes if n.spill]
    assert spilled.operation == "Sort" and spilled.spill is not None
    assert spilled.spill.disk_kb == 3600 and "4 workers" in spilled.spill.detail
    quiet = dict(sort, Workers=[dict(w, **{"Sort Space Type": "Memory"}) for w in sort["Workers"]])
    document[0]["Plan"]["Plans"] = [quiet]
    assert not [n for n in wb.parse_plan(json.dumps(document)).nodes if n.spill]
