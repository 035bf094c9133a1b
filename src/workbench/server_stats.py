"""What the server itself counted: PostgreSQL's ``pg_stat_statements``.

The extension needs ``shared_preload_libraries = 'pg_stat_statements'`` (a restart) and
``CREATE EXTENSION pg_stat_statements`` in the database. The embedded PostgreSQL has both;
elsewhere :func:`top_statements` says exactly what to do when it is missing.
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
_HOW_TO_ENABLE = (
    "add pg_stat_statements to shared_preload_libraries in postgresql.conf (ALTER SYSTEM SET "
    "shared_preload_libraries = 'pg_stat_statements'), restart the server, then run CREATE "
    "EXTENSION pg_stat_statements; in this database (wb.connect() with no URL has it already)"
)


def top_statements(executor: Executor, limit: int = 20, *, order_by: str = "total") -> pd.DataFrame:
    """The server's statement statistics (PostgreSQL ``pg_stat_statements``): calls, total and
    mean time, rows, buffer hits, by ``order_by`` ("total", "mean", "calls", "rows", "io").

    >>> s.top_statements(5)   # doctest: +SKIP
    """
    dialect = executor.dialect.name
    if dialect != "postgresql":
        raise ConfigurationError(
            f"pg_stat_statements is PostgreSQL's; {dialect} has no equivalent here",
            hint="profile the statements instead: s.profile(sql) or with s.capture()",
        )
    if order_by not in _ORDER:
        raise ConfigurationError(f"order_by must be one of {', '.join(_ORDER)}")
    if not isinstance(limit, int) or limit < 1:
        raise ConfigurationError("limit must be a positive integer")
    available = (
        executor.run(
            "SELECT EXISTS (SELECT 1 FROM pg_extension "
            "WHERE extname = 'pg_stat_statements') AS ok, "
            "current_setting('shared_preload_libraries') AS preload"
        )
        .to_frame()
        .iloc[0]
    )
    if not available.ok or "pg_stat_statements" not in str(available.preload):
        raise ConfigurationError(
            "pg_stat_statements is not enabled on this server", hint=_HOW_TO_ENABLE
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
        f"ORDER BY {column} DESC LIMIT :limit",
        {"limit": limit},
    ).to_frame()
