"""Estimate rules: ``misestimate``, ``stale_statistics``.

misestimate
    A node whose actual rows differ from the estimate by ≥ 10× (pgMustard's and PEV2's
    threshold; explain.depesz.com turns orange at 100× and red at 1,000×), with ≥ 100 rows on
    either side (≥ 50 for underestimates, the dangerous direction) or feeding a nested loop.
    Rows are compared per loop, as PEV2 does. Reported where it starts (a misestimated node with no
    misestimated descendant in the same direction), not on every node above that inherits it.
    Over-estimates under a Limit, a merge join or a semi/anti join are ignored: those stop
    reading early, so "fewer rows than estimated" is expected there. MySQL/MariaDB table
    accesses whose ``filtered`` is 100 made no estimate for their filter and are skipped, as are
    DuckDB's over-estimates (it guesses a fixed selectivity for most filters).
    The fix: when the node's conditions combine ≥ 2 columns of one table, extended statistics
    (``CREATE STATISTICS … (dependencies, mcv)``); an expression, expression statistics; one
    column, a higher statistics target; stale statistics, ``ANALYZE``.
stale_statistics
    PostgreSQL: a table of ≥ 1,000 rows never analysed (no ``last_analyze``), or with ≥ 20% of
    its rows modified since the last ANALYZE (≥ 10% when a plan misestimates a node on it).
    Other engines do not report the modification count.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.rules.base import Context, Table, ancestors
from workbench.rules.scans import own_predicates
from workbench.rules.text import finding, index_name

if TYPE_CHECKING:
    from workbench.findings import Finding
    from workbench.plans.model import Misestimate, Plan, PlanNode

__all__ = ["RULES", "misestimate", "origins", "stale_statistics", "statistics_fix"]

FACTOR = 10.0
MIN_ROWS = 100.0
MIN_ROWS_UNDER = 50.0  # more rows than planned is the dangerous direction
NEVER_ANALYZED_MIN_ROWS = 1_000
STALE_SHARE = 0.2
STALE_SHARE_WITH_MISESTIMATE = 0.1
STALE_MIN_MODIFIED = 500
_CONDITIONS = ("Filter", "Index Cond", "Recheck Cond")


# -- misestimate ----------------------------------------------------------------------------------
def _miss(node: PlanNode) -> Misestimate | None:
    miss = node.misestimate
    if miss is None or miss.factor < FACTOR or miss.direction == "exact":
        return None
    return miss


def _counts(ctx: Context, node: PlanNode) -> bool:
    """Whether the node's misestimate is real and large enough to matter."""
    miss = _miss(node)
    if miss is None or node.operation.startswith(_BITMAP):
        return False
    if ctx.is_mysql and node.conditions.get("Filter") and _no_filter_estimate(node.raw):
        return False
    if miss.direction == "over" and (_cut_short(node) or ctx.dialect == "duckdb"):
        return False  # DuckDB guesses 20% for most filters: over-estimates are routine there
    rows = max(node.estimated_rows or 0.0, node.actual_rows or 0.0)
    least = MIN_ROWS_UNDER if miss.direction == "under" else MIN_ROWS
    return rows >= least or feeds_nested_loop(node)


# a bitmap index scan counts only the rows of exact pages: its "actual rows" is not a count
_BITMAP = ("Bitmap Index Scan", "BitmapAnd", "BitmapOr")


def _no_filter_estimate(raw: dict[str, Any]) -> bool:
    try:
        return float(raw.get("filtered", 0)) >= 100.0
    except (TypeError, ValueError):
        return False


def _cut_short(node: PlanNode) -> bool:
    """Below a node that stops pulling rows early, so fewer rows than estimated is normal: a
    Limit, a merge join, a semi/anti join, the inner side of a join that knows the inner row
    is unique (it stops at the first match), or a sub-plan."""
    child = node
    for above in ancestors(node):
        operation = above.operation.lower()
        if "limit" in operation or "merge join" in operation:
            return True
        if (above.join_type or "").lower() in ("semi", "anti"):
            return True
        inner = len(above.children) >= 2 and above.children[-1] is child
        if inner and above.raw.get("Inner Unique") and "nested loop" in operation:
            return True
        if _other_side_empty(above, child):
            return True
        child = above
    return node.parent_relationship in ("SubPlan", "InitPlan")


