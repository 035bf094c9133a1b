"""Parameters bound the way each driver wants them: ``:name`` placeholders compiled once per
statement by SQLAlchemy for the driver's paramstyle (``%(name)s``, ``%s``, ``?``), or a list
passed to the driver untouched."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.errors import QueryError

__all__ = ["Params", "bind"]

Params = Mapping[str, Any] | Sequence[Any] | None


def bind(sa_dialect: Any, sql: str, params: Params) -> tuple[str, Any]:
    """The statement text and arguments in the driver's own paramstyle.

    ``params`` as a mapping binds ``:name`` placeholders; as a list or tuple it is passed to the
    driver untouched.

    >>> from sqlalchemy.dialects import postgresql
    >>> bind(postgresql.psycopg.dialect(), "SELECT * FROM t WHERE id = :id", {"id": 7})
    ('SELECT * FROM t WHERE id = %(id)s', {'id': 7})
    """
    if params is None:
        return sql, None
    if isinstance(params, Mapping):
        compiled_sql, order, names = _compile_text(sa_dialect, sql)
        missing = [n for n in names if n not in params]
        if missing:
            raise QueryError(
                "missing value for parameter " + ", ".join(f":{n}" for n in missing),
                hint=f"pass params={{{', '.join(repr(n) + ': ...' for n in names)}}}",
                sql=sql,
            )
        if order is None:
            return compiled_sql, {n: params[n] for n in names}
        return compiled_sql, [params[n] for n in order]
    if isinstance(params, str | bytes):
        raise QueryError(
            "params must be a dict (for :name placeholders) or a list/tuple, not a string",
            hint="e.g. s.query('SELECT * FROM users WHERE id = :id', params={'id': 7})",
            sql=sql,
        )
    return sql, list(params)


@functools.lru_cache(maxsize=512)
def _compile_text(sa_dialect: Any, sql: str) -> tuple[str, list[str] | None, list[str]]:
    """``:name`` placeholders compiled for the driver: (text, positional order, names)."""
    from sqlalchemy import text

    compiled = text(sql).compile(dialect=sa_dialect)
    order = list(compiled.positiontup) if compiled.positional and compiled.positiontup else None
    return compiled.string, order, list(compiled.binds)
