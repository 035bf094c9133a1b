"""What the database holds: tables, their columns, indexes and statistics, and the server's
settings that matter for performance. Every query here runs through the executor's read-only,
timed, rolled-back transaction (:meth:`~workbench.execution.Executor.introspect`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from workbench.errors import QueryError, warn

if TYPE_CHECKING:
    import pandas as pd

    from workbench.catalog import TableInfo
    from workbench.dialects.base import Dialect
    from workbench.execution import Executor

__all__ = ["settings", "table", "tables", "tables_in"]


def settings(
    executor: Executor, names: Sequence[str] | None = None, *, all: bool = False
) -> pd.DataFrame:
    """Server settings that matter for performance (or ``names``, or ``all=True``).

    >>> import workbench as wb
    >>> wb.connect("sqlite://").settings(["cache_size"]).name.tolist()
    ['cache_size']
    """
    import pandas as pd

    dialect = executor.dialect
    wanted = None if all else (list(names) if names else list(dialect.performance_settings))
    rows = executor.introspect(lambda dbapi: dialect.settings(dbapi, wanted))
    return pd.DataFrame(rows, columns=["name", "value", "unit", "source", "description"])


def tables(executor: Executor) -> list[str]:
    """The user tables of the connected database.

    >>> import workbench as wb
    >>> wb.connect("sqlite://").tables()
    []
    """
    return executor.introspect(executor.dialect.list_tables)


def table(executor: Executor, name: str) -> TableInfo:
    """Columns, indexes, row counts/estimates and statistics freshness of one table."""
    info = executor.introspect(lambda dbapi: executor.dialect.table_info(dbapi, name))
    if info is None:
        raise QueryError(
            f"no table named {name!r}",
            hint=f"tables here: {', '.join(tables(executor)[:20]) or '(none)'}",
        )
    return info


def tables_in(executor: Executor, sql: str) -> list[TableInfo]:
    """Describe every table a statement touches (for evidence: the query's schema)."""
    statement = executor.classify(sql)
    dialect = executor.dialect
    found = [
        executor.introspect(functools.partial(_table_info, dialect, name=name))
        for name in statement.tables
    ]
    missing = [name for name, info in zip(statement.tables, found, strict=True) if not info]
    if not statement.parsed:
        warn("could not read the statement's tables (it did not parse): check its syntax")
    elif missing:
        warn(f"not found in the database: {', '.join(missing)}")
    return [info for info in found if info is not None]


def setting_text(value: Any, unit: Any) -> str:
    """A setting as a person writes it: 32768 × 8kB → 256MB.

    >>> setting_text(32768, "8kB")
    '256MB'
    """
    unit = unit if isinstance(unit, str) and unit else ""
    factor = {"8kB": 8, "kB": 1, "MB": 1024, "GB": 1024 * 1024}.get(unit)
    if factor is None:
        return f"{value}{unit}"
    try:
        kb = float(value) * factor
    except (TypeError, ValueError):
        return f"{value}{unit}"
    for name, size in (("GB", 1024 * 1024), ("MB", 1024)):
        if kb >= size and kb % size == 0:
            return f"{int(kb // size)}{name}"
    return f"{int(kb)}kB"


def _table_info(dialect: Dialect, dbapi: Any, *, name: str) -> TableInfo | None:
    return dialect.table_info(dbapi, name)
