"""Plan views: an indented text tree, a DataFrame, and a collapsible HTML tree.

The HTML is self-contained (inline styles, no script, no external resource) and every string
that came from the database is escaped, so it is safe in a notebook and in an exported report.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.plans.model import MISESTIMATE_THRESHOLD, Plan, PlanNode

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["plan_to_frame", "plan_to_html", "plan_to_text"]


def _branches(plan: Plan) -> list[tuple[PlanNode, str]]:
    """(node, tree prefix) for every node in pre-order, synthetic ones included."""
    out: list[tuple[PlanNode, str]] = []
    stack: list[tuple[PlanNode, str, str]] = [(plan.root, "", "")]
    while stack:
        node, prefix, child_prefix = stack.pop()
        out.append((node, prefix))
        for i, child in enumerate(reversed(node.children)):
            last = i == 0
            stack.append(
                (
                    child,
                    child_prefix + ("└─ " if last else "├─ "),
                    child_prefix + ("   " if last else "│  "),
                )
            )
    return out


def _rows_text(node: PlanNode) -> str:
    estimate, actual = node.estimated_rows, node.actual_rows
    if actual is None:
        return f"rows ~{fmt.rows(estimate)}" if estimate is not None else ""
    text = f"rows {fmt.rows(estimate)}→{fmt.rows(actual)}"
    miss = node.misestimate
    if miss and miss.factor >= MISESTIMATE_THRESHOLD:
        text += f" {miss.arrow}{miss.factor:,.0f}×"
    return text


def plan_to_text(plan: Plan, *, color: bool = False) -> str:
    """The tree, one node per line: ``#id label  exclusive  share  rows est→actual ▲factor``."""
    timed = plan.timed
    lines = [_headline(plan)]
    entries = _branches(plan)
    labels = [
        f"{prefix}{'' if node.synthetic else f'#{node.id} '}{node.label}"
        for node, prefix in entries
    ]
    width = min(max(len(label) for label in labels) + 2, 90)
    for (node, _), label in zip(entries, labels, strict=True):
        if len(label) > width:
            label = label[: width - 1] + "…"
        parts = [label.ljust(width)]
        share = plan.share(node) if not node.synthetic else None
        if timed:
            parts.append(f"{fmt.milliseconds(node.exclusive_time_ms):>11}")
        elif node.exclusive_cost is not None:
            parts.append(f"cost {node.exclusive_cost:>10,.1f}")
        parts.append(f"{share:>4.0%}" if share is not None else "    ")
        parts.append(_rows_text(node))
        if node.loops and node.loops > 1:
            parts.append(f"loops {node.loops:,.0f}")
        if node.spill:
            parts.append(f"spill: {node.spill.kind}")
        if node.never_executed:
            parts.append("(never executed)")
        line = "  ".join(p for p in parts if p).rstrip()
        if color and share is not None and share >= 0.3:
            line = f"\033[1;31m{line}\033[0m"
        lines.append(line)
    if plan.notes:
        lines.extend(f"note: {note}" for note in plan.notes)
    legend = (
        "▲ more rows than estimated, ▼ fewer" if any("▲" in ln or "▼" in ln for ln in lines) else ""
    )
    if legend:
        lines.append(legend)
    return "\n".join(lines)


def _headline(plan: Plan) -> str:
    parts = [plan.dialect]
    if plan.total_time_ms is not None:
        parts.append(f"total {fmt.milliseconds(plan.total_time_ms)}")
    if plan.planning_time_ms is not None:
        parts.append(f"planning {fmt.milliseconds(plan.planning_time_ms)}")
    if plan.jit_time_ms:
        parts.append(f"JIT {fmt.milliseconds(plan.jit_time_ms)}")
    if plan.triggers:
        parts.append(f"triggers {fmt.milliseconds(plan.trigger_time_ms)}")
    parts.append(f"{len(plan.nodes)} nodes")
    if not plan.analyzed:
        parts.append("estimates only (no ANALYZE)")
    return " · ".join(parts)


