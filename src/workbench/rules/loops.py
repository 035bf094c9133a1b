"""``nested_loop_blowup``: a nested loop that repeats its inner side far more than planned.

Fires when the inner side runs ≥ 1,000 times and takes ≥ 50% of the statement's time (≥ 10 ms),
or when the outer side was underestimated ≥ 10× with ≥ 100 actual rows (the loop was chosen
for a few rows). The fix: an index on the inner join key when the inner side is a full scan
(then the inner scan's ``missing_index`` finding says it, and this one yields to it); the
outer side's statistics fix when it was underestimated; otherwise no fix, and the detail
names ``enable_nestloop = off`` as a diagnostic only (to measure the hash join alternative: a
setting that disables a join method for a whole statement is not a fix).

A well-estimated loop of cheap index probes (every inner scan an index lookup, at most
:data:`CHEAP_PROBE_MS` per repetition, nothing misestimated) is how a nested loop should work,
and does not fire, however many times it repeats.
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
#: an inner side this cheap per repetition, through index lookups, is a healthy nested loop
CHEAP_PROBE_MS = 0.1


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
    if not under and _cheap_probes(inner, loops):
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


def _cheap_probes(inner: PlanNode, loops: float) -> bool:
    """Every scan of the inner side is an index lookup, each repetition is cheap, and no node
    of it is misestimated: the loop does what a nested loop is for."""
    scans = [n for n in inner.walk() if n.relation]
    if not scans or any(is_full_scan(n) or "index" not in n.operation.lower() for n in scans):
        return False
    ms = inner.inclusive_time_ms
    if ms is None or loops <= 0 or ms / loops > CHEAP_PROBE_MS:
        return False
    return not any(
        n.misestimate is not None and n.misestimate.factor >= FACTOR for n in inner.walk()
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
    diagnostic = (
        " To see whether a hash join would be faster, explain it with settings="
        "{'enable_nestloop': 'off'}: a diagnostic, not a fix (the setting disables nested "
        "loops for the whole statement, where they are right too)."
        if ctx.is_postgres
        else ""
    )
    return (
        None,
        None,
        "No fix to propose: the inner side is not a full scan an index would replace, and the "
        "outer side's estimate is not off; the lasting fix is a cheaper inner lookup (a "
        "covering index) or fewer outer rows." + diagnostic,
    )


RULES = (nested_loop_blowup,)
