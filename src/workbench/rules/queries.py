"""Query-shape rules: ``n_plus_one``, ``select_star_wide_rows``.

n_plus_one
    A captured statement run ≥ 5 times with different values (``ev.captures``). Fix: eager
    loading (SQLAlchemy ``selectinload``) when the SQL looks ORM-generated, else one query with
    ``IN``/``= ANY`` over all the values.
select_star_wide_rows
    ``SELECT *`` (or ``t.*``) in the outer query over a table with wide columns (judged by
    the statistics' average width, ≥ 100 bytes, not by the declared type: most ``text``
    columns hold a few bytes; without statistics only JSON, binaries and documents count)
    returning ≥ 100 rows (or an unknown number); or, without the SQL, a
    plan whose rows average ≥ 300 bytes and number ≥ 10,000. Fix: the statement with the
    columns listed, wide ones left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from workbench import formatting as fmt
from workbench.rules.base import Context, Table
from workbench.rules.text import finding, named_params, number

if TYPE_CHECKING:
    from workbench.findings import Finding

__all__ = ["RULES", "n_plus_one", "select_star_wide_rows"]

N_PLUS_ONE_MIN = 5
STAR_MIN_ROWS = 100
WIDE_ROW_BYTES = 300
WIDE_PLAN_ROWS = 10_000
_ORM_LABEL = re.compile(r"\b(\w+)\.(\w+) as \1_\2\b", re.I)  # SQLAlchemy: orders.id AS orders_id


# -- n_plus_one -----------------------------------------------------------------------------------
def n_plus_one(ctx: Context) -> Iterator[Finding]:
    captures: list[Any] = list(ctx.ev.captures or ())  # from JSON: trust no shape
    for position, capture in enumerate(captures):
        if not isinstance(capture, dict):
            continue
        summary = capture.get("summary")
        groups = summary.get("n_plus_one") if isinstance(summary, dict) else None
        for group in groups if isinstance(groups, list) else ():
            if isinstance(group, dict) and number(group.get("count")) >= N_PLUS_ONE_MIN:
                yield _n_plus_one(ctx, position, group)


def _n_plus_one(ctx: Context, position: int, group: dict[str, Any]) -> Finding:
    sql = str(group.get("sql") or "")
    count = int(number(group.get("count")))
    total = number(group.get("total_ms"))
    listed = group.get("call_sites")
    sites = [str(s) for s in listed] if isinstance(listed, list | tuple) else []
    site = sites[0] if sites else "an unknown call site"
    named = group.get("relationships")
    relationships = [str(r) for r in named if r] if isinstance(named, list | tuple) else []
    fix, kind, how = _eager_fix(relationships) if relationships else _batch_fix(ctx, sql)
    eager = "selectinload" in fix or "joinedload" in fix
    return finding(
        "n_plus_one",
        "high" if count >= 50 or total >= 100 else "medium" if count >= 10 else "low",
        f"N+1: the same statement ran {count} times from {site}",
        f"`{sql[:200]}` was sent {count} times with different values "
        f"({fmt.milliseconds(total)} in the "
        f"database, plus a network round trip each), typically one per row of an earlier "
        f"result, from {', '.join(sites[:3]) or 'unknown code'}. {how}",
        evidence={
            "capture": position,
            "sql": sql,
            "count": count,
            "total_ms": total,
            "call_sites": sites,
            "relationships": relationships,
        },
        fix=fix,
        fix_kind=kind,
        expected_effect=f"{count} statements become {'one eager-loading query' if eager else 'one'}"
        f": {count - 1} fewer network round trips and most of their {fmt.milliseconds(total)} of "
        "database time saved",
        tables=_tables_in(sql),
    )


def _tables_in(sql: str) -> list[str]:
    """The tables a statement reads, first the one after FROM (quoted or qualified names too)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql)
    except Exception:  # a dialect sqlglot cannot read: take the name after FROM
        tree = None
    names = [t.name for t in tree.find_all(exp.Table) if t.name] if tree is not None else []
    if names:
        return list(dict.fromkeys(names))
    match = re.search(r"\bfrom\s+([\w.\"`]+)", sql, re.I)
    if not match:
        return []
    name = match.group(1).split(".")[-1].strip('"`')
    return [name] if name else []


_PARAM = r"\?(?:::[\w ]+?)?"
_KEY = re.compile(rf"([\w.\"]+)\s*=\s*{_PARAM}(?=\s|\)|$)|{_PARAM}\s*=\s*([\w.\"]+)", re.I)
_QUALIFIED_LIST = re.compile(r"^\s*select\s+(\w+)\.\w+(?:\s*,\s*\1\.\w+)*\s+from\s+\1\b", re.I)