def plan_to_frame(plan: Plan) -> pd.DataFrame:
    """One row per node (pre-order), with the model's numbers and the share of the total."""
    import pandas as pd

    rows = []
    for node in plan.nodes:
        miss = node.misestimate
        rows.append(
            {
                "id": node.id,
                "parent_id": node.parent.id if node.parent and not node.parent.synthetic else None,
                "depth": node.depth,
                "operation": node.operation,
                "relation": node.relation,
                "alias": node.alias,
                "index": node.index,
                "join_type": node.join_type,
                "estimated_rows": node.estimated_rows,
                "actual_rows": node.actual_rows,
                "loops": node.loops,
                "inclusive_time_ms": node.inclusive_time_ms,
                "exclusive_time_ms": node.exclusive_time_ms,
                "share": plan.share(node),
                "misestimate_factor": miss.factor if miss else None,
                "misestimate_direction": miss.direction if miss else None,
                "rows_removed_by_filter": node.rows_removed_by_filter,
                "total_cost": node.total_cost,
                "exclusive_cost": node.exclusive_cost,
                "shared_hit": node.buffers.get("shared_hit"),
                "shared_read": node.buffers.get("shared_read"),
                "temp_written": node.buffers.get("temp_written"),
                "spill": node.spill.detail if node.spill else None,
                "conditions": "; ".join(f"{k}: {v}" for k, v in node.conditions.items()) or None,
            }
        )
    return pd.DataFrame(rows)


# -- HTML -----------------------------------------------------------------------------------------
_STYLE = """
.wb-plan{font:13px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328}
.wb-plan .wb-head{margin:0 0 6px;color:#57606a}
.wb-plan ul{list-style:none;margin:0;padding-left:18px;border-left:1px solid #d0d7de}
.wb-plan>ul{padding-left:0;border-left:none}
.wb-plan li{margin:2px 0}
.wb-plan summary{cursor:pointer;padding:2px 6px;border-radius:4px;display:flex;gap:10px;
 align-items:baseline;flex-wrap:wrap}
.wb-plan summary:hover{outline:1px solid #8c959f}
.wb-plan .wb-op{font-weight:600}
.wb-plan .wb-id{color:#8c959f;font-size:11px}
.wb-plan .wb-time{font-variant-numeric:tabular-nums}
.wb-plan .wb-rows{color:#57606a;font-variant-numeric:tabular-nums}
.wb-plan .wb-badge{font-size:11px;padding:0 5px;border-radius:8px;background:#fff1e5;
 color:#9a3412;border:1px solid #fdba74}
.wb-plan .wb-hot{background:#ffebe9;color:#82071e;border-color:#ff8182}
.wb-plan .wb-props{margin:2px 0 4px 8px;font-size:12px;color:#424a53}
.wb-plan .wb-props td{padding:0 10px 0 0;vertical-align:top}
.wb-plan .wb-props td:first-child{color:#8c959f;white-space:nowrap}
.wb-plan code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;white-space:pre-wrap;
 word-break:break-word}
.wb-plan .wb-note{color:#57606a;font-size:12px}
"""


def plan_to_html(plan: Plan) -> str:
    """A collapsible tree: nodes coloured by their share of the total, hot path and
    misestimates flagged, properties one click away; everything escaped."""
    hot = {id(n) for n in plan.hot_path[:3]}
    body = _html_node(plan, plan.root, hot)
    notes = "".join(f"<div class='wb-note'>{html.escape(n)}</div>" for n in plan.notes)
    return (
        f"<div class='wb-plan'><style>{_STYLE}</style>"
        f"<div class='wb-head'>{html.escape(_headline(plan))}</div>"
        f"<ul>{body}</ul>{notes}</div>"
    )


def _html_node(plan: Plan, root: PlanNode, hot: set[int]) -> str:
    # iterative, so a 10,000-deep plan renders without recursion limits
    parts: list[str] = []
    stack: list[PlanNode | str] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        parts.append(_html_open(plan, item, hot))
        stack.append("</ul></details></li>")
        stack.extend(reversed(item.children))
    return "".join(parts)


