"""Values for a normalized statement's placeholders, so its plan can be costed and its
latency measured.

``pg_stat_statements`` and performance_schema keep statements with their constants replaced
(``WHERE account_id = $1 AND created_at >= $2``). Each placeholder compared with a column gets
a value from that column's statistics: equality and ``IN`` the most common value (on a skewed
column, the heavy case the workload pays for), ``>``/``>=`` the value 90% of the way through
the histogram (about the last tenth of the rows), ``<``/``<=`` the value 10% of the way,
``BETWEEN`` the middle tenth; ``LIMIT`` gets 20 and ``OFFSET`` 0. PostgreSQL reads
``pg_stats``; the other engines read a row at that position of the column's order. What was
chosen is said in words (``"account_id = most common value"``), never with the values: they
are data, and the advice is recorded and exported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

if TYPE_CHECKING:
    from workbench.execution import Transaction

__all__ = ["Filled", "fill", "has_placeholders"]

_PLACEHOLDERS = (exp.Placeholder, exp.Parameter)
_POSITION = {"eq": None, "gt": 0.9, "lt": 0.1, "low": 0.45, "high": 0.55}


@dataclass
class Filled:
    """A statement with its placeholders replaced: ``sql`` runs; ``values`` says how."""

    sql: str
    values: str | None
    missing: list[str]


def has_placeholders(tree: exp.Expr) -> bool:
    return any(True for _ in tree.find_all(*_PLACEHOLDERS))


def _column_of(
    node: exp.Expr, aliases: dict[str, str], tables: list[str]
) -> tuple[str, str] | None:
    """(table, column) of the column ``node`` compares with, when it is one."""
    if not isinstance(node, exp.Column) or not node.name:
        return None
    qualifier = node.table.lower() if node.table else None
    if qualifier:
        table = aliases.get(qualifier)
        return (table, node.name) if table else None
    return (tables[0], node.name) if len(tables) == 1 else None


def _role(placeholder: exp.Expr) -> tuple[str, exp.Expr | None]:
    """How the placeholder is used: ``("eq"|"gt"|"lt"|"low"|"high", the column side)``, or
    ``("limit"|"offset", None)``, or ``("?", None)``."""
    parent = placeholder.parent
    if isinstance(parent, exp.Limit):
        return "limit", None
    if isinstance(parent, exp.Offset):
        return "offset", None
    if isinstance(parent, exp.In):
        return "eq", parent.this
    if isinstance(parent, exp.Between):
        return ("low" if parent.args.get("low") is placeholder else "high"), parent.this
    pairs = {exp.EQ: ("eq", "eq"), exp.GT: ("gt", "lt"), exp.GTE: ("gt", "lt")}
    pairs |= {exp.LT: ("lt", "gt"), exp.LTE: ("lt", "gt")}
    for kind, (left_role, right_role) in pairs.items():
        if isinstance(parent, kind):
            if parent.expression is placeholder:  # column OP value
                return left_role, parent.this
            return right_role, parent.expression  # value OP column
    return "?", None


def fill(tx: Transaction, sql: str, dialect: str) -> Filled:
    """``sql`` with every placeholder replaced by a value from the statistics (see the module
    docstring); ``missing`` names the placeholders no value could be found for."""
    import sqlglot

    from workbench.sqltext import sqlglot_dialect

    read = sqlglot_dialect(dialect)
    tree = sqlglot.parse_one(sql, read=read)
    if not has_placeholders(tree):
        return Filled(sql, None, [])
    aliases: dict[str, str] = {}
    tables: list[str] = []
    for table in tree.find_all(exp.Table):
        if table.name:
            aliases[table.alias_or_name.lower()] = table.name
            tables.append(table.name)
    tables = list(dict.fromkeys(tables))
    described: list[str] = []
    missing: list[str] = []
    memo: dict[tuple[str, str, str], Any] = {}
    mcv_index: dict[tuple[str, str], int] = {}
    for placeholder in list(tree.find_all(*_PLACEHOLDERS)):
        role, side = _role(placeholder)
        if role == "limit":
            placeholder.replace(exp.Literal.number(20))
            described.append("LIMIT 20")
            continue
        if role == "offset":
            placeholder.replace(exp.Literal.number(0))
            continue
        target = _column_of(side, aliases, tables) if side is not None else None
        if role == "?" or target is None:
            missing.append(placeholder.sql(dialect=read))
            continue
        key = (*target, role)
        if role == "eq" and isinstance(placeholder.parent, exp.In):
            position = mcv_index.get(target, 0)  # IN ($1, $2): distinct common values
            mcv_index[target] = position + 1
            value = _value(tx, dialect, target, role, position)
        else:
            if key not in memo:
                memo[key] = _value(tx, dialect, target, role, 0)
            value = memo[key]
        if value is None:
            missing.append(placeholder.sql(dialect=read))
            continue
        placeholder.replace(exp.Literal.string(str(value)))
        described.append(_describe(target[1], role))
    text = tree.sql(dialect=read)
    return Filled(text, ", ".join(dict.fromkeys(described)) or None, missing)


def _describe(column: str, role: str) -> str:
    return {
        "eq": f"{column} = its most common value",
        "gt": f"{column} > the value 90% through its range",
        "lt": f"{column} < the value 10% through its range",
        "low": f"{column} BETWEEN the middle tenth of its range",
        "high": f"{column} BETWEEN the middle tenth of its range",
    }[role]


def _value(tx: Transaction, dialect: str, target: tuple[str, str], role: str, nth: int) -> Any:
    if dialect == "postgresql":
        found = _pg_stats(tx, target, role, nth)
        if found is not None:
            return found
    return _sampled(tx, dialect, target, role, nth)


def _pg_stats(tx: Transaction, target: tuple[str, str], role: str, nth: int) -> Any:
    table, column = target
    rows = tx.execute_internal(
        "SELECT most_common_vals::text::text[] AS mcv, histogram_bounds::text::text[] AS hist "
        "FROM pg_stats WHERE tablename = %s AND attname = %s "
        "AND schemaname = ANY(current_schemas(false)) LIMIT 1",
        (table.split(".")[-1], column),
    ).rows
    if not rows:
        return None
    mcv, hist = rows[0]
    if role == "eq":
        if mcv:
            return mcv[min(nth, len(mcv) - 1)]
        if hist:
            return hist[min(len(hist) // 2 + nth, len(hist) - 1)]
        return None
    values = hist or mcv
    if not values:
        return None
    if not hist:  # only common values: order them
        values = sorted(values)
    position = _POSITION[role] or 0.5
    return values[min(len(values) - 1, int(position * (len(values) - 1)))]


def _sampled(tx: Transaction, dialect: str, target: tuple[str, str], role: str, nth: int) -> Any:
    """A value at the role's position in the column's order (or its most common value)."""
    from workbench.rules.text import quote_ident

    table, column = (quote_ident(p, dialect) for p in target)
    if role == "eq":
        rows = tx.execute_internal(
            f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL GROUP BY {column} "
            f"ORDER BY count(*) DESC LIMIT 1 OFFSET {int(nth)}"
        ).rows
        return rows[0][0] if rows else None
    count = tx.execute_internal(f"SELECT count(*) FROM {table}").rows[0][0]
    if not count:
        return None
    offset = int((_POSITION[role] or 0.5) * (int(count) - 1))
    rows = tx.execute_internal(
        f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY {column} "
        f"LIMIT 1 OFFSET {offset}"
    ).rows
    return rows[0][0] if rows else None
