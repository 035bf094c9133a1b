"""The engines the workbench drives, found through one registry.

Built-in dialects register here exactly as a plugin would::

    from workbench.dialects import register
    register(MyEngineDialect)          # a subclass of workbench.dialects.base.Dialect

:func:`for_engine` asks each registered dialect, most recent first, whether it drives an engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.dialects.base import Dialect, RunState
from workbench.errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["Dialect", "RunState", "for_engine", "register", "registered"]

_REGISTRY: list[type[Dialect]] = []


def register(dialect: type[Dialect]) -> type[Dialect]:
    """Add a dialect; later registrations are asked first (so a plugin can override)."""
    if dialect not in _REGISTRY:
        _REGISTRY.insert(0, dialect)
    return dialect


def registered() -> list[type[Dialect]]:
    """The registered dialect classes, in the order they are asked."""
    return list(_REGISTRY)


def for_engine(engine: Engine, dbapi: Any) -> Dialect:
    """The dialect that drives ``engine``, given one of its live driver connections."""
    for dialect in _REGISTRY:
        if dialect.matches(engine, dbapi):
            return dialect(engine.url)
    raise ConfigurationError(
        f"the workbench has no dialect for {engine.dialect.name!r} ({engine.dialect.driver})",
        hint="supported: postgresql+psycopg, mysql+pymysql (MySQL, MariaDB), sqlite, duckdb",
    )


def _register_builtins() -> None:
    from workbench.dialects.duckdb import DuckDBDialect
    from workbench.dialects.mysql import MariaDBDialect, MySQLDialect
    from workbench.dialects.postgresql import PostgreSQLDialect
    from workbench.dialects.sqlite import SQLiteDialect

    for dialect in (PostgreSQLDialect, MySQLDialect, MariaDBDialect, SQLiteDialect, DuckDBDialect):
        register(dialect)


_register_builtins()
