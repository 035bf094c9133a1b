"""DuckDB ``EXPLAIN (FORMAT json)`` and ``EXPLAIN (ANALYZE, FORMAT json)`` → :class:`Plan`.

DuckDB reports each operator's own time (``timing``, seconds, summed over threads), so the
exclusive time is the engine's number and the inclusive time is summed up the tree. Because
operators run on several threads at once, the sum can exceed the query's wall-clock time
(``plan.total_time_ms``); the plan says so in ``plan.notes``. Both the 1.x profile layout
(``operator_name``/``operator_timing``/``operator_cardinality``) and the 2.x one
(``name``/``timing``/``intermediate_rows`` under ``operator``) are read.
"""

from __future__ import annotations

from typing import Any

from workbench.errors import PlanParseError
from workbench.plans.model import Plan, PlanNode

__all__ = ["from_duckdb_json", "is_duckdb_json"]

_CONDITIONS = {
    "Filters": "Filter",
    "Expression": "Filter",
    "Conditions": "Join Cond",
    "Dynamic Filters": "Dynamic Filter",
}


def is_duckdb_json(doc: Any) -> bool:
    if isinstance(doc, list) and doc and isinstance(doc[0], dict):
        return "children" in doc[0] and ("name" in doc[0] or "operator_name" in doc[0])
    if isinstance(doc, dict):
        return "operator" in doc or (
            "children" in doc and ("timing" in doc or "latency" in doc or "result" in doc)
        )
    return False


def from_duckdb_json(doc: Any, *, sql: str | None = None) -> Plan:
    """Build the model from DuckDB's JSON plan or profile."""
    if not is_duckdb_json(doc):
        raise PlanParseError(
            "not a DuckDB JSON plan: expected operators with 'name' and 'children'",
            hint="paste the output of EXPLAIN (FORMAT json) or EXPLAIN (ANALYZE, FORMAT json)",
        )
    if isinstance(doc, list):
        tops, analyzed = doc, False
    else:
        tops = doc.get("operator") or doc.get("children") or []
        analyzed = True
    try:
        nodes = [_build(top, analyzed) for top in tops if isinstance(top, dict)]
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise PlanParseError(f"malformed DuckDB plan: {exc}") from None
    if not nodes:
        raise PlanParseError("the DuckDB plan has no operators")
    root = (
        nodes[0] if len(nodes) == 1 else PlanNode(operation="QUERY", children=nodes, synthetic=True)
    )
    if analyzed:
        for node in reversed(list(root.walk())):
            node.inclusive_time_ms = (node.exclusive_time_ms or 0.0) + sum(
                c.inclusive_time_ms or 0.0 for c in node.children
            )
    query = doc.get("query") if isinstance(doc, dict) else None
    total = _seconds(
        (query or {}).get("total_time", doc.get("latency") if isinstance(doc, dict) else None)
    )
    planner = doc.get("planner") if isinstance(doc, dict) else None
    notes = []
    if analyzed and total and root.inclusive_time_ms and root.inclusive_time_ms > total * 1.05:
        notes.append(
            f"operator times add up to {root.inclusive_time_ms:.1f} ms of CPU time over "
            f"several threads; the query took {total:.1f} ms of wall-clock time"
        )
    plan = Plan(
        root,
        dialect="duckdb",
        format="duckdb-json",
        raw=doc,
        analyzed=analyzed,
        execution_time_ms=total,
        planning_time_ms=_seconds((planner or {}).get("total_time")),
        sql=sql,
        notes=notes,
    )
    return plan


def _build(data: dict[str, Any], analyzed: bool) -> PlanNode:
    root = _node(data, analyzed)
    stack = [(root, data)]
    while stack:
        node, raw = stack.pop()
        for child_raw in raw.get("children") or ():
            child = _node(child_raw, analyzed)
            node.children.append(child)
            stack.append((child, child_raw))
    return root


def _node(data: dict[str, Any], analyzed: bool) -> PlanNode:
    name = str(data.get("name", data.get("operator_name", data.get("operator_type", "?")))).strip()
    extra = data.get("extra_info") or {}
    if isinstance(extra, str):  # DuckDB 1.0 printed extra_info as one text block
        extra = {"Info": extra}
    node = PlanNode(operation=name, raw=data)
    table = extra.get("Table")
    if table:
        parts = str(table).split(".")
        node.relation = parts[-1]
        node.schema = parts[-2] if len(parts) >= 2 and parts[-2] != "main" else None
    if extra.get("Join Type"):
        node.join_type = str(extra["Join Type"]).title()
    for key, label in _CONDITIONS.items():
        value = extra.get(key)
        if value:
            node.conditions[label] = (
                value if isinstance(value, str) else " AND ".join(map(str, value))
            )
    estimate = extra.get("Estimated Cardinality", extra.get("EC"))
    if estimate not in (None, ""):
        node.estimated_rows = float(str(estimate).lstrip("~"))
    if analyzed:
        rows = data.get(
            "intermediate_rows", data.get("operator_cardinality", data.get("cardinality"))
        )
        node.actual_rows = float(rows) if rows is not None else None
        node.loops = 1.0
        timing = data.get("timing", data.get("operator_timing"))
        node.exclusive_time_ms = float(timing) * 1000.0 if timing is not None else None
        scanned = data.get("rows_scanned", data.get("operator_rows_scanned"))
        if scanned is not None:
            node.details["rows_scanned"] = int(scanned)
            if node.actual_rows is not None and node.conditions.get("Filter"):
                node.rows_removed_by_filter = max(0.0, float(scanned) - node.actual_rows)
    return node


def _seconds(value: Any) -> float | None:
    return float(value) * 1000.0 if value is not None else None
