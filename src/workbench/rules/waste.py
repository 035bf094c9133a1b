"""``filter_waste``: a scan or a join that reads far more than it keeps.

filter_waste
    A scan that read ≥ 10,000 rows and removed ≥ 90% of them with its filter (or a join filter
    that discarded ≥ 90% of ≥ 10,000 row pairs), when no more specific finding (missing index,
    non-sargable predicate, leading wildcard) explains the same node. The fix: a composite
    index when an index served part of the condition; on PostgreSQL, a ``*_pattern_ops`` index
    for a prefix ``LIKE`` the collation keeps from a plain B-tree; ``ANALYZE`` when a usable
    index exists but the planner preferred the scan.
    When there is no fix, the detail says why (the filter compares expressions, an index
    exists, the schema is not in the evidence).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlglot import exp

from workbench import formatting as fmt
from workbench.rules.base import Context, Table, inclusive_share
from workbench.rules.indexes import (
    create_index,
    index_columns,
    inner_scan,
    join_column,
    serving_index,
)
from workbench.rules.predicates import Predicate
from workbench.rules.scans import condition_text, own_predicates, shown_condition, volume
from workbench.rules.text import finding, index_name, lookup_effect, scan_severity

if TYPE_CHECKING:
    from workbench.findings import Finding
    from workbench.plans.model import Plan, PlanNode

__all__ = ["RULES", "filter_waste"]

WASTE_MIN_ROWS = 10_000
WASTE_SHARE = 0.9


# -- filter_waste ---------------------------------------------------------------------------------
def filter_waste(ctx: Context) -> Iterator[Finding]:
    if ctx.dialect == "duckdb":
        return
    for i, plan, node in ctx.nodes():
        if node.relation and condition_text(node):
            found = _wasteful_scan(ctx, i, plan, node)
            if found is not None:
                yield found
        if node.rows_removed_by_join_filter:
            found = _wasteful_join(ctx, i, plan, node)
            if found is not None:
                yield found


def _wasteful_scan(ctx: Context, i: int, plan: Plan, node: PlanNode) -> Finding | None:
    table = ctx.table(node.relation)
    vol = volume(ctx, plan, node, table)
    if vol is None or not vol.measured or vol.read < WASTE_MIN_ROWS:
        return None
    if vol.removed_share < WASTE_SHARE:
        return None
    fix, kind, why = _waste_fix(ctx, node, table)
    ms = node.inclusive_time_ms
    return finding(
        "filter_waste",
        scan_severity(vol.read, ms, inclusive_share(plan, node)),
        f"{node.label} throws away {fmt.percent(vol.removed_share)} of the {fmt.count(vol.read)} "
        "rows it reads",
        f"Node #{node.id} read {fmt.count(vol.read)} rows and its filter "
        f"`{shown_condition(node, ctx.dialect)}` "
        f"kept only {fmt.count(vol.kept)}. {why}",
        evidence={
            "plan": i,
            "node": node.id,
            "rows_read": vol.read,
            "rows_kept": vol.kept,
            "removed_share": round(vol.removed_share, 4),
            "filter": ctx.shareable(shown_condition(node, ctx.dialect)),
            "time_ms": ms,
        },
        fix=fix,
        fix_kind=kind,
        expected_effect=lookup_effect(vol.read, vol.kept, ms, what="read"),
        node_ids=[node.id],
        tables=[table.name] if table else [node.relation or ""],
    )


def _waste_fix(
    ctx: Context, node: PlanNode, table: Table | None
) -> tuple[str | None, str | None, str]:
    if table is None:
        return (
            None,
            None,
            "No index fix can be written: the table's schema is not in the evidence; an index "
            "matching the filter would let the engine skip those rows.",
        )
    kinds = ("Filter", "Index Cond", "Recheck Cond")
    preds = own_predicates(ctx, node, table, kinds)
    columns = index_columns(preds, table)
    used_index = bool(
        node.index or node.conditions.get("Index Cond") or node.conditions.get("Recheck Cond")
    )
    if columns and table.index_with_prefix(columns) is None and (used_index or len(columns) > 1):
        return (
            create_index(ctx, table, columns),
            "ddl",
            f"An index on ({', '.join(columns)}) finds the rows it keeps directly.",
        )
    prefix = _prefix_like_index(ctx, table, preds)
    if prefix is not None:
        return prefix
    serving = serving_index(table, preds)
    if serving:
        return (
            f"ANALYZE {ctx.table_ref(table)}",
            "sql",
            f"The index {serving} exists, yet the planner preferred to read everything: its "
            "estimate of the rows matching is probably off; fresh statistics correct it.",
        )
    if not preds:
        return (
            None,
            None,
            "No index fix: the filter compares expressions (a function, a cast, an OR), not "
            "plain columns, so no index on a column serves it as written; an expression index "
            "or a rewrite would.",
        )
    return (
        None,
        None,
        "No index fix: an index on these columns exists or would not narrow the rows (the "
        "kept rows are spread over the table); selecting fewer rows, or partitioning, would.",
    )


def _prefix_like_index(
    ctx: Context, table: Table, preds: list[Predicate]
) -> tuple[str, str, str] | None:
    """PostgreSQL serves ``LIKE 'abc%'`` from a B-tree only under the C collation, or with a
    ``*_pattern_ops`` operator class: the index to add when a prefix search reads everything."""
    if not ctx.is_postgres:
        return None
    for p in preds:
        if p.op != "like" or p.leading_wildcard or not p.pattern or p.column is None:
            continue
        if not isinstance(p.subject, exp.Column):
            continue
        if any(
            "pattern_ops" in str(ix.get("definition") or "")
            for ix in table.indexes
            if p.column in table.index_columns(ix)
        ):
            return None  # there is one: the planner judged the prefix not selective
        declared = (table.column_type(p.column) or "").lower()
        ops = (
            "varchar_pattern_ops"
            if declared.startswith(("character varying", "varchar"))
            else "text_pattern_ops"
        )
        name = ctx.ident(ctx.free_name(index_name(table.name, p.column, suffix="pattern_idx")))
        return (
            f"CREATE INDEX {name} ON {ctx.table_ref(table)} ({ctx.ident(p.column)} {ops})",
            "ddl",
            f"`{p.text}` searches a prefix, but the database's collation keeps a plain B-tree "
            f"from serving LIKE; an index with {ops} compares bytes and does.",
        )
    return None


def _wasteful_join(ctx: Context, i: int, plan: Plan, node: PlanNode) -> Finding | None:
    removed = float(node.rows_removed_by_join_filter or 0.0)
    pairs = removed + float(node.actual_rows or 0.0)
    if pairs < WASTE_MIN_ROWS or removed / pairs < WASTE_SHARE:
        return None
    scan = inner_scan(node.children[-1]) if len(node.children) >= 2 else None
    table = ctx.table(scan.relation) if scan else None
    key = join_column(ctx, node, scan, table) if scan and table else None
    served = table.serving_index([key]) if table and key else None
    fix = create_index(ctx, table, [key]) if table and key and served is None else None
    if fix:
        why = f"An index on {key} lets each outer row look its matches up."
    elif served is not None:
        why = (
            f"{served.get('name')} already indexes {key}, yet the planner compared pairs: its "
            "estimate of the rows is probably off (fresh statistics, or extended ones for "
            "correlated columns, correct it)."
        )
    else:
        why = (
            "No index fix: the join condition does not compare a column of the inner table "
            "with the outer row (an expression, a range, an OR), so no index serves it as "
            "written; rewriting it as an equality on a column would."
        )
    return finding(
        "filter_waste",
        scan_severity(pairs, node.inclusive_time_ms, inclusive_share(plan, node)),
        f"{node.label} compares {fmt.count(pairs)} row pairs and discards "
        f"{fmt.percent(removed / pairs)}",
        f"Node #{node.id}'s join filter `{node.conditions.get('Join Filter', '?')}` rejected "
        f"{fmt.count(removed)} of {fmt.count(pairs)} combinations: the join is evaluated row by "
        f"row instead of looking the matches up. {why}",
        evidence={"plan": i, "node": node.id, "pairs": pairs, "removed": removed},
        fix=fix,
        fix_kind="ddl" if fix else None,
        expected_effect=f"matches are looked up instead of testing {fmt.count(pairs)} pairs",
        node_ids=[node.id],
        tables=[table.name] if table else [],
    )


RULES = (filter_waste,)