def _html_open(plan: Plan, node: PlanNode, hot: set[int]) -> str:
    esc = html.escape
    share = plan.share(node) if not node.synthetic else None
    alpha = min(0.45, (share or 0.0) * 0.6)  # a tint, so the text stays readable
    style = f" style='background:rgba(207,34,46,{alpha:.2f})'" if alpha >= 0.03 else ""
    badges = []
    if id(node) in hot and share:
        badges.append(f"<span class='wb-badge wb-hot'>hot {share:.0%}</span>")
    miss = node.misestimate
    if miss and miss.factor >= MISESTIMATE_THRESHOLD:
        badges.append(
            f"<span class='wb-badge' title='{esc(str(miss))}'>"
            f"{miss.arrow}{miss.factor:,.0f}× rows</span>"
        )
    if node.spill:
        badges.append(f"<span class='wb-badge'>{esc(node.spill.kind)} spill</span>")
    if node.never_executed:
        badges.append("<span class='wb-badge'>never executed</span>")
    timing = ""
    if plan.timed:
        timing = f"<span class='wb-time'>{esc(fmt.milliseconds(node.exclusive_time_ms))}</span>"
    elif node.exclusive_cost is not None:
        timing = f"<span class='wb-time'>cost {node.exclusive_cost:,.1f}</span>"
    ident = "" if node.synthetic else f"<span class='wb-id'>#{node.id}</span>"
    summary = (
        f"<summary{style} data-node='{node.id}'>{ident}<span class='wb-op'>"
        f"{esc(node.label)}</span>{timing}<span class='wb-rows'>{esc(_rows_text(node))}"
        f"</span>{''.join(badges)}</summary>"
    )
    return f"<li><details open>{summary}{_html_props(node)}<ul>"


def _html_props(node: PlanNode) -> str:
    """Conditions in view (they explain the node); the numbers one click away."""
    more: list[tuple[str, str]] = []
    if node.inclusive_time_ms is not None:
        more.append(("inclusive time", fmt.milliseconds(node.inclusive_time_ms)))
    if node.loops is not None:
        more.append(("loops", f"{node.loops:,.0f}"))
    if node.rows_removed_by_filter:
        more.append(("rows removed by filter", fmt.rows(node.rows_removed_by_filter)))
    if node.buffers:
        more.append(("buffers", ", ".join(f"{k}={v:,.0f}" for k, v in node.buffers.items())))
    if node.spill:
        more.append(("spill", node.spill.detail))
    if node.total_cost is not None:
        more.append(("cost", f"{node.startup_cost or 0:,.2f}..{node.total_cost:,.2f}"))
    if node.workers_launched is not None or node.workers_planned is not None:
        more.append(("workers", f"{node.workers_launched} launched of {node.workers_planned}"))
    out = _table(list(node.conditions.items()))
    if more:
        out += f"<details class='wb-props'><summary>details</summary>{_table(more)}</details>"
    return out


def _table(rows: list[tuple[str, str]]) -> str:
    if not rows:
        return ""
    cells = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td><code>{html.escape(str(v))}</code></td></tr>"
        for k, v in rows
    )
    return f"<table class='wb-props'>{cells}</table>"


def node_details(node: PlanNode) -> dict[str, Any]:
    """Everything known about a node, for a details panel: the model's fields and the raw ones."""
    return {
        "label": node.label,
        "operation": node.operation,
        "relation": node.relation,
        "index": node.index,
        "estimated_rows": node.estimated_rows,
        "actual_rows": node.actual_rows,
        "loops": node.loops,
        "inclusive_time_ms": node.inclusive_time_ms,
        "exclusive_time_ms": node.exclusive_time_ms,
        "misestimate": str(node.misestimate) if node.misestimate else None,
        "conditions": dict(node.conditions),
        "buffers": dict(node.buffers),
        "spill": node.spill.detail if node.spill else None,
        "raw": {k: v for k, v in node.raw.items() if k not in ("Plans", "children")},
    }
