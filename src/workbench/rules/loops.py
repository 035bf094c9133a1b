"""``nested_loop_blowup``: a nested loop that repeats its inner side far more than planned.

Fires when the inner side runs ≥ 1,000 times and takes ≥ 50% of the statement's time (≥ 10 ms),
or when the outer side was underestimated ≥ 10× with ≥ 100 actual rows (the loop was chosen
for a few rows). The fix: an index on the inner join key when the inner side is a full scan
(then the inner scan's ``missing_index`` finding says it, and this one yields to it); the
outer side's statistics fix when it was underestimated; otherwise, on PostgreSQL,
``SET enable_nestloop = off`` to measure the hash join alternative.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from workbench import formatting as fmt
from workbench.rules.base import Context, ancestors, inclusive_share, is_full_scan
from workbench.rules.estimates import (
    FACTOR,
    MIN_ROWS,
    origins,
    relations_below,
    statistics_fix,
)
from workbench.rules.indexes import create_index, inner_scan, join_column
from workbench.rules.text import finding

if TYPE_CHECKING:
    from workbench.findings import Finding
    from workbench.plans.model import Plan, PlanNode

__all__ = ["RULES", "nested_loop_blowup"]

NL_LOOPS = 1_000
NL_SHARE = 0.5
NL_MIN_MS = 10.0


def nested_loop_blowup(ctx: Context) -> Iterator[Finding]:
    for i, plan in enumerate(ctx.plans):
        if not plan.analyzed:
            continue
        for loop in plan.root.walk():
            if "nested loop" not in loop.operation.lower() or len(loop.children) < 2:
                continue
            found = _blowup(ctx, i, plan, loop)
            if found is not None:
                yield found


def _blowup(ctx: Context, i: int, plan: Plan, loop: PlanNode) -> Finding | None:
    outer, inner = loop.children[0], loop.children[-1]
    loops = float(inner.loops or 0.0)
    ms = inner.inclusive_time_ms
    share = inclusive_share(plan, inner)
    heavy = loops >= NL_LOOPS and (share or 0.0) >= NL_SHARE and (ms or 0.0) >= NL_MIN_MS
    miss = outer.misestimate
    under = bool(
        miss
        and miss.direction == "under"
        and miss.factor >= FACTOR
        and (outer.actual_rows or 0.0) >= MIN_ROWS
    )
    if not heavy and not under:
        return None
    fix, kind, how = _blowup_fix(ctx, plan, loop, outer, inner, under)
    planned = f" (planned for {fmt.count(outer.estimated_rows)})" if under else ""
    return finding(
        "nested_loop_blowup",
        "high"
        if ((ms or 0.0) >= 100 and (share or 0.0) >= NL_SHARE) or loops >= 100_000
        else "medium",
        f"{loop.label} runs its inner side {fmt.count(loops)} times{planned}",
        f"Node #{loop.id} repeats {inner.label} once per outer row: {fmt.count(loops)} times"
        + (
            f", {fmt.milliseconds(ms)} in all ({share:.0%} of the statement)"
            if ms and share
            else ""
        )
        + (
            f"; the planner expected {fmt.count(outer.estimated_rows)} outer rows, not "
            f"{fmt.count(outer.actual_rows)}"
            if under
            else ""
        )
        + f". {how}",
        evidence={
            "plan": i,
            "node": loop.id,
            "inner_node": inner.id,
            "loops": loops,
            "inner_time_ms": ms,
            "inner_share": share,
            "outer_estimated": outer.estimated_rows,
            "outer_actual": outer.actual_rows,
            "time_ms": ms,
        },
        fix=fix,
        fix_kind=kind,
        expected_effect=f"{fmt.count(loops)} repetitions of the inner side become one pass "
        "(a hash join) or cheap index probes"
        + (f": most of the {fmt.milliseconds(ms)} it takes now" if ms else ""),
        node_ids=[n for n in (loop.id, inner.id, *(s.id for s in inner.walk())) if n >= 0],
        tables=relations_below(inner),
    )


def _blowup_severity(loops: float, ms: float | None, share: float | None) -> str:
    if ((ms or 0.0) >= 100 and (share or 0.0) >= NL_SHARE) or loops >= 100_000:
        return "high"
    if (share or 0.0) >= 0.3 or loops >= 10_000:
        return "medium"
    return "low"


def _blowup_fix(
    ctx: Context, plan: Plan, loop: PlanNode, outer: PlanNode, inner: PlanNode, under: bool
) -> tuple[str | None, str | None, str]:
    scan = inner_scan(inner)
    table = ctx.table(scan.relation) if scan else None
    if scan is not None and table is not None and is_full_scan(scan):
        key = join_column(ctx, loop, scan, table)
        if key and table.leading_index(key) is None:
            return (
                create_index(ctx, table, [key]),
                "ddl",
                (
                    f"Each repetition reads all of {table.name}; an index on {key} makes it a "
                    "lookup."
                ),
            )
    if under:
        start = [n for n, _ in origins(ctx, plan) if n is outer or outer in ancestors(n)]
        node = start[0] if start else outer
        fix, kind, why = statistics_fix(ctx, node, ctx.table(node.relation))
        return fix, kind, f"The nested loop was chosen for a few outer rows. {why}"
    if ctx.is_postgres:
        return (
            "SET enable_nestloop = off",
            "setting",
            (
                "Try the statement without nested loops to see whether a hash join is faster; "
                "if it is, the lasting fix is a better estimate or an index that covers the "
                "inner lookups (not the setting)."
            ),
        )
    return None, None, "A hash join would read the inner side once."


RULES = (nested_loop_blowup,)