def _other_side_empty(join: PlanNode, side: PlanNode) -> bool:
    """A hash join whose hash side came back empty stops reading its outer side after the first
    row (an inner join can produce nothing): the outer scan's "1 row" is not an estimate miss."""
    if "hash" not in join.operation.lower() or len(join.children) < 2:
        return False
    if join.children[0] is not side or (join.join_type or "Inner") not in (
        "Inner",
        "Semi",
        "Right",
    ):
        return False
    hashed = join.children[-1]
    return hashed.actual_rows == 0 and not hashed.never_executed


_PASS_THROUGH = (
    "Hash",
    "Sort",
    "Incremental Sort",
    "Materialize",
    "Memoize",
    "Gather",
    "Gather Merge",
    "Unique",
    "Result",
    "Filter",
)


def feeds_nested_loop(node: PlanNode) -> bool:
    """Whether the node's rows drive a nested loop: it is the loop's outer side, or reaches it
    through nodes that pass rows on unchanged in number (Sort, Gather, Materialize, ...)."""
    current = node
    while current.parent is not None:
        parent = current.parent
        if "nested loop" in parent.operation.lower():
            return parent.children[0] is current
        if len(parent.children) != 1 or not parent.operation.startswith(_PASS_THROUGH):
            return False
        current = parent
    return False


def origins(ctx: Context, plan: Plan) -> list[tuple[PlanNode, list[PlanNode]]]:
    """Misestimated nodes where the error starts, each with the nodes above inheriting it."""
    bad = {id(n): n for n in plan.nodes if _counts(ctx, n)}
    out = []
    for node in bad.values():
        direction = _direction(node)
        below = (d for d in node.walk() if d is not node and id(d) in bad)
        if any(_direction(d) == direction for d in below):
            continue
        inherited = []
        for above in ancestors(node):
            if id(above) not in bad or _direction(above) != direction:
                break
            inherited.append(above)
        out.append((node, inherited))
    return out


def _direction(node: PlanNode) -> str:
    miss = node.misestimate
    return miss.direction if miss else ""


def misestimate(ctx: Context) -> Iterator[Finding]:
    for i, plan in enumerate(ctx.plans):
        if not plan.analyzed:
            continue
        for node, inherited in origins(ctx, plan):
            yield _misestimate_finding(ctx, i, plan, node, inherited)


def _misestimate_finding(
    ctx: Context, i: int, plan: Plan, node: PlanNode, inherited: list[PlanNode]
) -> Finding:
    miss = node.misestimate
    assert miss is not None
    table = ctx.table(node.relation)
    fix, kind, why = statistics_fix(ctx, node, table)
    est, act = node.estimated_rows or 0.0, node.actual_rows or 0.0
    nested = miss.direction == "under" and any(feeds_nested_loop(n) for n in [node, *inherited])
    severity = (
        "high"
        if nested or miss.factor >= 1000
        else "medium"
        if miss.factor >= 100 or miss.direction == "under"
        else "low"
    )
    spread = f"; {len(inherited)} node(s) above inherit the error" if inherited else ""
    conditions = "; ".join(f"{k}: {v}" for k, v in node.conditions.items() if k in _CONDITIONS)
    return finding(
        "misestimate",
        severity,
        f"{node.label}: the planner expected {fmt.count(est)} rows, got {fmt.count(act)} "
        f"({miss.factor:,.0f}× {miss.direction}estimated)",
        f"Node #{node.id} returned {fmt.count(act)} rows where the planner expected "
        f"{fmt.count(est)}"
        f"{spread}. {why}"
        + (
            " The outer side of a nested loop was underestimated: it repeats far more often "
            "than planned."
            if nested
            else ""
        ),
        evidence={
            "plan": i,
            "node": node.id,
            "estimated_rows": est,
            "actual_rows": act,
            "factor": round(miss.factor, 1),
            "direction": miss.direction,
            "conditions": ctx.shareable(conditions or None),
            "inherited_by": [n.id for n in inherited],
            "feeds_nested_loop": nested,
        },
        fix=fix,
        fix_kind=kind,
        expected_effect=f"the estimate for {node.label} moves from {fmt.count(est)} to near the "
        f"real {fmt.count(act)} rows, so the planner sizes joins, sorts and memory for the "
        "real volume" + (" (a hash join instead of a nested loop)" if nested else ""),
        node_ids=[node.id, *(n.id for n in inherited)],
        tables=[table.name] if table else relations_below(node),
    )


