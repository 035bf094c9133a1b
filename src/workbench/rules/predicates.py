"""Conditions read into predicates: a plan's ``Filter``/``Index Cond`` text, or a statement's
WHERE and JOIN ON clauses.

A condition is parsed with sqlglot in the engine's dialect after a little preparation
(PostgreSQL prints ``LIKE`` as ``~~`` and sub-plan references as ``(SubPlan 1)``), split into
its AND-ed conjuncts, and each conjunct is classified:

* ``eq`` / ``range``: a plain column compared with a value (what a B-tree serves);
* ``like``: a plain column matched with LIKE/ILIKE;
* ``join``: a column compared with a column of another table;
* ``expr``: a function, cast or arithmetic applied to a column (what a plain index cannot
  serve: ``lower(email) = …``, ``created_at::date = …``, ``id + 1 = …``);
* ``other``: anything else (OR, NOT, subqueries, constants).

PostgreSQL writes the coercion of a ``varchar`` column to ``text`` as a cast
(``(email)::text``); such casts to a text type are not the person's doing and do not hide the
column from its index, so they are looked through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlglot import exp

if TYPE_CHECKING:
    from workbench.rules.base import (
        Context,
        Table,
    )

__all__ = [
    "Predicate",
    "Scope",
    "classify",
    "conjuncts",
    "display",
    "literal_text",
    "parse_condition",
    "predicates",
    "sql_scopes",
]

#: (qualifier, column) → declared type, when known
ColumnTypes = Callable[[str | None, str], str | None]

_TEXT_TYPES = re.compile(
    r"^(text|varchar|character varying|char|character|bpchar|name|citext|string)"
)
_OPS: dict[type[exp.Expr], str] = {
    exp.EQ: "=",
    exp.NullSafeEQ: "=",
    exp.NEQ: "<>",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.Like: "like",
    exp.ILike: "ilike",
}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">="}
_RANGE_OPS = frozenset({">", ">=", "<", "<=", "between"})
_EQ_OPS = frozenset({"=", "in", "is"})
# PostgreSQL's spelling of LIKE and of references to sub-plans and parameters
_PG_OPERATORS = (
    ("!~~*", " NOT ILIKE "),
    ("~~*", " ILIKE "),
    ("!~~", " NOT LIKE "),
    ("~~", " LIKE "),
)
_PG_SUBPLAN = re.compile(
    r"\((?:alternatives: )?(?:hashed )?SubPlan \d+(?: or hashed SubPlan \d+)?\)"
    r"|\(InitPlan \d+\)\.col\d+|\bSubPlan \d+\b"
)


@dataclass(frozen=True)
class Predicate:
    """One AND-ed part of a condition."""

    expression: exp.Expr
    kind: str  # "eq" | "range" | "like" | "join" | "expr" | "other"
    op: str = ""
    column: str | None = None  # the subject's column (lower case)
    qualifier: str | None = None  # the table or alias it was written with
    subject: exp.Expr | None = None  # the side with the column: email, lower(email)
    value: exp.Expr | None = None  # the other side
    other: tuple[str | None, str] | None = None  # join: the other column
    columns: tuple[tuple[str | None, str], ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        """The predicate as a person would write it (``lower(email) = 'a'``)."""
        return display(self.expression)

    @property
    def pattern(self) -> str | None:
        """A LIKE pattern given as a literal; for ``'%' || :term || '%'``, its literal start."""
        if self.op not in ("like", "ilike"):
            return None
        value = self.value
        while isinstance(value, exp.DPipe | exp.Concat | exp.Paren | exp.Cast):
            value = value.this if not isinstance(value, exp.Concat) else value.expressions[0]
        return literal_text(value)

    @property
    def leading_wildcard(self) -> bool:
        pattern = self.pattern
        return pattern is not None and pattern[:1] in ("%", "_")

    @property
    def indexable(self) -> bool:
        """Served by the leading column of a B-tree: equality or a range on a plain column."""
        return self.kind in ("eq", "range")


def parse_condition(text: str | None, dialect: str) -> exp.Expr | None:
    """A plan condition or WHERE text as a sqlglot expression (``None`` if unparseable)."""
    if not text or not str(text).strip():
        return None
    return _parse(_prepare(str(text), dialect), dialect)


@lru_cache(maxsize=4096)
def _parse(prepared: str, dialect: str) -> exp.Expr | None:
    """Parsed once per text: a plan repeats its conditions (partitions, loops, several
    rules). Callers copy before changing a tree, so sharing it is safe."""
    import sqlglot

    from workbench.sqltext import sqlglot_dialect

    try:
        return sqlglot.parse_one(prepared, read=sqlglot_dialect(dialect))
    except Exception:  # a shape sqlglot does not know: the rules skip this condition
        return None


def _prepare(text: str, dialect: str) -> str:
    if dialect == "postgresql":
        text = _PG_SUBPLAN.sub("$0", text)
        text = _outside_quotes(text, _PG_OPERATORS)
    elif dialect in ("mysql", "mariadb"):
        text = text.replace("<cache>(", "(")  # MySQL marks cached constant expressions
    return text


def _outside_quotes(text: str, replacements: tuple[tuple[str, str], ...]) -> str:
    """Apply ``replacements`` to the parts of ``text`` outside single-quoted strings."""
    parts = re.split(r"('(?:[^']|'')*')", text)
    for i in range(0, len(parts), 2):  # even parts are outside quotes
        for old, new in replacements:
            parts[i] = parts[i].replace(old, new)
    return "".join(parts)


def conjuncts(expression: exp.Expr | None) -> list[exp.Expr]:
    """The AND-ed parts of ``expression``, parentheses removed."""
    return [] if expression is None else _flatten(expression, exp.And)


def _flatten(expression: exp.Expr, connective: type[exp.Expr]) -> list[exp.Expr]:
    """The operands of a chain of ``connective`` (AND, OR), in order, parentheses removed;
    without recursion: a generated ``WHERE`` of 20,000 ORs is 20,000 levels deep."""
    out: list[exp.Expr] = []
    stack = [expression]
    while stack:
        node = _unparen(stack.pop())
        if isinstance(node, connective):
            stack.append(node.expression)
            stack.append(node.this)
        else:
            out.append(node)
    return out


def predicates(text: str | None, dialect: str, types: ColumnTypes | None = None) -> list[Predicate]:
    """The classified conjuncts of a condition text."""
    return [classify(c, types) for c in conjuncts(parse_condition(text, dialect))]


def classify(expression: exp.Expr, types: ColumnTypes | None = None) -> Predicate:
    """What one conjunct is (see the module docstring)."""
    expression = _unparen(expression)
    if isinstance(expression, exp.Or):
        return _any_of(expression, types)
    op, left, right = _sides(expression)
    if not op or left is None:
        return Predicate(expression, "other")
    left_columns, right_columns = _columns(left), _columns(right)
    if right_columns and not left_columns and op not in ("in", "between", "is"):
        left, right, left_columns, right_columns = right, left, right_columns, left_columns
        op = _FLIP.get(op, op)
    if not left_columns or left is None:
        return Predicate(expression, "other", op)
    subject = _strip_benign(left, types)
    columns = tuple(dict.fromkeys(_key(c) for c in left_columns))
    if right_columns:  # column against column: a join condition, when both are plain
        other = _strip_benign(right, types) if right is not None else None
        if isinstance(subject, exp.Column) and isinstance(other, exp.Column):
            return _make(expression, "join", op, subject, right, columns, other=_key(other))
        return Predicate(expression, "other", op, columns=columns)
    if isinstance(subject, exp.Column):
        kind = "eq" if op in _EQ_OPS else "range" if op in _RANGE_OPS else "other"
        if op in ("like", "ilike"):
            kind = "like"
        return _make(expression, kind, op, subject, right, columns)
    if len(columns) == 1:  # a function, cast or arithmetic over one column
        return _make(expression, "expr", op, subject, right, columns)
    return Predicate(expression, "other", op, columns=columns)


def _any_of(expression: exp.Or, types: ColumnTypes | None) -> Predicate:
    """``a = 1 OR a = 2`` is ``a IN (1, 2)``: an equality on one column; any other OR is
    "other"."""
    parts = [classify(p, types) for p in _disjuncts(expression)]
    keys = {(p.qualifier, p.column) for p in parts}
    subject = parts[0].subject
    if len(keys) == 1 and subject is not None and all(p.kind == "eq" for p in parts):
        return _make(expression, "eq", "in", subject, None, parts[0].columns)
    return Predicate(expression, "other")


def _disjuncts(expression: exp.Expr) -> list[exp.Expr]:
    return _flatten(expression, exp.Or)


def _make(
    expression: exp.Expr,
    kind: str,
    op: str,
    subject: exp.Expr,
    value: exp.Expr | None,
    columns: tuple[tuple[str | None, str], ...],
    *,
    other: tuple[str | None, str] | None = None,
) -> Predicate:
    qualifier, column = _key(subject) if isinstance(subject, exp.Column) else columns[0]
    return Predicate(
        expression,
        kind,
        op,
        column=column,
        qualifier=qualifier,
        subject=subject,
        value=value,
        other=other,
        columns=columns,
    )


def _sides(
    expression: exp.Expr,
) -> tuple[str, exp.Expr | None, exp.Expr | None]:
    for kind, op in _OPS.items():
        if type(expression) is kind:
            right = expression.expression
            if op == "=" and isinstance(_unparen(right), exp.Any):
                return "in", expression.this, right  # x = ANY('{1,2}')
            return op, expression.this, right
    if isinstance(expression, exp.In):
        return "in", expression.this, None
    if isinstance(expression, exp.Between):
        return "between", expression.this, None
    if isinstance(expression, exp.Is):
        return "is", expression.this, expression.expression
    return "", None, None


def _columns(expression: exp.Expr | None) -> list[exp.Column]:
    """Columns referenced by ``expression``, not counting those inside subqueries (a subquery
    is a value as far as the outer condition is concerned)."""
    if expression is None or isinstance(_unparen(expression), exp.Subquery | exp.Select):
        return []
    return [
        column
        for column in expression.find_all(exp.Column)
        if not isinstance(column.this, exp.Star) and not _in_subquery(column, expression)
    ]


def _in_subquery(node: exp.Expr, root: exp.Expr) -> bool:
    if node is root:
        return False
    current = node.parent
    while current is not None and current is not root:
        if isinstance(current, exp.Subquery | exp.Select):
            return True
        current = current.parent
    return False


def _key(column: exp.Column) -> tuple[str | None, str]:
    qualifier = column.table or None
    return (qualifier.lower() if qualifier else None), column.name.lower()


def _unparen(expression: exp.Expr) -> exp.Expr:
    while isinstance(expression, exp.Paren):
        expression = expression.this
    return expression


def _strip_benign(expression: exp.Expr, types: ColumnTypes | None) -> exp.Expr:
    """``expression`` without parentheses and without casts of a text column to a text type."""
    expression = _unparen(expression)
    while isinstance(expression, exp.Cast):
        inner = _unparen(expression.this)
        target = expression.to.sql().lower() if expression.to is not None else ""
        if not isinstance(inner, exp.Column) or not _TEXT_TYPES.match(target):
            break
        declared = types(*_key(inner)) if types else None
        if declared and not _TEXT_TYPES.match(declared.lower()):
            break  # a number or date turned into text: a real cast
        expression = inner
    return expression


def display(expression: exp.Expr, dialect: str = "postgres") -> str:
    """``expression`` without the casts PostgreSQL adds when it prints a plan (text coercions
    of columns, types of literals), functions in lower case."""

    def strip(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Cast):
            inner = node.this
            while isinstance(inner, exp.Paren):
                inner = inner.this
            target = node.to.sql().lower() if node.to is not None else ""
            if isinstance(inner, exp.Literal) or (
                isinstance(inner, exp.Column) and _TEXT_TYPES.match(target)
            ):
                return inner.copy()
        if isinstance(node, exp.Paren) and isinstance(node.this, exp.Column | exp.Literal):
            return node.this.copy()
        return node

    try:
        return expression.copy().transform(strip).sql(dialect=dialect, normalize_functions="lower")
    except Exception:  # display only: never fail a rule over it
        return expression.sql()


def literal_text(expression: exp.Expr | None) -> str | None:
    """The text of a literal, looking through parentheses and casts (``'x'::text``)."""
    while isinstance(expression, exp.Paren | exp.Cast):
        expression = expression.this
    if isinstance(expression, exp.Literal):
        return str(expression.this)
    return None


# -- statements -----------------------------------------------------------------------------------
@dataclass
class Scope:
    """One SELECT of a statement: the tables it reads (alias → table) and its predicates."""

    select: exp.Select
    sources: dict[str, str]
    predicates: list[Predicate]

    def table_of(self, predicate: Predicate, ctx: Context) -> Table | None:
        """The table a predicate's column belongs to."""
        if predicate.column is None:
            return None
        if predicate.qualifier:
            return ctx.table(self.sources.get(predicate.qualifier))
        names = list(dict.fromkeys(self.sources.values()))
        if len(names) == 1:
            return ctx.table(names[0])
        owners = [t for t in (ctx.table(n) for n in names) if t and t.has_column(predicate.column)]
        return owners[0] if len(owners) == 1 else None


