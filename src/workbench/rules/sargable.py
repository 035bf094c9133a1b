"""Predicates an index cannot serve: ``non_sargable_predicate``, ``leading_wildcard_like``.

non_sargable_predicate
    A filter applies a function, cast or arithmetic to a column (``lower(email) = …``,
    ``date(created_at) = …``, ``created_at::date = …``, ``id + 1 = …``, ``coalesce(x, 0) = …``)
    and either the column leads an index (which the expression hides), ≥ 1,000 rows are read
    and the filter removes ≥ 50% of them, or the table has ≥ 10,000 rows and the filter
    removes ≥ 90% of them. Read from the plan's
    filters; from the statement's WHERE clause for tables no plan shows (no plan given, or
    SQLite). The fix rewrites the predicate as a range on the raw column where that is exact
    (day and year truncations, ``col ± k``, ``coalesce``), else an expression index.
leading_wildcard_like
    ``LIKE '%…'`` / ``'_…'`` (PostgreSQL ``~~``), or ``ILIKE`` (``~~*``) with a leading
    wildcard, over ≥ 1,000 rows. PostgreSQL: a trigram GIN index (``pg_trgm``); MySQL/MariaDB:
    a reversed generated column for suffix searches, else a FULLTEXT index; SQLite: an FTS5
    trigram table.

DuckDB is skipped: it scans columns with zone maps and would not use such indexes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlglot import exp

from workbench import formatting as fmt
from workbench.rules.base import Context, Table, normalize_expression
from workbench.rules.predicates import Predicate, sql_scopes
from workbench.rules.rewrites import index_expression, range_rewrite, rewrite_query
from workbench.rules.scans import Volume, condition_text, own_predicates, volume
from workbench.rules.text import finding, index_name, lookup_effect, scan_severity

if TYPE_CHECKING:
    from workbench.findings import Finding
    from workbench.plans.model import Plan, PlanNode

__all__ = ["RULES", "leading_wildcard_like", "non_sargable_predicate"]

INDEXED_MIN_ROWS = 1_000
LARGE_TABLE = 10_000
LIKE_MIN_ROWS = 1_000


def _plan_tables(ctx: Context) -> set[str]:
    """Tables the plans already speak for: those whose filters they show, and for SQLite
    (which shows no filters) those it reads through an index (SEARCH), which is then served."""
    if ctx.dialect == "sqlite":
        return {
            n.relation.lower() for _, _, n in ctx.nodes() if n.relation and n.operation == "SEARCH"
        }
    return {n.relation.lower() for _, _, n in ctx.nodes() if n.relation}


Candidate = tuple[Predicate, Table, tuple[int, "Plan", "PlanNode"] | None, Volume | None]


def _candidates(ctx: Context) -> list[Candidate]:
    """Every filter predicate on a table (both rules read them: computed once)."""
    if "sargable" not in ctx.memo:
        ctx.memo["sargable"] = list(_find_candidates(ctx))
    found: list[Candidate] = ctx.memo["sargable"]
    return found


def _find_candidates(ctx: Context) -> Iterator[Candidate]:
    """From plans, then from the SQL for tables no plan shows."""
    for i, plan, node in ctx.nodes():
        table = ctx.table_or_stub(node.relation)
        if table is None or not condition_text(node):
            continue
        vol = volume(ctx, plan, node, table)
        for p in own_predicates(ctx, node, table, from_sql=False):
            yield p, table, (i, plan, node), vol
    shown = _plan_tables(ctx)
    for scope in sql_scopes(ctx):
        for p in scope.predicates:
            table = scope.table_of(p, ctx)
            if table is not None and table.name.lower() not in shown:
                yield p, table, None, None


# -- non_sargable_predicate -----------------------------------------------------------------------
def non_sargable_predicate(ctx: Context) -> Iterator[Finding]:
    if ctx.dialect == "duckdb":
        return
    for p, table, where, vol in _candidates(ctx):
        if p.kind != "expr" or p.subject is None or p.leading_wildcard:
            continue
        if _worth_fixing(table, p, vol):
            yield _non_sargable(ctx, p, table, where, vol)


def _worth_fixing(table: Table, p: Predicate, vol: Volume | None) -> bool:
    if p.subject is None:
        return False
    if table.expression_index(normalize_expression(index_expression(p.subject, "postgres"))):
        return False  # the expression is indexed already: the planner chose not to use it
    indexed = table.leading_index(p.column or "") is not None
    rows = vol.read if vol else (table.rows or 0.0)
    if vol is not None and vol.removed_share < (0.5 if indexed else 0.9):
        return False  # the filter keeps too much for any index to pay off
    return (indexed and rows >= INDEXED_MIN_ROWS) or rows >= LARGE_TABLE


def _non_sargable(
    ctx: Context,
    p: Predicate,
    table: Table,
    where: tuple[int, Plan, PlanNode] | None,
    vol: Volume | None,
) -> Finding:
    assert p.subject is not None
    assert p.column is not None
    expression = index_expression(p.subject, ctx.sqlglot_dialect)
    index = table.leading_index(p.column)
    fix, kind, how = _sargable_fix(ctx, p, table)
    node = where[2] if where else None
    ms = node.inclusive_time_ms if node else None
    hides = (
        f"the index {index.get('name')} on {p.column} cannot be used"
        if index
        else f"no index on {p.column} could be used either"
    )
    seen = (
        f"Node #{node.id} ({node.label}) filters with `{p.text}`"
        if node
        else f"The query filters {table.name} with `{p.text}`"
    )
    rows = vol.read if vol else (table.rows or 0.0)
    if index is None and kind == "rewrite":  # the rewrite needs an index on the raw column
        how += (
            f" No index on {p.column} exists yet: CREATE INDEX "
            f"{index_name(table.name, p.column)} ON {ctx.table_ref(table)} "
            f"({ctx.ident(p.column)})."
        )
    return finding(
        "non_sargable_predicate",
        scan_severity(rows, ms, None) if index else "medium",
        f"`{expression}` in the filter hides {table.name}.{p.column} from its index"
        if index
        else f"`{expression}` on {table.name} ({fmt.count(rows)} rows) cannot use an index",
        f"{seen}: the database must compute {expression} for every row, so {hides}. {how}",
        evidence={
            "plan": where[0] if where else None,
            "node": node.id if node else None,
            "predicate": ctx.shareable(p.text),
            "column": p.column,
            "index": index.get("name") if index else None,
            "rows_read": vol.read if vol else None,
            "rows_kept": vol.kept if vol else None,
            "table_rows": table.rows,
            "time_ms": ms,
        },
        fix=fix,
        fix_kind=kind,
        expected_effect=(
            "with an index on the column, " if index is None and kind == "rewrite" else ""
        )
        + (
            lookup_effect(vol.read, vol.kept, ms)
            if vol and vol.measured
            else f"an index range scan instead of reading all {fmt.count(rows)} rows"
        ),
        node_ids=[node.id] if node else [],
        tables=[table.name],
    )


def _sargable_fix(ctx: Context, p: Predicate, table: Table) -> tuple[str, str, str]:
    """(fix, fix_kind, explanation): a rewrite when one is exact, else an expression index."""
    plan_level = range_rewrite(p)
    if plan_level is not None:
        query = rewrite_query(ctx, p)
        text = query or plan_level.sql(dialect=ctx.sqlglot_dialect)
        return (
            text,
            "rewrite",
            (
                f"Comparing the column itself (`{plan_level.sql(dialect=ctx.sqlglot_dialect)}`) "
                f"selects the same rows and lets an index on {p.column} serve them."
            ),
        )
    return _expression_index(ctx, p, table)


def _expression_index(ctx: Context, p: Predicate, table: Table) -> tuple[str, str, str]:
    assert p.subject is not None
    assert p.column is not None
    expression = index_expression(p.subject, ctx.sqlglot_dialect)
    words = re.findall(r"[a-z_][a-z0-9_]*", normalize_expression(expression))[:3]
    if not isinstance(p.subject, exp.Func):  # v + 1: name it apart from a plain index on v
        words.append("expr")
    name = ctx.ident(ctx.free_name(index_name(table.name, *words)))
    ref = ctx.table_ref(table)
    why = f"An index on the expression itself serves `{p.text}` as written."
    if ctx.dialect == "mariadb":  # no functional indexes: index a virtual column
        column = ctx.ident(f"{p.column}_{words[0]}")
        kind = table.column_type(p.column) or "VARCHAR(255)"
        return (
            f"ALTER TABLE {ref} ADD COLUMN {column} {kind} AS ({expression}) VIRTUAL, "
            f"ADD INDEX {name} ({column})",
            "ddl",
            why + f" MariaDB indexes expressions through a virtual column ({column}).",
        )
    if ctx.dialect == "mysql" or not isinstance(p.subject, exp.Func):
        # MySQL always, PostgreSQL unless it is a function call: an expression in parentheses
        expression = f"({expression})"
    return f"CREATE INDEX {name} ON {ref} ({expression})", "ddl", why


# -- leading_wildcard_like ------------------------------------------------------------------------
def leading_wildcard_like(ctx: Context) -> Iterator[Finding]:
    if ctx.dialect == "duckdb":
        return
    for p, table, where, vol in _candidates(ctx):
        if p.op not in ("like", "ilike") or not p.leading_wildcard or p.column is None:
            continue
        rows = vol.read if vol else (table.rows or 0.0)
        if rows < LIKE_MIN_ROWS or table.trigram_index(p.column) is not None:
            continue
        yield _wildcard(ctx, p, table, where, vol, rows)


def _wildcard(
    ctx: Context,
    p: Predicate,
    table: Table,
    where: tuple[int, Plan, PlanNode] | None,
    vol: Volume | None,
    rows: float,
) -> Finding:
    assert p.column is not None
    pattern = p.pattern or ""
    fix, how = _wildcard_fix(ctx, p, table, pattern)
    node = where[2] if where else None
    ms = node.inclusive_time_ms if node else None
    short = len(pattern.replace("%", "").replace("_", "")) < 3
    caveat = (
        " The search term has fewer than 3 characters: trigram indexes need at least 3."
        if short and ctx.is_postgres
        else ""
    )
    return finding(
        "leading_wildcard_like",
        scan_severity(rows, ms, None),
        f"{p.op.upper()} with a leading wildcard on {table.name}.{p.column} reads all "
        f"{fmt.count(rows)} rows",
        f"A pattern that starts with a wildcard (`{p.text}`) can match anywhere in the value, "
        f"so a B-tree index on {p.column} cannot narrow the search: every row is read and "
        f"tested. {how}{caveat}",
        evidence={
            "plan": where[0] if where else None,
            "node": node.id if node else None,
            "predicate": ctx.shareable(p.text),
            "leading": pattern[:1],
            "rows_read": rows,
            "rows_kept": vol.kept if vol else None,
            "time_ms": ms,
        },
        fix=fix,
        fix_kind="ddl",
        expected_effect=(
            lookup_effect(rows, vol.kept, ms, what="search")
            if vol and vol.measured
            else f"an index search instead of testing all {fmt.count(rows)} rows"
        ).replace("index lookup", "index search"),
        node_ids=[node.id] if node else [],
        tables=[table.name],
    )


def _wildcard_fix(ctx: Context, p: Predicate, table: Table, pattern: str) -> tuple[str, str]:
    assert p.column is not None
    assert p.subject is not None
    ref = ctx.table_ref(table)
    column = ctx.ident(p.column)
    if ctx.is_postgres:
        target = (
            column
            if isinstance(p.subject, exp.Column)
            else index_expression(p.subject, ctx.sqlglot_dialect)
        )
        name = ctx.ident(ctx.free_name(index_name(table.name, p.column, suffix="trgm_idx")))
        return (
            f"CREATE EXTENSION IF NOT EXISTS pg_trgm; "
            f"CREATE INDEX {name} ON {ref} USING gin ({target} gin_trgm_ops)",
            "A trigram index (pg_trgm) serves LIKE and ILIKE with wildcards anywhere.",
        )
    if ctx.dialect == "sqlite":
        key = (table.primary_key() or ["rowid"])[0]
        fts = ctx.ident(f"{table.name}_{p.column}_fts")
        return (
            f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{table.name}', "
            f"content_rowid='{key}', tokenize='trigram')",
            f"An FTS5 trigram table answers `{column} LIKE '{pattern}'` through an index: "
            f"query it with `WHERE {key} IN (SELECT rowid FROM {fts} WHERE {column} LIKE "
            f"'{pattern}')` (and keep it in sync with triggers).",
        )
    if pattern.startswith("%") and "%" not in pattern[1:] and "_" not in pattern[1:]:
        reversed_column = ctx.ident(f"{p.column}_reversed")
        kind = table.column_type(p.column) or "VARCHAR(255)"
        name = ctx.ident(ctx.free_name(index_name(table.name, p.column, "reversed")))
        return (
            f"ALTER TABLE {ref} ADD COLUMN {reversed_column} {kind} AS (reverse({column})) "
            f"STORED, ADD INDEX {name} ({reversed_column})",
            f"A suffix search becomes a prefix search on the reversed value: "
            f"`WHERE {reversed_column} LIKE '{pattern[1:][::-1]}%'` uses the index.",
        )
    name = ctx.ident(ctx.free_name(index_name(table.name, p.column, suffix="ft")))
    return (
        f"ALTER TABLE {ref} ADD FULLTEXT INDEX {name} ({column})",
        f"A FULLTEXT index answers word searches: `WHERE MATCH({column}) AGAINST "
        f"('{pattern.strip('%')}')` (MySQL: `WITH PARSER ngram` for substrings).",
    )


RULES = (non_sargable_predicate, leading_wildcard_like)
