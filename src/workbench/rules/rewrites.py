"""Exact rewrites of non-sargable predicates, and expressions written for indexes.

A predicate that applies a function to a column can often be stated on the raw column with
the same meaning: ``date(c) = '2024-01-10'`` is ``c >= '2024-01-10' AND c < '2024-01-11'``;
``extract(year from c) = 2024`` is a range of one year; ``c + 1 = 5`` is ``c = 4``;
``coalesce(c, 0) = 5`` is ``c = 5``. :func:`rewrite_query` applies such a rewrite to the
statement itself, so the fix is the query to run.
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from workbench.rules.base import Context
from workbench.rules.predicates import Predicate, literal_text, sql_scopes
from workbench.rules.text import named_params

__all__ = ["index_expression", "range_rewrite", "rewrite_query"]

_FLIP_NEXT = {"=": None, ">=": ">=", ">": ">=", "<": "<", "<=": "<"}


def index_expression(subject: exp.Expr, dialect: str) -> str:
    """The expression as an index would be written: without PostgreSQL's text coercions."""

    def strip(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Cast) and node.to is not None:
            inner = node.this.unnest() if isinstance(node.this, exp.Paren) else node.this
            if isinstance(inner, exp.Column) and node.to.sql().lower() in ("text", "varchar"):
                return inner.copy()
        if isinstance(node, exp.Paren) and isinstance(node.this, exp.Column):
            return node.this.copy()
        return node

    return subject.copy().transform(strip).sql(dialect=dialect, normalize_functions="lower")


def _truncated_column(subject: exp.Expr) -> tuple[str, exp.Column] | None:
    """``("day", col)`` for date(col) / col::date / date_trunc('day', col); ``("year", col)``
    for extract(year from col) / year(col) / strftime('%Y', col)."""
    inner: exp.Expr | None = None
    unit = None
    if isinstance(subject, exp.Date | exp.TsOrDsToDate | exp.DateTrunc | exp.TimestampTrunc):
        unit_arg = subject.args.get("unit")
        unit = "day" if unit_arg is None else str(unit_arg.name or unit_arg.this).lower()
        inner = subject.this
    elif isinstance(subject, exp.Cast) and subject.to is not None:
        unit = "day" if subject.to.sql().upper() == "DATE" else None
        inner = subject.this
    elif isinstance(subject, exp.Year):
        unit, inner = "year", subject.this
    elif isinstance(subject, exp.Extract):
        unit, inner = str(subject.this.name).lower(), subject.expression
    elif isinstance(subject, exp.Anonymous) and subject.name.lower() == "strftime":
        args = subject.expressions
        if len(args) == 2 and literal_text(args[0]) == "%Y":
            unit, inner = "year", args[1]
    while isinstance(inner, exp.Paren | exp.TsOrDsToDate):
        inner = inner.this
    if unit in ("day", "year") and isinstance(inner, exp.Column):
        return unit, inner
    return None


def range_rewrite(p: Predicate) -> exp.Expr | None:
    """The same predicate on the raw column, when exact; else ``None``."""
    if p.subject is None:
        return None
    truncated = _truncated_column(p.subject)
    if truncated is not None:
        return _period_range(p, *truncated)
    if isinstance(p.subject, exp.Add | exp.Sub):
        return _moved_arithmetic(p)
    if isinstance(p.subject, exp.Coalesce) and p.op == "=":
        return _coalesce(p)
    return None


def _start(unit: str, text: str | None) -> tuple[str, str] | None:
    """The period's first day and the next period's, as ISO dates."""
    if text is None:
        return None
    try:
        if unit == "year":
            year = int(str(text).strip()[:4])
            return f"{year:04d}-01-01", f"{year + 1:04d}-01-01"
        day = dt.date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        return None
    return day.isoformat(), (day + dt.timedelta(days=1)).isoformat()


def _period_range(p: Predicate, unit: str, column: exp.Column) -> exp.Expr | None:
    col = column.copy()
    if p.op == "between" and isinstance(p.expression, exp.Between):
        low = _start(unit, literal_text(p.expression.args.get("low")))
        high = _start(unit, literal_text(p.expression.args.get("high")))
        if low is None or high is None:
            return None
        return exp.and_(col >= exp.Literal.string(low[0]), col.copy() < exp.Literal.string(high[1]))
    bounds = _start(unit, literal_text(p.value))
    if bounds is None or p.op not in _FLIP_NEXT:
        return None
    first, following = (exp.Literal.string(b) for b in bounds)
    if p.op == "=":
        return exp.and_(col >= first, col.copy() < following)
    return {">=": col >= first, ">": col >= following, "<": col < first, "<=": col < following}[
        p.op
    ]


def _moved_arithmetic(p: Predicate) -> exp.Expr | None:
    subject = p.subject
    assert isinstance(subject, exp.Add | exp.Sub)
    column, amount = subject.this, subject.expression
    while isinstance(column, exp.Paren):
        column = column.this
    value = literal_text(p.value)
    if not isinstance(column, exp.Column) or not isinstance(amount, exp.Literal) or not value:
        return None
    try:
        k, v = float(amount.this), float(value)
    except ValueError:
        return None
    moved = v - k if isinstance(subject, exp.Add) else v + k
    number = exp.Literal.number(int(moved) if moved.is_integer() else moved)
    builders = {"=": exp.EQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
    builder = builders.get(p.op)
    return builder(this=column.copy(), expression=number) if builder else None


def _coalesce(p: Predicate) -> exp.Expr | None:
    subject = p.subject
    assert isinstance(subject, exp.Coalesce)
    column = subject.this
    fallback = subject.expressions[0] if len(subject.expressions) == 1 else None
    value = literal_text(p.value)
    if not isinstance(column, exp.Column) or fallback is None or value is None or p.value is None:
        return None
    equal = exp.EQ(this=column.copy(), expression=p.value.copy())
    if literal_text(fallback) == value:
        return exp.Paren(this=exp.or_(equal, exp.Is(this=column.copy(), expression=exp.Null())))
    return equal


def rewrite_query(ctx: Context, p: Predicate) -> str | None:
    """The statement with the matching predicate rewritten (``None`` when not found)."""
    tree = ctx.sql_tree
    if tree is None:
        return None
    tree = tree.copy()
    for scope in sql_scopes(ctx, tree):
        for candidate in scope.predicates:
            if candidate.kind == "expr" and candidate.column == p.column:
                replacement = range_rewrite(candidate)
                if replacement is not None:
                    candidate.expression.replace(replacement)
                    return named_params(tree.sql(dialect=ctx.sqlglot_dialect))
    return None