def _eager_fix(relationships: list[str]) -> tuple[str, str, str]:
    """The fix when the capture saw SQLAlchemy name the lazy-loaded relationship."""
    attribute = relationships[0]
    model = attribute.split(".")[0]
    fix = f"select({model}).options(selectinload({attribute}))"
    how = (
        f"SQLAlchemy lazy-loaded {attribute} once per {model}: load it for all of them with "
        f"the query that loads the {model} objects (selectinload: one more query in all; "
        "joinedload for a many-to-one)."
    )
    return fix, "code", how


def _batch_fix(ctx: Context, sql: str) -> tuple[str, str, str]:
    where = re.search(r"\bwhere\b", sql, re.I)
    key = _KEY.search(sql, where.end()) if where else None
    column = (key.group(1) or key.group(2)).strip('"') if key else None
    tables = _tables_in(sql)
    orm = bool(_ORM_LABEL.search(sql) or _QUALIFIED_LIST.search(sql))
    if orm and column and tables:
        child = tables[0]
        bare = column.split(".")[-1]
        if bare.endswith("_id"):  # one-to-many: the parent's collection, loaded per parent
            parent = bare[:-3].title().replace("_", "")
            fix = f"select({parent}).options(selectinload({parent}.{child}))"
            how = (
                f"The SQL looks generated by SQLAlchemy lazy loading of {parent}.{child}: "
                "load the collection for all parents in one query (names guessed from the "
                "SQL; use your model's relationship)."
            )
        else:  # many-to-one: each object loads its parent by key
            relationship = child[:-1] if child.endswith("s") else child
            fix = f"select(<Model>).options(joinedload(<Model>.{relationship}))"
            how = (
                f"The SQL looks generated by SQLAlchemy lazy loading of one {child} row per "
                "object: eager-load the relationship with the first query (names guessed from "
                "the SQL; use your model's relationship)."
            )
        return fix, "code", how
    if column and key is not None:
        operator = "= ANY(:ids)" if ctx.is_postgres else "IN :ids"
        batched = sql[: key.start()] + f"{column} {operator}" + sql[key.end() :]
        how = (
            f"Collect the {column} values first and fetch all rows in one statement"
            + ("" if ctx.is_postgres else " (SQLAlchemy: bindparam('ids', expanding=True))")
            + ", then group them in Python."
        )
        return batched, "code", how
    return (
        "fetch the rows for all values in one query (WHERE key IN (...)) or eager-load the "
        "relationship",
        "code",
        "Batch the lookups into one query.",
    )


# -- select_star_wide_rows ------------------------------------------------------------------------
def select_star_wide_rows(ctx: Context) -> Iterator[Finding]:
    tree = ctx.sql_tree
    if isinstance(tree, exp.Select):
        found = _star(ctx, tree)
        if found is not None:
            yield found
    elif tree is None and ctx.plans:
        yield from _wide_plan_rows(ctx)


def _result_rows(ctx: Context) -> tuple[float | None, int | None]:
    """Rows the statement returned (or was estimated to) and their width, from its plans."""
    rows: float | None = None
    width: int | None = None
    for plan in ctx.plans:
        root = plan.root
        value = root.actual_rows if root.actual_rows is not None else root.estimated_rows
        if plan.statement_rows is not None:
            value = float(plan.statement_rows)
        if value is not None:
            rows = max(rows or 0.0, float(value))
        if root.width:
            width = max(width or 0, int(root.width))
    return rows, width


def _star(ctx: Context, select: exp.Select) -> Finding | None:
    stars = [e for e in select.expressions if _is_star(e)]
    if not stars:
        return None
    sources = _sources(ctx, select)
    covered = {}
    for star in stars:
        qualifier = star.table.lower() if isinstance(star, exp.Column) and star.table else None
        for alias, table in sources.items():
            if table is not None and (qualifier is None or qualifier == alias):
                covered[alias] = table
    wide = {alias: t.wide_columns() for alias, t in covered.items() if t.wide_columns()}
    if not wide:
        return None
    rows, width = _result_rows(ctx)
    if rows is not None and rows < STAR_MIN_ROWS:
        return None
    fix = _listed(ctx, select, sources)
    dropped = [f"{covered[a].name}.{c}" for a, cols in wide.items() for c in cols]
    names = list(dict.fromkeys(t.name for t in covered.values()))
    return finding(
        "select_star_wide_rows",
        "medium"
        if (rows or 0.0) >= 10_000 or ((width or 0) >= WIDE_ROW_BYTES and (rows or 0) >= 1_000)
        else "low",
        f"SELECT * fetches wide columns ({', '.join(dropped)})"
        + (f" for {fmt.count(rows)} rows" if rows else ""),
        f"The query selects every column, including {', '.join(dropped)}: each row "
        + (f"averages {width} bytes, " if width else "")
        + "so large values are read (and de-compressed from TOAST storage), copied and sent "
        "whether the caller uses them or not. List the columns the caller needs.",
        evidence={"rows": rows, "row_width": width, "wide_columns": dropped},
        fix=fix,
        fix_kind="rewrite" if fix else None,
        expected_effect=_narrow_effect(rows, width, covered, wide),
        tables=names,
    )