def relations_below(node: PlanNode) -> list[str]:
    return list(dict.fromkeys(n.relation for n in node.walk() if n.relation))


def statistics_fix(
    ctx: Context, node: PlanNode, table: Table | None
) -> tuple[str | None, str | None, str]:
    """(fix, fix_kind, why) for a misestimated node."""
    if table is None:
        names = [ctx.ident(t) for t in relations_below(node)]
        if not names:
            return None, None, "The estimate comes from operations above the tables."
        statements = "; ".join(f"{_analyze(ctx)} {n}" for n in names)
        return (
            statements,
            "sql",
            (
                "The error appears where tables are combined: the planner cannot see correlation "
                "across tables; fresh statistics on each one are the first step."
            ),
        )
    ref = ctx.table_ref(table)
    if stale(ctx, table, relaxed=True):
        return f"{_analyze(ctx)} {ref}", "sql", f"The statistics of {table.name} are stale."
    preds = own_predicates(ctx, node, table, _CONDITIONS)
    plain = list(dict.fromkeys(p.column for p in preds if p.kind in ("eq", "range") and p.column))
    expressions = [(p.subject, p.column) for p in preds if p.kind == "expr" and p.subject]
    if len(plain) >= 2:
        return (
            _extended(ctx, table, plain[:4]),
            "sql",
            (
                f"Its conditions combine {', '.join(plain)} of {table.name}: the planner "
                "multiplies their selectivities as if they were independent, but they are "
                "correlated. Extended statistics teach it how they move together."
            ),
        )
    if expressions and ctx.is_postgres and ctx.server_version >= (14,):
        from workbench.rules.rewrites import index_expression

        subject, column = expressions[0]
        expression = index_expression(subject, "postgres")
        name = ctx.ident(index_name(table.name, column or "expr", suffix="stats"))
        return (
            f"CREATE STATISTICS {name} ON ({expression}) FROM {ref}; ANALYZE {ref}",
            "sql",
            f"The planner has no statistics for `{expression}` and falls back to a fixed "
            "guess; expression statistics (or an index on the expression) give it real ones.",
        )
    single = plain or [p.column for p in preds if p.kind == "like" and p.column]
    if single and ctx.is_postgres:
        column = ctx.ident(single[0])
        return (
            f"ALTER TABLE {ref} ALTER COLUMN {column} SET STATISTICS 1000; ANALYZE {ref}",
            "sql",
            f"A finer histogram of {single[0]} (statistics target 1,000 instead of the default "
            "100) describes its distribution better.",
        )
    return f"{_analyze(ctx)} {ref}", "sql", "Fresh statistics are the first thing to try."


def _extended(ctx: Context, table: Table, columns: list[str]) -> str:
    ref = ctx.table_ref(table)
    cols = ", ".join(ctx.ident(c) for c in columns)
    if ctx.dialect == "mysql":
        return f"ANALYZE TABLE {ref} UPDATE HISTOGRAM ON {cols}"
    if ctx.dialect == "mariadb":
        return f"ANALYZE TABLE {ref} PERSISTENT FOR COLUMNS ({cols}) INDEXES ()"
    if not ctx.is_postgres:
        return f"ANALYZE {ref}"
    kinds = (
        "dependencies, mcv"
        if ctx.server_version >= (12,) or not ctx.server_version
        else "dependencies"
    )
    name = ctx.ident(index_name(table.name, *columns, suffix="stats")[:-6])
    return f"CREATE STATISTICS {name} ({kinds}) ON {cols} FROM {ref}; ANALYZE {ref}"


