"""What the server itself counted: PostgreSQL's ``pg_stat_statements``, the statement digests
of MySQL's and MariaDB's performance schema.

The PostgreSQL extension needs ``shared_preload_libraries = 'pg_stat_statements'`` (a restart)
and ``CREATE EXTENSION pg_stat_statements`` in the database; the embedded PostgreSQL has both.
MySQL and MariaDB need ``performance_schema = ON`` (a restart; MySQL's default, MariaDB's is
off). Elsewhere :func:`top_statements` says exactly what to do when they are missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.errors import ConfigurationError

if TYPE_CHECKING:
    import pandas as pd

    from workbench.execution import Executor

__all__ = ["top_statements"]

_ORDER = {
    "total": "total_exec_time",
    "mean": "mean_exec_time",
    "calls": "calls",
    "rows": "rows",
    "io": "shared_blks_read",
}
# transaction control and session settings (the workbench's own among them): counted, but
# nothing to tune
_UTILITY = (
    r"^\s*(begin|commit|rollback|start transaction|set |savepoint|release|show |reset"
    "|discard|deallocate)"
)
_HOW_TO_ENABLE = (
    "add pg_stat_statements to shared_preload_libraries in postgresql.conf (ALTER SYSTEM SET "
    "shared_preload_libraries = 'pg_stat_statements'), restart the server, then run CREATE "
    "EXTENSION pg_stat_statements; in this database (wb.connect() with no URL has it already)"
)


def top_statements(executor: Executor, limit: int = 20, *, order_by: str = "total") -> pd.DataFrame:
    """The server's statement statistics (PostgreSQL ``pg_stat_statements``, MySQL/MariaDB
    performance schema digests of the session's schema): calls, total and mean time, rows,
    buffer hits or rows examined, by ``order_by`` ("total", "mean", "calls", "rows", "io").

    >>> s.top_statements(5)   # doctest: +SKIP
    """
    dialect = executor.dialect.name
    if dialect not in ("postgresql", "mysql", "mariadb"):
        raise ConfigurationError(
            f"{dialect} runs inside the program that uses it and keeps no statement statistics",
            hint="profile the statements instead: s.profile(sql) or with s.capture()",
        )
    if order_by not in _ORDER:
        raise ConfigurationError(f"order_by must be one of {', '.join(_ORDER)}")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ConfigurationError("limit must be a positive integer")
    if dialect != "postgresql":
        return _digests(executor, limit, order_by)
    available = (
        executor.run(
            "SELECT EXISTS (SELECT 1 FROM pg_extension "
            "WHERE extname = 'pg_stat_statements') AS ok, "
            "current_setting('shared_preload_libraries') AS preload"
        )
        .to_frame()
        .iloc[0]
    )
    if "pg_stat_statements" not in str(available.preload):
        raise ConfigurationError(
            "pg_stat_statements is not enabled on this server", hint=_HOW_TO_ENABLE
        )
    if not available.ok:
        raise ConfigurationError(
            "pg_stat_statements is loaded by the server but not created in this database",
            hint="run CREATE EXTENSION pg_stat_statements; in this database",
        )
    column = _ORDER[order_by]
    return executor.run(
        "SELECT queryid, calls, round(total_exec_time::numeric, 3) AS total_ms, "
        "round(mean_exec_time::numeric, 3) AS mean_ms, "
        "round(stddev_exec_time::numeric, 3) AS stddev_ms, rows, "
        "shared_blks_hit, shared_blks_read, temp_blks_written, "
        "round((100.0 * total_exec_time / nullif(sum(total_exec_time) OVER (), 0))::numeric, 1)"
        " AS share_pct, query "
        "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database "
        "WHERE datname = current_database()) "
        f"AND query !~* '{_UTILITY}' "
        f"ORDER BY {column} DESC LIMIT :limit",
        {"limit": limit},
    ).to_frame()


# performance_schema counts time in picoseconds; "io" is the rows a statement examined
_DIGEST_ORDER = {
    "total": "SUM_TIMER_WAIT",
    "mean": "AVG_TIMER_WAIT",
    "calls": "COUNT_STAR",
    "rows": "SUM_ROWS_SENT",
    "io": "SUM_ROWS_EXAMINED",
}
_MYSQL_HOW = (
    "set performance_schema = ON under [mysqld] in the server's configuration and restart it "
    "(MySQL has it on by default; MariaDB does not)"
)


def _digests(executor: Executor, limit: int, order_by: str) -> pd.DataFrame:
    state = executor.run("SELECT @@performance_schema AS enabled, DATABASE() AS db").rows[0]
    if not state[0]:
        raise ConfigurationError("the performance schema is off on this server", hint=_MYSQL_HOW)
    if not state[1]:
        raise ConfigurationError(
            "the session has no default schema: statement digests are kept per schema",
            hint="connect with the database in the URL (mysql://user@host/shop)",
        )
    column = _DIGEST_ORDER[order_by]
    return executor.run(
        "SELECT DIGEST AS queryid, COUNT_STAR AS calls, "
        "ROUND(SUM_TIMER_WAIT / 1e9, 3) AS total_ms, ROUND(AVG_TIMER_WAIT / 1e9, 3) AS mean_ms, "
        "SUM_ROWS_SENT AS `rows`, SUM_ROWS_EXAMINED AS rows_examined, "
        "ROUND(100 * SUM_TIMER_WAIT / NULLIF(SUM(SUM_TIMER_WAIT) OVER (), 0), 1) AS share_pct, "
        "DIGEST_TEXT AS query "
        "FROM performance_schema.events_statements_summary_by_digest "
        "WHERE SCHEMA_NAME = DATABASE() AND DIGEST_TEXT NOT LIKE '%%events_statements_summary%%' "
        f"AND DIGEST_TEXT NOT REGEXP '{_UTILITY}' "
        f"ORDER BY {column} DESC LIMIT :limit",
        {"limit": limit},
    ).to_frame()
