"""Before/after: :meth:`Plan.diff` matches the nodes of two plans and reports what changed.

Matching is what a person does when comparing two plans by eye: a scan of the same table (and
alias) is the same step even when its operation changed (``Seq Scan → Index Scan`` is *the*
change to see); the remaining nodes are paired by operation, in plan order, under matched
parents first.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.plans.model import Plan, PlanNode

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["NodeChange", "PlanDiff", "diff_plans"]

#: a single EXPLAIN ANALYZE of each plan is "about the same" within this factor either way
SAME_BAND = 1.1


@dataclass
class NodeChange:
    """One matched (or unmatched) pair of nodes."""

    before: PlanNode | None
    after: PlanNode | None

    @property
    def status(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        if self.before.operation != self.after.operation or self.before.index != self.after.index:
            return "changed"
        return "same"

    @property
    def time_delta_ms(self) -> float | None:
        b = self.before.exclusive_time_ms if self.before else 0.0
        a = self.after.exclusive_time_ms if self.after else 0.0
        if b is None or a is None:
            return None
        return a - b

    @property
    def rows_delta(self) -> float | None:
        b = self.before.actual_rows if self.before else 0.0
        a = self.after.actual_rows if self.after else 0.0
        if b is None or a is None:
            return None
        return a - b

    def describe(self) -> str:
        if self.before is None and self.after is not None:
            return f"+ {self.after.label}"
        if self.after is None and self.before is not None:
            return f"- {self.before.label}"
        assert self.before is not None
        assert self.after is not None
        if self.status == "changed":
            return f"{self.before.label} → {self.after.label}"
        return self.after.label


@dataclass
class PlanDiff:
    """The comparison of two plans."""

    before: Plan
    after: Plan
    changes: list[NodeChange] = field(default_factory=list)

    @property
    def changed_operations(self) -> list[str]:
        """``Seq Scan on orders → Index Scan on orders using orders_user_id_idx`` lines."""
        return [c.describe() for c in self.changes if c.status in ("changed", "added", "removed")]

    @property
    def time_ratio(self) -> float | None:
        """after / before total time (< 1: faster)."""
        b, a = self.before.total_time_ms, self.after.total_time_ms
        if not b or a is None:
            return None
        return a / b

    @property
    def direction(self) -> str | None:
        """``"faster"``, ``"slower"``, ``"same"`` (within ±10%: one run of each plan cannot
        tell such a difference from noise; profile both for that) or ``None`` without timing."""
        ratio = self.time_ratio
        if ratio is None:
            return None
        if 1 / SAME_BAND <= ratio <= SAME_BAND:
            return "same"
        return "faster" if ratio < 1 else "slower"

    @property
    def verdict(self) -> str:
        ratio = self.time_ratio
        if ratio is None:
            b, a = self.before.root.total_cost, self.after.root.total_cost
            if b and a and abs(a - b) <= 0.005 * b:
                return f"estimated cost {b:,.1f} → {a:,.1f} (unchanged)"
            if b and a:
                return (
                    f"estimated cost {b:,.1f} → {a:,.1f} ({b / a:,.1f}× cheaper)"
                    if a < b
                    else f"estimated cost {b:,.1f} → {a:,.1f} ({a / b:,.1f}× dearer)"
                )
            return "no timing to compare (run EXPLAIN ANALYZE on both)"
        b, a = self.before.total_time_ms or 0.0, self.after.total_time_ms or 0.0
        if self.direction == "faster":
            return f"{fmt.milliseconds(b)} → {fmt.milliseconds(a)}: {1 / ratio:,.1f}× faster"
        if self.direction == "slower":
            return f"{fmt.milliseconds(b)} → {fmt.milliseconds(a)}: {ratio:,.1f}× slower"
        return (
            f"{fmt.milliseconds(b)} → {fmt.milliseconds(a)}: about the same "
            "(within ±10%, one run each)"
        )

    def to_text(self) -> str:
        lines = [self.verdict]
        if self.changed_operations:
            lines.append("changed:")
            lines.extend(f"  {line}" for line in self.changed_operations)
        lines.append("nodes:")
        for change in self.changes:
            delta = change.time_delta_ms
            rows = change.rows_delta
            lines.append(
                f"  {change.status:<8} {change.describe()[:70]:<70}"
                + (f"  {delta:+,.3f} ms" if delta is not None else "")
                + (f"  rows {rows:+,.0f}" if rows else "")
            )
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "status": c.status,
                    "before_id": c.before.id if c.before else None,
                    "after_id": c.after.id if c.after else None,
                    "before": c.before.label if c.before else None,
                    "after": c.after.label if c.after else None,
                    "before_ms": c.before.exclusive_time_ms if c.before else None,
                    "after_ms": c.after.exclusive_time_ms if c.after else None,
                    "time_delta_ms": c.time_delta_ms,
                    "before_rows": c.before.actual_rows if c.before else None,
                    "after_rows": c.after.actual_rows if c.after else None,
                }
                for c in self.changes
            ]
        )

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(c.status)}</td><td>{esc(c.before.label if c.before else '')}</td>"
            f"<td>{esc(c.after.label if c.after else '')}</td>"
            f"<td>{esc(fmt.milliseconds(c.before.exclusive_time_ms) if c.before else '')}</td>"
            f"<td>{esc(fmt.milliseconds(c.after.exclusive_time_ms) if c.after else '')}</td>"
            f"<td>{esc(fmt.rows(c.before.actual_rows) if c.before else '')}</td>"
            f"<td>{esc(fmt.rows(c.after.actual_rows) if c.after else '')}</td></tr>"
            for c in self.changes
        )
        return (
            f"<div class='wb-diff'><p><b>{esc(self.verdict)}</b></p><table><tr><th>status</th>"
            "<th>before</th><th>after</th><th>before time</th><th>after time</th>"
            f"<th>before rows</th><th>after rows</th></tr>{rows}</table></div>"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "time_ratio": self.time_ratio,
            "changed_operations": self.changed_operations,
        }

    def __repr__(self) -> str:
        return f"<PlanDiff {self.verdict}; {len(self.changed_operations)} changes>"


def diff_plans(before: Plan, after: Plan) -> PlanDiff:
    """Match nodes of ``before`` and ``after`` and list the changes in ``after``'s order."""
    pairs: dict[int, PlanNode] = {}  # id(after node) -> before node
    used: set[int] = set()
    # 1. the same table (and alias) is the same step, whatever the access method
    by_relation: dict[tuple[str, str | None], list[PlanNode]] = {}
    for node in before.nodes:
        if node.relation:
            by_relation.setdefault((node.relation, node.alias), []).append(node)
    for node in after.nodes:
        if node.relation:
            candidates = [
                c for c in by_relation.get((node.relation, node.alias), ()) if id(c) not in used
            ]
            if candidates:
                pairs[id(node)] = candidates[0]
                used.add(id(candidates[0]))
    # 2. the rest by operation, in plan order, preferring a matched parent
    remaining = [n for n in before.nodes if id(n) not in used]
    for node in after.nodes:
        if id(node) in pairs:
            continue
        parent_match = pairs.get(id(node.parent)) if node.parent else None
        match = _pick(remaining, node, parent_match)
        if match is not None:
            pairs[id(node)] = match
            used.add(id(match))
            remaining.remove(match)
    changes = [NodeChange(pairs.get(id(n)), n) for n in after.nodes]
    changes.extend(NodeChange(n, None) for n in before.nodes if id(n) not in used)
    return PlanDiff(before, after, changes)


def _pick(candidates: list[PlanNode], node: PlanNode, parent: PlanNode | None) -> PlanNode | None:
    same_op = [c for c in candidates if c.operation == node.operation]
    if parent is not None:
        under_parent = [c for c in same_op if c.parent is parent]
        if under_parent:
            return under_parent[0]
    if same_op:
        return same_op[0]
    if parent is not None:  # a changed operation in the same place (Hash Join → Nested Loop)
        siblings = [c for c in candidates if c.parent is parent and not c.relation]
        if siblings:
            return siblings[0]
    return None
