"""A plan as the plan views draw it: every number a node shows, computed once, formatted once.

The interactive view in the notebook (:mod:`workbench.ui.plan_view`, JavaScript) and the
report's static tree (:func:`workbench.plans.render.plan_to_html`) read the same facts, so a
node reads the same everywhere: its own time and share of the total (a bar: own time solid,
the rest of its subtree faint), rows estimated and actual with the misestimate factor (none
where the node stopped early: a LIMIT above it asked for fewer rows), loops, buffers, cost, and
its details as a readable table.

>>> import workbench as wb
>>> plan = wb.parse_plan("Seq Scan on t  (cost=0.00..1.00 rows=1 width=4) "
...                      "(actual time=0.010..0.020 rows=5 loops=1)")
>>> data = plan_data(plan)
>>> data["nodes"][0]["label"], data["nodes"][0]["rows"]
('Seq Scan on t', '1 → 5')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.plans.model import MISESTIMATE_THRESHOLD

if TYPE_CHECKING:
    from workbench.plans.model import Plan, PlanNode

__all__ = ["COMPACT_ABOVE", "node_facts", "plan_data"]

#: plans with more nodes than this open compact: one line per node, deep subtrees collapsed
COMPACT_ABOVE = 60
#: the hot path: nodes on the way to the most expensive ones, highlighted
_HOT_NODES = 3


def plan_data(plan: Plan) -> dict[str, Any]:
    """The plan as plain JSON-ready data: a header and one entry per node, in pre-order."""
    timed = plan.timed
    total = plan.total_time_ms if timed else None
    hot = {id(n) for n in plan.hot_path[:_HOT_NODES]}
    on_path: set[int] = set()
    for node in plan.hot_path[:_HOT_NODES]:
        walker: PlanNode | None = node
        while walker is not None:
            on_path.add(id(walker))
            walker = walker.parent
    max_cost = max((n.exclusive_cost or 0.0 for n in plan.nodes), default=0.0)
    nodes = []
    for node in plan.nodes:
        nodes.append(_node(plan, node, total, max_cost, id(node) in hot, id(node) in on_path))
    return {
        "dialect": plan.dialect,
        "headline": _headline(plan),
        "timed": timed,
        "analyzed": plan.analyzed,
        "total": fmt.milliseconds(total) if total is not None else None,
        "planning": fmt.milliseconds(plan.planning_time_ms)
        if plan.planning_time_ms is not None
        else None,
        "notes": list(plan.notes),
        "count": len(plan.nodes),
        "compact": len(plan.nodes) > COMPACT_ABOVE,
        "nodes": nodes,
    }


def _node(
    plan: Plan,
    node: PlanNode,
    total: float | None,
    max_cost: float,
    hot: bool,
    on_path: bool,
) -> dict[str, Any]:
    share = plan.share(node)
    inclusive_share = (
        min(1.0, (node.inclusive_time_ms or 0.0) / total)
        if total and node.inclusive_time_ms is not None
        else None
    )
    cost_share = (node.exclusive_cost or 0.0) / max_cost if max_cost else None
    miss = node.misestimate
    flags = []
    if miss is not None and miss.factor >= MISESTIMATE_THRESHOLD:
        flags.append(
            {
                "kind": "estimate",
                "text": f"{miss.arrow} {fmt.factor(miss.factor)}× rows",
                "title": f"{miss}: {fmt.rows(node.estimated_rows)} estimated, "
                f"{fmt.rows(node.actual_rows)} came",
            }
        )
    fewer = (node.actual_rows or 0.0) < (node.estimated_rows or 0.0)
    if node.stopped_early and node.actual_rows is not None and fewer:
        flags.append(
            {
                "kind": "muted",
                "text": "stopped early",
                "title": "its consumer (a LIMIT, a semi join) asked for fewer rows than it "
                "could produce: fewer rows than estimated is expected here",
            }
        )
    if node.spill is not None:
        flags.append(
            {"kind": "spill", "text": f"{node.spill.kind} spill", "title": node.spill.detail}
        )
    if node.never_executed:
        flags.append({"kind": "muted", "text": "never executed", "title": "it never ran"})
    return {
        "id": node.id,
        "parent": node.parent.id if node.parent is not None and not node.parent.synthetic else None,
        "depth": node.depth,
        "label": node.label,
        "operation": node.operation,
        "time": fmt.milliseconds(node.exclusive_time_ms)
        if node.exclusive_time_ms is not None
        else None,
        "share": share,
        "share_text": fmt.percent(share) if share is not None else None,
        "inclusive_share": inclusive_share,
        "cost_share": cost_share,
        "cost": f"{node.exclusive_cost:,.1f}" if node.exclusive_cost is not None else None,
        "rows": _rows(node),
        "loops": fmt.count(node.loops) if node.loops and node.loops > 1 else None,
        "buffers": _buffers(node),
        "flags": flags,
        "hot": hot,
        "on_path": on_path,
        "condition": _first_condition(node),
        "facts": node_facts(node),
    }


def _headline(plan: Plan) -> str:
    parts = [plan.dialect]
    if plan.total_time_ms is not None:
        parts.append(f"total {fmt.milliseconds(plan.total_time_ms)}")
    if plan.planning_time_ms is not None:
        parts.append(f"planning {fmt.milliseconds(plan.planning_time_ms)}")
    if plan.jit_time_ms:
        parts.append(f"JIT {fmt.milliseconds(plan.jit_time_ms)}")
    parts.append(f"{len(plan.nodes):,} nodes")
    if not plan.analyzed:
        parts.append("estimates only (no ANALYZE)")
    return " · ".join(parts)


def _rows(node: PlanNode) -> str | None:
    if node.actual_rows is None:
        return f"~{fmt.rows(node.estimated_rows)}" if node.estimated_rows is not None else None
    return f"{fmt.rows(node.estimated_rows)} → {fmt.rows(node.actual_rows)}"


def _buffers(node: PlanNode) -> str | None:
    hit, read = node.buffers.get("shared_hit"), node.buffers.get("shared_read")
    if not hit and not read:
        return None
    parts = []
    if hit:
        parts.append(f"hit {fmt.count(hit)}")
    if read:
        parts.append(f"read {fmt.count(read)}")
    return " · ".join(parts)


def _first_condition(node: PlanNode) -> str | None:
    for kind, condition in node.conditions.items():
        return fmt.clip(f"{kind}: {condition}", 160)
    return None


def node_facts(node: PlanNode) -> list[tuple[str, str]]:
    """A node's details as (label, value) rows a person reads: the model's numbers formatted,
    then the engine's own fields that say something (never a JSON dump)."""
    facts: list[tuple[str, str]] = []

    def add(label: str, value: Any) -> None:
        if value not in (None, "", [], {}):
            facts.append((label, str(value)))

    add("operation", node.operation)
    add("table", node.relation)
    add("index", node.index)
    add("join", node.join_type)
    for kind, condition in node.conditions.items():
        add(kind.lower() if kind[:1].isupper() else kind, condition)
    if node.exclusive_time_ms is not None:
        add("own time", fmt.milliseconds(node.exclusive_time_ms))
    if node.inclusive_time_ms is not None:
        add("with its children", fmt.milliseconds(node.inclusive_time_ms))
    add(
        "rows estimated", fmt.rows(node.estimated_rows) if node.estimated_rows is not None else None
    )
    add("rows actual", fmt.rows(node.actual_rows) if node.actual_rows is not None else None)
    miss = node.misestimate
    if miss is not None and miss.direction != "exact":
        add("estimate", str(miss))
    if node.stopped_early:
        add("estimate", "not judged: the node stopped early (fewer rows were asked for)")
    add("loops", fmt.count(node.loops) if node.loops is not None else None)
    add(
        "rows removed by filter",
        fmt.rows(node.rows_removed_by_filter) if node.rows_removed_by_filter else None,
    )
    for key, value in node.buffers.items():
        add(key.replace("_", " "), fmt.count(value) if isinstance(value, int | float) else value)
    if node.total_cost is not None:
        add("cost", f"{node.startup_cost or 0:,.2f} … {node.total_cost:,.2f}")
    if node.workers_planned is not None or node.workers_launched is not None:
        add("workers", f"{node.workers_launched} launched of {node.workers_planned} planned")
    if node.spill is not None:
        add("spill", node.spill.detail)
    if node.never_executed:
        add("executed", "never")
    for key, value in node.raw.items():
        if key in _SHOWN_ABOVE or key in node.conditions or isinstance(value, dict | list):
            continue
        add(key, _readable(value))
    return facts


#: engine fields the facts above already show, formatted (PostgreSQL's names)
_SHOWN_ABOVE = frozenset(
    {
        "Plans",
        "children",
        "Node Type",
        "Relation Name",
        "Index Name",
        "Join Type",
        "Startup Cost",
        "Total Cost",
        "Plan Rows",
        "Actual Startup Time",
        "Actual Total Time",
        "Actual Rows",
        "Actual Loops",
        "Rows Removed by Filter",
        "Shared Hit Blocks",
        "Shared Read Blocks",
        "Shared Dirtied Blocks",
        "Shared Written Blocks",
        "Local Hit Blocks",
        "Local Read Blocks",
        "Local Dirtied Blocks",
        "Local Written Blocks",
        "Temp Read Blocks",
        "Temp Written Blocks",
        "Workers Planned",
        "Workers Launched",
    }
)


def _readable(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return (
            f"{value:,.3f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{value:,.0f}"
        )
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