def _analyze(ctx: Context) -> str:
    return "ANALYZE TABLE" if ctx.is_mysql else "ANALYZE"


# -- stale_statistics -----------------------------------------------------------------------------
def stale(ctx: Context, table: Table, *, relaxed: bool = False) -> str | None:
    """Why the table's statistics are stale (``None`` when they are not, or nobody knows)."""
    if not ctx.is_postgres:
        return None
    data = table.data
    if table.extra.get("relkind") == "p":  # a partitioned parent: its partitions carry the stats
        return None
    rows = max(table.rows or 0.0, ctx.observed_rows(table.name) or 0.0) or None
    if not data.get("last_analyzed"):
        if rows is not None and rows >= NEVER_ANALYZED_MIN_ROWS:
            return "never analysed"
        return None
    modified = data.get("modified_since_analyze")
    if not isinstance(modified, int | float) or not rows or modified < STALE_MIN_MODIFIED:
        return None
    if _counted_late(table, modified):
        return None
    share = modified / rows
    if share >= (STALE_SHARE_WITH_MISESTIMATE if relaxed else STALE_SHARE):
        return f"{fmt.count(modified)} rows ({share:.0%}) modified since the last ANALYZE"
    return None


def _counted_late(table: Table, modified: float) -> bool:
    """Whether the "modified since ANALYZE" count is rows ANALYZE already saw.

    A backend reports its inserts to the statistics system up to seconds after commit; a bulk
    load analysed right away (a migration, a test fixture) then reads as 100% modified, its
    live rows sometimes counted twice. The table's size tells: ANALYZE records how many pages
    it had (``relpages``); rows inserted after it would have grown the table. Only when the
    modifications are mostly inserts, and no VACUUM (which also sets ``relpages``) ran since.
    """
    extra, data = table.extra, table.data
    changed = sum(v for v in (extra.get("n_tup_upd"), extra.get("n_tup_del")) if v)
    if changed >= modified / 2:
        return False
    vacuumed, analysed = extra.get("last_vacuumed"), data.get("last_analyzed")
    if vacuumed and analysed and str(vacuumed) > str(analysed):
        return False
    pages, pages_now = extra.get("relpages"), extra.get("pages_now")
    if isinstance(pages, int | float) and isinstance(pages_now, int | float) and pages > 0:
        return pages_now <= pages * 1.05 + 1
    live, seen = extra.get("n_live_tup"), data.get("row_estimate")
    if not isinstance(live, int | float) or not isinstance(seen, int | float) or live <= 0:
        return False
    return bool(seen >= 0.9 * live and seen - (live - modified) >= 0.5 * modified)


def _misestimated_tables(ctx: Context) -> set[str]:
    return {n.relation.lower() for _, _, n in ctx.nodes() if n.relation and _miss(n) is not None}


def stale_statistics(ctx: Context) -> Iterator[Finding]:
    misestimated = _misestimated_tables(ctx)
    for table in ctx.tables():
        why = stale(ctx, table, relaxed=table.name.lower() in misestimated)
        if why is None:
            continue
        rows = max(table.rows or 0.0, ctx.observed_rows(table.name) or 0.0)
        ref = ctx.table_ref(table)
        never = why == "never analysed"
        yield finding(
            "stale_statistics",
            "high" if never and rows >= 100_000 else "medium",
            f"Statistics of {table.name} are stale: {why}",
            f"The planner estimates rows from the statistics ANALYZE gathers; {table.name} "
            f"({fmt.count(rows)} rows) was "
            + (
                "never analysed, so every estimate on it is a default guess."
                if never
                else f"last analysed at {table.data.get('last_analyzed')} and "
                f"{why}, so its estimates describe a table that no longer exists."
            ),
            evidence={
                "last_analyzed": table.data.get("last_analyzed"),
                "modified_since_analyze": table.data.get("modified_since_analyze"),
                "table_rows": rows,
            },
            fix=f"{_analyze(ctx)} {ref}",
            fix_kind="sql",
            expected_effect=f"estimates on {table.name} reflect its {fmt.count(rows)} "
            "current rows; plans chosen from them follow",
            tables=[table.name],
        )


RULES = (misestimate, stale_statistics)