def _is_star(expression: exp.Expr) -> bool:
    return isinstance(expression, exp.Star) or (
        isinstance(expression, exp.Column) and isinstance(expression.this, exp.Star)
    )


def _sources(ctx: Context, select: exp.Select) -> dict[str, Table | None]:
    out: dict[str, Table | None] = {}
    for table in select.find_all(exp.Table):
        if table.find_ancestor(exp.Select) is select and table.name:
            out[table.alias_or_name.lower()] = ctx.table(table.name)
    return out


def _listed(ctx: Context, select: exp.Select, sources: dict[str, Table | None]) -> str | None:
    """The statement with each ``*`` replaced by the narrow columns it stands for."""
    tree = ctx.sql_tree
    if tree is None:
        return None
    copy = tree.copy()
    target = copy if isinstance(copy, exp.Select) else None
    if target is None:
        return None
    several = len(sources) > 1
    expressions: list[exp.Expr] = []
    for item in target.expressions:
        if not _is_star(item):
            expressions.append(item)
            continue
        qualifier = item.table.lower() if isinstance(item, exp.Column) and item.table else None
        for alias, table in sources.items():
            if qualifier not in (None, alias):
                continue
            if table is None or not table.columns:
                return None  # unknown columns: cannot list them
            wide = {c.lower() for c in table.wide_columns()}
            for column in table.column_list:
                name = str(column.get("name"))
                if name.lower() not in wide:
                    expressions.append(
                        exp.column(name, table=alias if several or qualifier else None)
                    )
    target.set("expressions", expressions)
    return named_params(copy.sql(dialect=ctx.sqlglot_dialect))


_TYPE_BYTES = (
    (re.compile(r"^(bigint|int8|double|float8|timestamp|datetime|numeric|decimal|money)"), 8),
    (re.compile(r"^(int|integer|int4|real|float4|date|serial)"), 4),
    (re.compile(r"^(smallint|int2|tinyint)"), 2),
    (re.compile(r"^(bool|boolean)"), 1),
    (re.compile(r"^uuid"), 16),
)


def _narrow_width(tables: dict[str, Table], wide: dict[str, list[str]]) -> int:
    total = 0
    for alias, table in tables.items():
        skip = {c.lower() for c in wide.get(alias, [])}
        measured = table.column_widths()  # the statistics' averages, where known
        for column in table.column_list:
            if str(column.get("name", "")).lower() in skip:
                continue
            if str(column.get("name", "")).lower() in measured:
                total += round(measured[str(column.get("name", "")).lower()])
                continue
            kind = str(column.get("type") or "").lower()
            size = next((n for pattern, n in _TYPE_BYTES if pattern.match(kind)), None)
            if size is None:
                length = re.search(r"\((\d+)\)", kind)
                size = min(int(length.group(1)), 32) if length else 16
            total += size
    return max(total, 1)


def _narrow_effect(
    rows: float | None, width: int | None, tables: dict[str, Table], wide: dict[str, list[str]]
) -> str:
    narrow = _narrow_width(tables, wide)
    if rows and width and width > narrow:
        before, after = rows * width / 1e6, rows * narrow / 1e6
        return (
            f"rows shrink from ~{width} to ~{narrow} bytes: {fmt.count(rows)} rows carry "
            f"~{after:,.1f} MB instead of ~{before:,.1f} MB"
        )
    return "the wide columns are no longer read, decompressed and sent with every row"


def _wide_plan_rows(ctx: Context) -> Iterator[Finding]:
    """Without the SQL: a plan whose output rows are wide and many."""
    rows, width = _result_rows(ctx)
    if not rows or not width or width < WIDE_ROW_BYTES or rows < WIDE_PLAN_ROWS:
        return
    relations = list(dict.fromkeys(r for p in ctx.plans for r in p.relations))
    yield finding(
        "select_star_wide_rows",
        "low",
        f"The statement returns {fmt.count(rows)} rows of ~{width} bytes",
        f"Each of the {fmt.count(rows)} rows averages {width} bytes (~{rows * width / 1e6:,.1f} "
        "MB in all): if the caller does not use every column, select only those it needs.",
        evidence={"rows": rows, "row_width": width},
        fix="SELECT <the columns the caller uses> FROM … (instead of SELECT *)",
        fix_kind="rewrite",
        expected_effect="less data read, decompressed and sent for every row",
        tables=relations,
    )


RULES = (n_plus_one, select_star_wide_rows)
