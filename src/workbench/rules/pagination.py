"""``offset_pagination``: OFFSET reads and discards every row before the page.

Fires on ``OFFSET n`` with n ≥ 1,000 in the statement, or (PostgreSQL) on a Limit whose input
produced ≥ 1,000 rows and ≥ 10× what it returned (an OFFSET given as a parameter). The fix is
the keyset rewrite of the statement itself: ``WHERE (sort columns) < (:last_…)`` in the
query's own ORDER BY directions (a row comparison on PostgreSQL and SQLite, the expanded
``a < :a OR (a = :a AND b < :b)`` elsewhere or for mixed directions), the primary key added as
a tiebreaker when the order is not unique, and the index that serves it when none does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from workbench import formatting as fmt
from workbench.rules.base import Context, Table
from workbench.rules.text import finding, index_name, named_params

if TYPE_CHECKING:
    from workbench.findings import Finding

__all__ = ["RULES", "offset_pagination"]

OFFSET_MIN = 1_000
LIMIT_WASTE_FACTOR = 10.0


def _offset_select(ctx: Context) -> tuple[int, exp.Select, int | None] | None:
    """(position among the statement's SELECTs, the SELECT with an OFFSET, its value)."""
    tree = ctx.sql_tree
    if tree is None:
        return None
    for position, select in enumerate(tree.find_all(exp.Select)):
        offset = select.args.get("offset")
        if offset is None:
            continue
        value = offset.expression
        text = str(value.this) if isinstance(value, exp.Literal) else ""
        return position, select, int(text) if text.isdigit() else None
    return None


def _plan_skip(ctx: Context) -> tuple[int, Any, float, float] | None:
    """(plan, Limit node, rows skipped, rows returned) from a PostgreSQL plan."""
    if not ctx.is_postgres:  # other engines' limits read whole vectors/batches
        return None
    for i, _plan, node in ctx.nodes():
        if not node.operation.startswith("Limit") or not node.children:
            continue
        pulled, kept = node.children[0].actual_rows, node.actual_rows
        if pulled is None or kept is None:
            continue
        skipped = pulled - kept
        if skipped >= OFFSET_MIN and pulled >= LIMIT_WASTE_FACTOR * max(kept, 1.0):
            return i, node, skipped, kept
    return None


def offset_pagination(ctx: Context) -> Iterator[Finding]:
    from_sql = _offset_select(ctx)
    from_plan = _plan_skip(ctx)
    offset = from_sql[2] if from_sql else None
    if offset is None and from_plan is not None:
        offset = int(from_plan[2])
    if offset is None or offset < OFFSET_MIN:
        return
    rewrite = _keyset(ctx, from_sql[0]) if from_sql else None
    limit = _limit(from_sql[1]) if from_sql else (from_plan[3] if from_plan else None)
    node = from_plan[1] if from_plan else None
    ms = node.inclusive_time_ms if node is not None else None
    table = _main_table(ctx, from_sql[1]) if from_sql else None
    fix, order, index = rewrite if rewrite else (None, [], None)
    yield finding(
        "offset_pagination",
        "high" if offset >= 100_000 or (ms or 0.0) >= 100 else "medium",
        f"OFFSET {fmt.count(offset)}: each page reads and throws away {fmt.count(offset)} rows",
        f"To return {fmt.count(limit) if limit else 'a page of'} rows at OFFSET "
        f"{fmt.count(offset)}, the database produces every earlier row in order and discards "
        "it, so each page is slower than the last. Keyset pagination remembers where the "
        "previous page ended and starts there."
        + (
            f" Sorting by ({', '.join(order)}) from an index ({index}) makes each page a short "
            "index range read."
            if index
            else ""
        ),
        evidence={
            "plan": from_plan[0] if from_plan else None,
            "node": node.id if node is not None else None,
            "offset": offset,
            "limit": limit,
            "order_by": order,
            "time_ms": ms,
        },
        fix=fix
        or "WHERE (sort_col, id) < (:last_sort_col, :last_id) ORDER BY sort_col DESC, id DESC "
        "LIMIT :n",
        fix_kind="rewrite",
        expected_effect=f"each page reads ~{fmt.count(limit) if limit else 'a page of'} rows "
        f"instead of {fmt.count(offset + (limit or 0))}, whatever the page number"
        + (f": from ~{fmt.milliseconds(ms)} to about a millisecond" if ms else "")
        + (" once the index exists" if index and ms else ""),
        node_ids=[node.id] if node is not None else [],
        tables=[table.name] if table else [],
    )


def _limit(select: exp.Select) -> int | None:
    limit = select.args.get("limit")
    value = limit.expression if limit is not None else None
    text = str(value.this) if isinstance(value, exp.Literal) else ""
    return int(text) if text.isdigit() else None


def _main_table(ctx: Context, select: exp.Select) -> Table | None:
    source = select.args.get("from") or select.args.get("from_")
    table = source.find(exp.Table) if source is not None else None
    return ctx.table(table.name) if table is not None else None


def _keyset(ctx: Context, position: int) -> tuple[str, list[str], str | None] | None:
    """The statement rewritten for keyset pagination: (SQL, order columns, index DDL)."""
    tree = ctx.sql_tree
    if tree is None:
        return None
    tree = tree.copy()
    select = list(tree.find_all(exp.Select))[position]
    table = _main_table(ctx, select)
    keys = _order_keys(select, table)
    if not keys:
        return None
    select.set("offset", None)
    select.set("order", _order_by(select, keys))
    condition = _after(ctx, keys)
    select.where(condition, copy=False)
    sql = named_params(tree.sql(dialect=ctx.sqlglot_dialect))
    names = [c.name for c, _ in keys]
    index = None
    directions = ["desc" if d else "asc" for _, d in keys]
    if table is not None and table.serving_index(names, directions) is None:
        cols = ", ".join(
            ctx.ident(n) + (" DESC" if d else "") for n, (_, d) in zip(names, keys, strict=True)
        )
        name = ctx.ident(ctx.free_name(index_name(table.name, *names)))
        index = f"CREATE INDEX {name} ON {ctx.table_ref(table)} ({cols})"
    return sql, names, index


def _order_keys(select: exp.Select, table: Table | None) -> list[tuple[exp.Column, bool]] | None:
    """ORDER BY columns with their direction, plus a unique tiebreaker when needed."""
    order = select.args.get("order")
    keys: list[tuple[exp.Column, bool]] = []
    for item in order.expressions if order is not None else ():
        column = item.this
        if not isinstance(column, exp.Column):
            return None  # an expression: keyset needs the same expression; left to a person
        keys.append((column, bool(item.args.get("desc"))))
    unique = set(table.unique_columns()) if table else set()
    if not any(c.name.lower() in unique for c, _ in keys):
        key = (table.primary_key() if table else []) or ([] if keys else ["id"])
        if len(key) == 1:
            qualifier = keys[0][0].table if keys else ""
            desc = keys[-1][1] if keys else False
            keys.append((exp.column(key[0], table=qualifier or None), desc))
    return keys


def _order_by(select: exp.Select, keys: list[tuple[exp.Column, bool]]) -> exp.Order:
    """The query's ORDER BY as written, plus the tiebreaker ordered like its last key."""
    order = select.args.get("order")
    items = [item.copy() for item in order.expressions] if order is not None else []
    for column, desc in keys[len(items) :]:
        template = items[-1].copy() if items else exp.Ordered(desc=desc, nulls_first=False)
        template.set("this", column.copy())
        items.append(template)
    return exp.Order(expressions=items)


def _after(ctx: Context, keys: list[tuple[exp.Column, bool]]) -> exp.Expr:
    """Rows after the last one of the previous page, in the ORDER BY's directions."""
    params = [exp.Placeholder(this=f"last_{c.name}") for c, _ in keys]
    same = len({d for _, d in keys}) == 1
    if same and ctx.dialect in ("postgresql", "sqlite") and len(keys) > 1:
        builder = exp.LT if keys[0][1] else exp.GT
        return builder(
            this=exp.Tuple(expressions=[c.copy() for c, _ in keys]),
            expression=exp.Tuple(expressions=params),
        )
    alternatives = []
    for k, (column, desc) in enumerate(keys):
        parts: list[exp.Expr] = [
            exp.EQ(this=keys[j][0].copy(), expression=params[j].copy()) for j in range(k)
        ]
        builder = exp.LT if desc else exp.GT
        parts.append(builder(this=column.copy(), expression=params[k].copy()))
        alternatives.append(exp.and_(*parts))
    return exp.Paren(this=exp.or_(*alternatives)) if len(alternatives) > 1 else alternatives[0]


RULES = (offset_pagination,)
