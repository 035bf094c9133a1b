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
.wb-plan .wb-head,.wb-plan .wb-legend{margin:0 0 4px;color:#57606a}
.wb-plan .wb-legend{font-size:11px}
.wb-plan ul{list-style:none;margin:0;padding-left:16px;border-left:1px solid #d0d7de}
.wb-plan>ul{padding-left:0;border-left:none}
.wb-plan li{margin:1px 0}
.wb-plan summary{cursor:pointer;padding:1px 6px;border-radius:4px;display:flex;gap:8px;
 align-items:center;flex-wrap:wrap;border-left:3px solid transparent}
.wb-plan summary:hover{background:#f6f8fa}
.wb-plan .wb-path>summary{border-left-color:#cf222e}
.wb-plan .wb-op{font-weight:600}
.wb-plan .wb-hot>summary .wb-op{font-weight:700}
.wb-plan .wb-id{color:#8c959f;font-size:11px}
.wb-plan .wb-bar{position:relative;display:inline-block;width:90px;height:8px;border-radius:2px;
 background:#f6f8fa;border:1px solid #d0d7de;overflow:hidden;flex:none}
.wb-plan .wb-bar i{position:absolute;left:0;top:0;bottom:0}
.wb-plan .wb-bar .wb-incl{background:#d8dee4}
.wb-plan .wb-bar .wb-excl{background:#54aeff}
.wb-plan .wb-bar .wb-high{background:#cf222e}
.wb-plan .wb-time,.wb-plan .wb-rows,.wb-plan .wb-extra{font-variant-numeric:tabular-nums}
.wb-plan .wb-rows,.wb-plan .wb-extra,.wb-plan .wb-share{color:#57606a}
.wb-plan .wb-badge{font-size:11px;padding:0 5px;border-radius:8px;color:#9a6700;
 border:1px solid #d4a72c}
.wb-plan .wb-muted{color:#8c959f;border-color:#d0d7de}
.wb-plan .wb-cond{color:#57606a;font:11px ui-monospace,SFMono-Regular,Menlo,monospace;
 margin:0 0 1px 30px;white-space:pre-wrap;word-break:break-word}
.wb-plan .wb-props{margin:2px 0 4px 30px;font-size:12px;color:#424a53;border-collapse:collapse}
.wb-plan .wb-props th{padding:0 12px 0 0;vertical-align:top;text-align:left;font-weight:normal;
 color:#8c959f;white-space:nowrap}
.wb-plan code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;white-space:pre-wrap;
 word-break:break-word}
.wb-plan .wb-note{color:#57606a;font-size:12px}
"""


def plan_to_html(plan: Plan) -> str:
    """The plan as a static tree (no script): per node a bar of its own time (solid) and its
    subtree's (faint) as a share of the total, rows estimated → actual, the misestimate
    factor, loops, buffers, cost, its first condition, and its details in a table one click
    away (the same facts as the notebook's view); the hot path marked; everything escaped."""
    from workbench.plans.view_data import plan_data

    data = plan_data(plan)
    facts_by_id = {n["id"]: n for n in data["nodes"]}
    body = _html_tree(plan, facts_by_id, data["timed"])
    notes = "".join(f"<div class='wb-note'>{html.escape(n)}</div>" for n in plan.notes)
    legend = (
        "bar: the node's own time (solid) and with its children (faint), as a share of the "
        "total; ▲ more rows than estimated, ▼ fewer"
        if data["timed"]
        else "estimates only: the bar is the node's own cost against the costliest node"
    )
    return (
        f"<div class='wb-plan'><style>{_STYLE}</style>"
        f"<div class='wb-head'>{html.escape(data['headline'])}</div>"
        f"<div class='wb-legend'>{html.escape(legend)}</div>"
        f"<ul>{body}</ul>{notes}</div>"
    )


def _html_tree(plan: Plan, facts: dict[int, dict[str, Any]], timed: bool) -> str:
    # iterative, so a 10,000-deep plan renders without recursion limits
    parts: list[str] = []
    stack: list[PlanNode | str] = [plan.root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        node_facts = facts.get(item.id) if not item.synthetic else None
        parts.append(_html_open(item, node_facts, timed))
        stack.append("</ul></details></li>")
        stack.extend(reversed(item.children))
    return "".join(parts)


def _html_open(node: PlanNode, data: dict[str, Any] | None, timed: bool) -> str:
    esc = html.escape
    if data is None:  # a synthetic node (several statements' roots): its label only
        return (
            f"<li><details open><summary><span class='wb-op'>{esc(node.label)}</span></summary><ul>"
        )
    classes = " ".join(c for c, on in (("wb-path", data["on_path"]), ("wb-hot", data["hot"])) if on)
    parts = [
        f"<span class='wb-id'>#{node.id}</span>",
        f"<span class='wb-op'>{esc(node.label)}</span>",
        _html_bar(data, timed),
    ]
    if timed:
        parts.append(f"<span class='wb-time'>{esc(data['time'] or '–')}</span>")
        parts.append(f"<span class='wb-share'>{esc(data['share_text'] or '')}</span>")
    elif data["cost"]:
        parts.append(f"<span class='wb-time'>cost {esc(data['cost'])}</span>")
    if data["rows"]:
        parts.append(f"<span class='wb-rows'>rows {esc(data['rows'])}</span>")
    for flag in data["flags"]:
        muted = " wb-muted" if flag["kind"] == "muted" else ""
        parts.append(
            f"<span class='wb-badge{muted}' title='{esc(flag['title'])}'>{esc(flag['text'])}</span>"
        )
    for key, label in (("loops", "loops"), ("buffers", "buffers")):
        if data[key]:
            parts.append(f"<span class='wb-extra'>{label} {esc(data[key])}</span>")
    condition = f"<div class='wb-cond'>{esc(data['condition'])}</div>" if data["condition"] else ""
    details = _table(data["facts"])
    summary = f"<summary data-node='{node.id}'>{''.join(parts)}</summary>"
    return (
        f"<li class='{classes}'><details open>{summary}{condition}"
        f"<details class='wb-props'><summary>details</summary>{details}</details><ul>"
    )


def _html_bar(data: dict[str, Any], timed: bool) -> str:
    own = data["share"] if timed else data["cost_share"]
    whole = data["inclusive_share"] if timed else None
    inner = ""
    if whole is not None:
        inner += f"<i class='wb-incl' style='width:{min(100.0, whole * 100):.1f}%'></i>"
    if own is not None:
        high = " wb-high" if own >= 0.3 else ""
        inner += f"<i class='wb-excl{high}' style='width:{min(100.0, own * 100):.1f}%'></i>"
    return f"<span class='wb-bar'>{inner}</span>"


def _table(rows: list[tuple[str, str]]) -> str:
    if not rows:
        return ""
    cells = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td><code>{html.escape(str(v))}</code></td></tr>"
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
