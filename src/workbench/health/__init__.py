"""Whole-database health: ``s.health()`` answers "what is wrong with this database?".

Each finding is a :class:`~workbench.findings.Finding` (the offline rules' model: the same
rendering, the same codes) naming the objects, the numbers, the fix (``DROP INDEX ...``,
``VACUUM (ANALYZE) ...``) and its risk.

=============  =====================================================================================
engine         what is checked
=============  =====================================================================================
PostgreSQL     duplicate, redundant, unused (against the statistics' age), invalid and bloated
               indexes; foreign keys without an index; table bloat and dead tuples; autovacuum off
               or behind; statistics never gathered or stale; the buffer cache hit ratio;
               connections near ``max_connections``; sequences and integer keys near their limit
               (:mod:`~workbench.health.postgresql`, :mod:`~workbench.health.pg_tables`)
MySQL/MariaDB  duplicate and redundant indexes; unused ones where performance_schema (or MariaDB's
               userstat) counts index reads; tables without a primary key; statistics age
               (:mod:`~workbench.health.mysql`)
SQLite         duplicate and redundant indexes, foreign keys without an index, missing or stale
               ``ANALYZE`` (:mod:`~workbench.health.local`)
DuckDB         duplicate and redundant indexes
=============  =====================================================================================

Every query reads the catalogue in a read-only, timed, rolled-back transaction; nothing is
changed. The package's modules: :mod:`~workbench.health.indexes` (indexes as values and the
comparisons), :mod:`~workbench.health.common` (the findings every engine shares),
:mod:`~workbench.health.report` (:class:`HealthReport`).

>>> report = s.health()             # the SQLite demo: a planted duplicate, foreign keys unindexed
>>> sorted({f.code for f in report})
['duplicate_index', 'unindexed_foreign_key']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.health.common import Checkup
from workbench.health.report import HealthReport

if TYPE_CHECKING:
    from workbench.execution import Executor

__all__ = ["HealthReport", "check"]


def check(executor: Executor) -> HealthReport:
    """Findings about the database as a whole (see :mod:`workbench.health` for the checks),
    most severe first; ``.notes`` says what could not be judged.

    >>> [f.code for f in s.health().by_code("duplicate_index")]
    ['duplicate_index']
    """
    dialect = executor.dialect.name
    found = Checkup(dialect)

    def run(dbapi: Any) -> None:
        if dialect == "postgresql":
            from workbench.health import pg_tables, postgresql

            postgresql.check_indexes(dbapi, found)
            pg_tables.check_tables(dbapi, found)
            pg_tables.check_server(dbapi, found)
        elif dialect in ("mysql", "mariadb"):
            from workbench.health import mysql

            mysql.check(dbapi, found)
        elif dialect == "sqlite":
            from workbench.health import local

            local.check_sqlite(dbapi, found)
        elif dialect == "duckdb":
            from workbench.health import local

            local.check_duckdb(dbapi, found)
        else:  # a dialect registered by someone else: nothing known to check
            found.notes.append(f"no health checks for {dialect}")

    executor.introspect(run)
    return HealthReport(found.findings, dialect=dialect, checks=found.checks, notes=found.notes)
