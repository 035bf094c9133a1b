"""SQL text as every layer reads it: sqlglot's name for each engine, and parsing without
sqlglot's warnings.

The guard classifies statements with these, the plan readers resolve aliases, redaction
tokenizes, the rules read predicates: one mapping, at the bottom of the package.

>>> sqlglot_dialect("postgresql")
'postgres'
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

__all__ = ["quiet_sqlglot", "sqlglot_dialect"]

_SQLGLOT_DIALECTS = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
}


def sqlglot_dialect(dialect: str) -> str:
    """The sqlglot dialect name for a workbench dialect name (``postgresql`` → ``postgres``)."""
    return _SQLGLOT_DIALECTS.get(dialect, dialect)


@contextlib.contextmanager
def quiet_sqlglot() -> Iterator[None]:
    """Silence sqlglot's warning each time it falls back to an opaque Command (the caller
    handles that case)."""
    logger = logging.getLogger("sqlglot")
    saved = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(saved)
