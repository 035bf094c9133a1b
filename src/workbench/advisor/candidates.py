"""Candidate indexes from how each statement uses each table: the columns its filters compare
with a value (equality, ``IN``, ``IS NULL``; ranges), its join keys, its sort keys, the
columns it reads (for an index-only scan).

The shapes follow what a B-tree can do: equality columns first, then one range column (a
B-tree narrows on the first range it meets, so a second is only a filter); equality columns
then the ``ORDER BY`` keys (the rows come out sorted); each filter and join column alone (a
nested loop's inner lookups, and a baseline the composites must beat); and the composite with
the statement's other columns as ``INCLUDE`` (PostgreSQL) for an index-only scan. At most
:data:`MAX_KEYS` key columns.

A candidate an existing index already serves (same leading columns, directions or all
reversed, no predicate of its own) is never proposed, nor its twin with INCLUDE columns;
neither are columns of types a B-tree cannot order usefully (JSON, XML, geometry) or values
too wide for its pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlglot import exp

from workbench.advisor.model import IndexSpec
from workbench.health.indexes import Index, existing_for

__all__ = ["MAX_KEYS", "Usage", "candidates", "usages"]

MAX_KEYS = 3
MAX_INCLUDE = 4
#: average column width (bytes) above which a column is not worth a B-tree key
WIDE_KEY_BYTES = 200
_UNINDEXABLE = re.compile(
    r"^(json|xml|point|line|lseg|box|path|polygon|circle|geometry|geography|tsvector|"
    r"blob|longblob|mediumblob|longtext|mediumtext|bytea|hstore)",
    re.I,
)


@dataclass
class Usage:
    """How one statement (one SELECT scope of it) uses one table."""

    table: str
    eq: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    order: list[tuple[str, str]] = field(default_factory=list)  # (column, "asc"|"desc")
    read: list[str] | None = field(default_factory=list)  # None: every column (SELECT *)


def _scope_tables(select: exp.Select) -> dict[str, str]:
    """alias (lower case) → table name, for the tables directly in this SELECT."""
    out = {}
    for table in select.find_all(exp.Table):
        if table.name and table.find_ancestor(exp.Select) is select:
            out[table.alias_or_name.lower()] = table.name.lower()
    return out


def _owner(column: exp.Column, scope: dict[str, str], columns: dict[str, set[str]]) -> str | None:
    qualifier = column.table.lower() if column.table else None
    if qualifier:
        return scope.get(qualifier)
    name = column.name.lower()
    owners = [t for t in dict.fromkeys(scope.values()) if name in columns.get(t, set())]
    if len(owners) == 1:
        return owners[0]
    tables = list(dict.fromkeys(scope.values()))
    return tables[0] if len(tables) == 1 else None


def _conjuncts(condition: exp.Expr | None) -> list[exp.Expr]:
    if condition is None:
        return []
    if isinstance(condition, exp.And):
        return [*_conjuncts(condition.this), *_conjuncts(condition.expression)]
    if isinstance(condition, exp.Paren):
        return _conjuncts(condition.this)
    return [condition]


def _is_value(node: exp.Expr | None) -> bool:
    """A literal, a placeholder or an expression without columns (``now() - interval``)."""
    return node is not None and not any(True for _ in node.find_all(exp.Column))


def usages(sql: str, dialect: str, columns: dict[str, set[str]]) -> list[Usage]:
    """How each SELECT of ``sql`` uses each table; ``columns`` maps tables to their columns
    (lower case), to place unqualified columns."""
    import sqlglot

    from workbench.sqltext import sqlglot_dialect

    tree = sqlglot.parse_one(sql, read=sqlglot_dialect(dialect))
    found: list[Usage] = []
    for select in tree.find_all(exp.Select):
        scope = _scope_tables(select)
        if not scope:
            continue
        by_table: dict[str, Usage] = {t: Usage(t) for t in dict.fromkeys(scope.values())}
        conditions = [select.args.get("where")]
        conditions += [j.args.get("on") for j in select.args.get("joins") or []]
        for condition in conditions:
            inner = condition.this if isinstance(condition, exp.Where) else condition
            for part in _conjuncts(inner):
                _predicate(part, scope, columns, by_table)
        order = select.args.get("order")
        if order is not None:
            keys: list[tuple[str, str, str]] = []
            for item in order.expressions:
                node = item.this if isinstance(item, exp.Ordered) else item
                owner = _owner(node, scope, columns) if isinstance(node, exp.Column) else None
                if owner is None:
                    keys = []
                    break
                keys.append((owner, node.name.lower(), "desc" if item.args.get("desc") else "asc"))
            if keys and len({k[0] for k in keys}) == 1:
                by_table[keys[0][0]].order = [(c, d) for _, c, d in keys]
        for usage in by_table.values():
            usage.read = _read(select, scope, columns, usage.table)
        found.extend(by_table.values())
    return found


def _predicate(
    part: exp.Expr, scope: dict[str, str], columns: dict[str, set[str]], by: dict[str, Usage]
) -> None:
    def owned(node: exp.Expr | None) -> tuple[str, str] | None:
        if not isinstance(node, exp.Column) or not node.name:
            return None
        owner = _owner(node, scope, columns)
        return (owner, node.name.lower()) if owner in by else None

    if isinstance(part, exp.EQ | exp.GT | exp.GTE | exp.LT | exp.LTE):
        left, right = owned(part.this), owned(part.expression)
        if left and right and left[0] != right[0]:
            if isinstance(part, exp.EQ):
                by[left[0]].joins.append(left[1])
                by[right[0]].joins.append(right[1])
            return
        column = (
            left
            if left and _is_value(part.expression)
            else right
            if right and _is_value(part.this)
            else None
        )
        if column is None:
            return
        target = by[column[0]].eq if isinstance(part, exp.EQ) else by[column[0]].ranges
        target.append(column[1])
    elif isinstance(part, exp.In) and not part.args.get("query"):
        column = owned(part.this)
        if column and all(_is_value(e) for e in part.expressions):
            by[column[0]].eq.append(column[1])
    elif isinstance(part, exp.Is):
        column = owned(part.this)
        if column:
            by[column[0]].eq.append(column[1])
    elif isinstance(part, exp.Between):
        column = owned(part.this)
        if column and _is_value(part.args.get("low")) and _is_value(part.args.get("high")):
            by[column[0]].ranges.append(column[1])


def _read(
    select: exp.Select, scope: dict[str, str], columns: dict[str, set[str]], table: str
) -> list[str] | None:
    for star in select.expressions:
        if isinstance(star, exp.Star):
            return None
        qualified_star = isinstance(star, exp.Column) and isinstance(star.this, exp.Star)
        if qualified_star and (not star.table or scope.get(star.table.lower()) == table):
            return None
    read = []
    for column in select.find_all(exp.Column):
        if column.find_ancestor(exp.Select) is not select or not column.name:
            continue
        if _owner(column, scope, columns) == table:
            read.append(column.name.lower())
    return list(dict.fromkeys(read))


@dataclass
class TableFacts:
    """What candidate generation needs of a table: its columns' types and average widths, and
    its existing indexes."""

    name: str
    types: dict[str, str]
    widths: dict[str, float]
    indexes: list[Index]
    schema: str | None = None


def candidates(
    usage: Usage, facts: TableFacts, *, dialect: str, covering: bool = True
) -> list[IndexSpec]:
    """The candidate indexes for one usage, without those an existing index serves."""

    def ok(column: str) -> bool:
        kind = facts.types.get(column)
        if kind is None or _UNINDEXABLE.match(kind):
            return False
        return facts.widths.get(column, 0.0) <= WIDE_KEY_BYTES

    eq = [c for c in dict.fromkeys(usage.eq) if ok(c)][:MAX_KEYS]
    ranges = [c for c in dict.fromkeys(usage.ranges) if ok(c) and c not in eq]
    joins = [c for c in dict.fromkeys(usage.joins) if ok(c) and c not in eq]
    order = [(c, d) for c, d in usage.order if ok(c)]
    shapes: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    if eq or ranges:
        keys = (*eq, *ranges[:1])[:MAX_KEYS]
        shapes.append((keys, ()))
    if order and len(order) == len(usage.order):
        lead = [c for c in eq if c not in {o for o, _ in order}]
        keys = (*lead, *(c for c, _ in order))[:MAX_KEYS]
        directions = (*["asc"] * len(lead), *(d for _, d in order))[: len(keys)]
        if len(keys) > len(lead):
            shapes.append((keys, tuple(directions) if "desc" in directions else ()))
    for column in (*eq, *ranges[:2], *joins[:2]):
        shapes.append(((column,), ()))
    for join in joins[:2]:
        if eq:
            shapes.append(((join, *eq)[:MAX_KEYS], ()))
    out: list[IndexSpec] = []
    for keys, directions in shapes:
        spec = IndexSpec(facts.name, keys, directions=directions, schema=facts.schema)
        out.append(spec)
    if covering and dialect == "postgresql" and out and usage.read is not None:
        first = out[0]
        extra = [c for c in usage.read if c not in first.columns and ok(c)]
        if extra and len(extra) <= MAX_INCLUDE:
            out.append(
                IndexSpec(facts.name, first.columns, tuple(extra), first.directions, facts.schema)
            )
    return [spec for spec in dict.fromkeys(out) if not _served(spec, facts.indexes)]


def _served(spec: IndexSpec, indexes: Iterable[Index]) -> bool:
    """An existing index already has these leading keys: a twin with extra INCLUDE columns
    would be the pair ``s.health()`` calls redundant, so it is not proposed either."""
    found = existing_for(
        spec.table, spec.columns, list(indexes), directions=spec.directions, schema=spec.schema
    )
    return found is not None
