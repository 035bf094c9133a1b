"""The plan view's facts: the same for every engine's plans, formatted once, escaped, and honest
about estimates (a node a LIMIT stopped early is not "overestimated")."""

from __future__ import annotations

import json
import re

import workbench as wb
from workbench.plans.view_data import plan_data
from workbench.ui.plan_view import PlanView, diff_data

LIMITED = """\
Limit  (cost=0.00..1.65 rows=10 width=8) (actual time=0.010..0.012 rows=10 loops=1)
  ->  Seq Scan on users  (cost=0.00..1650.00 rows=1650 width=8) (actual time=0.009..0.010 rows=10 loops=1)
        Filter: (id > 5)
"""
UNDER = """\
Hash Join  (cost=1.00..50.00 rows=10 width=8) (actual time=0.5..9.0 rows=9000 loops=1)
  Hash Cond: (o.user_id = u.id)
  ->  Seq Scan on orders o  (cost=0.00..30.00 rows=10 width=8) (actual time=0.01..4.0 rows=9000 loops=1)
  ->  Hash  (cost=1.00..1.00 rows=5 width=4) (actual time=0.2..0.2 rows=5 loops=1)
        ->  Seq Scan on users u  (cost=0.00..1.00 rows=5 width=4) (actual time=0.01..0.1 rows=5 loops=1)
"""


def test_a_node_a_limit_stopped_is_not_flagged() -> None:
    plan = wb.parse_plan(LIMITED)
    scan = plan.nodes[1]
    assert scan.stopped_early and scan.misestimate is None
    data = plan_data(plan)["nodes"][1]
    assert [f["kind"] for f in data["flags"]] == ["muted"]  # "stopped early", not "▼165×"
    assert "▼" not in plan.to_text() and "misestimate" not in [
        f.code for f in wb.analyze(wb.Evidence(dialect="postgresql", plans=[plan]))
    ]


def test_a_real_underestimate_is_flagged_once() -> None:
    plan = wb.parse_plan(UNDER)
    flagged = [
        n for n in plan_data(plan)["nodes"] if any(f["kind"] == "estimate" for f in n["flags"])
    ]
    assert [n["label"] for n in flagged] == ["Hash Join", "Seq Scan on orders o"]
    assert all(len(n["flags"]) == 1 for n in flagged)
    assert flagged[0]["flags"][0]["text"] == "▲ 900× rows"


def test_facts_read_as_a_table_not_a_dump() -> None:
    node = plan_data(wb.parse_plan(UNDER))["nodes"][0]
    facts = dict(node["facts"])
    assert facts["own time"].endswith("ms") and facts["rows actual"] == "9,000"
    assert facts["hash cond"] == "(o.user_id = u.id)"
    for label, value in node["facts"]:
        assert not value.startswith("{") and "\\u" not in value, (label, value)
        assert not re.search(r"\d\.\d{7,}", value), (label, value)  # no float artefacts


def test_every_engine_draws(any_url: str) -> None:
    s = wb.connect(any_url)
    with s.engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE wbv_t (id INTEGER PRIMARY KEY, v INTEGER)")
    try:
        plan = s.explain("SELECT v, count(*) FROM wbv_t WHERE v > 3 GROUP BY v", analyze=True)
        data = plan_data(plan)
        assert data["nodes"] and all(n["label"] for n in data["nodes"])
        json.dumps(data)  # plain data for the front end
        view = PlanView.of(plan)
        assert view.data["count"] == len(plan.nodes)
        html = plan.to_html()
        assert "wb-bar" in html and "<script" not in html
    finally:
        with s.engine.begin() as c:
            c.exec_driver_sql("DROP TABLE wbv_t")


def test_text_from_the_database_is_escaped_in_the_static_tree() -> None:
    plan = wb.parse_plan(UNDER.replace("(o.user_id = u.id)", "(o.note = '<script>x</script>')"))
    html = plan.to_html()
    assert "<script>x" not in html and "&lt;script&gt;x" in html


def test_a_diff_pairs_the_nodes() -> None:
    before = wb.parse_plan(UNDER)
    after = wb.parse_plan(
        UNDER.replace("Seq Scan on orders o", "Index Scan using o_idx on orders o")
    )
    data = diff_data(before.diff(after))
    assert data["kind"] == "diff" and data["before"]["nodes"] and data["after"]["nodes"]
    assert [0, 0] in data["pairs"]