def sql_scopes(ctx: Context, tree: exp.Expr | None = None) -> Iterator[Scope]:
    """Each SELECT of the statement (``ctx.ev.sql``, or ``tree``: a copy being rewritten) with
    its WHERE and JOIN ON predicates."""
    tree = tree if tree is not None else ctx.sql_tree
    if tree is None:
        return
    for select in tree.find_all(exp.Select):
        sources: dict[str, str] = {}
        for table in select.find_all(exp.Table):
            if table.find_ancestor(exp.Select) is select and table.name:
                sources[table.alias_or_name.lower()] = table.name
                sources.setdefault(table.name.lower(), table.name)
        conditions: list[exp.Expr] = []
        where = select.args.get("where")
        if where is not None:
            conditions.extend(conjuncts(where.this))
        for join in select.args.get("joins") or ():
            on = join.args.get("on")
            if on is not None:
                conditions.extend(conjuncts(on))
        types = _scope_types(ctx, sources)
        yield Scope(select, sources, [classify(c, types) for c in conditions])


def _scope_types(ctx: Context, sources: dict[str, str]) -> ColumnTypes:
    def lookup(qualifier: str | None, column: str) -> str | None:
        names = [sources[qualifier]] if qualifier in sources else list(sources.values())
        for name in names:
            table = ctx.table(name)
            kind = table.column_type(column) if table else None
            if kind:
                return kind
        return None

    return lookup
