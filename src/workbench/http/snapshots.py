"""Snapshots of the server's statement counters: what an endpoint made the database do.

========================  ==================================================================
engine                    source
========================  ==================================================================
PostgreSQL                ``pg_stat_statements`` (calls, execution and planning time, rows,
                          shared blocks), the database the session is connected to, the
                          top-level statements, one role when asked
MySQL, MariaDB            ``performance_schema.events_statements_summary_by_digest`` (calls,
                          time, rows sent, rows examined), the session's schema
SQLite, DuckDB            none: in-process engines keep no statistics for other programs
========================  ==================================================================

A snapshot runs on a connection of its own, in autocommit (no ``BEGIN``, no ``SET`` between
snapshots), so the only statement of the workbench's own between two snapshots is the
snapshot itself: marked, and left out. The counters cost no text: the statements' texts are
read once, at the end, for the statements that moved. A source that is not there says how to
enable it (:attr:`Unavailable.how`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.connections import ConnectionRecipe
from workbench.errors import ConfigurationError
from workbench.redaction import redact_secrets

if TYPE_CHECKING:
    from workbench.execution import Executor

__all__ = ["Counters", "MysqlCounters", "PostgresCounters", "Unavailable", "open_counters"]

#: a snapshot statement's marker (PostgreSQL keeps a comment inside a statement in its text)
MARKER = "workbench: statement snapshot"
#: per statement: calls, time (ms), rows, blocks hit, blocks read
Counts = tuple[int, float, int, int, int]

PG_HOW = (
    "enable pg_stat_statements: add it to shared_preload_libraries (ALTER SYSTEM SET "
    "shared_preload_libraries = 'pg_stat_statements'), restart the server, then CREATE "
    "EXTENSION pg_stat_statements; in this database (wb.connect() with no URL has it)"
)
MYSQL_HOW = (
    "enable the performance schema: performance_schema = ON under [mysqld] in the server's "
    "configuration (it cannot be turned on while the server runs), restart, and keep the "
    "statements_digest consumer on (UPDATE performance_schema.setup_consumers SET ENABLED = "
    "'YES' WHERE NAME = 'statements_digest')"
)


@dataclass
class Unavailable:
    """Why the database's side of a profile cannot be read, and how to make it readable."""

    reason: str
    how: str = ""


class Counters:
    """One connection that takes snapshots: ``take()`` -> {server key: counts}."""

    source = ""

    def __init__(self, conn: Any, database: str, role: str | None) -> None:
        self.conn = conn
        self.database = database
        self.role = role

    def take(self) -> dict[Any, Counts]:
        raise NotImplementedError

    def texts(self, keys: list[Any]) -> dict[Any, str]:
        raise NotImplementedError

    def own(self, text: str) -> bool:
        """Whether a statement's text is one of the workbench's snapshots."""
        return MARKER in text

    def _rows(self, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, args)
            return list(cur.fetchall())
        finally:
            cur.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()


class PostgresCounters(Counters):
    source = "pg_stat_statements"

    def __init__(self, conn: Any, database: str, role: str | None, columns: set[str]) -> None:
        super().__init__(conn, database, role)
        self.oid = self._rows("SELECT oid FROM pg_database WHERE datname = current_database()")[0][
            0
        ]
        self.userid = None
        if role is not None:
            found = self._rows("SELECT oid FROM pg_roles WHERE rolname = %s", [role])
            if not found:
                raise ConfigurationError(
                    f"no role {role!r} on this server", hint="role= names the service's role"
                )
            self.userid = found[0][0]
        plan = " + total_plan_time" if "total_plan_time" in columns else ""
        toplevel = " AND toplevel" if "toplevel" in columns else ""
        user = " AND userid = %(user)s" if self.userid is not None else ""
        self._snapshot = (
            f"SELECT /* {MARKER} */ queryid, userid, calls, total_exec_time{plan}, rows, "
            "shared_blks_hit, shared_blks_read FROM pg_stat_statements(false) "
            f"WHERE dbid = %(db)s{toplevel}{user}"
        )
        self._args = {"db": self.oid, "user": self.userid}

    def take(self) -> dict[Any, Counts]:
        return {
            (queryid, userid): (int(calls), float(ms), int(rows), int(hit), int(read))
            for queryid, userid, calls, ms, rows, hit, read in self._rows(
                self._snapshot, self._args
            )
        }

    def texts(self, keys: list[Any]) -> dict[Any, str]:
        ids = sorted({k[0] for k in keys if k[0] is not None})
        if not ids:
            return {}
        rows = self._rows(
            "SELECT DISTINCT queryid, query FROM pg_stat_statements(true) "
            "WHERE dbid = %s AND queryid = ANY(%s)",
            [self.oid, ids],
        )
        by_id = {queryid: redact_secrets(str(query or "")) for queryid, query in rows}
        return {key: by_id.get(key[0], "") for key in keys}


class MysqlCounters(Counters):
    source = "performance_schema"
    _SNAPSHOT = (
        "SELECT DIGEST, COUNT_STAR, SUM_TIMER_WAIT, SUM_ROWS_SENT, SUM_ROWS_EXAMINED "
        "FROM performance_schema.events_statements_summary_by_digest WHERE SCHEMA_NAME = %s"
    )

    def take(self) -> dict[Any, Counts]:
        # timers are picoseconds; rows examined stand where PostgreSQL counts blocks read
        return {
            digest: (int(calls), float(ps) / 1e9, int(sent or 0), 0, int(examined or 0))
            for digest, calls, ps, sent, examined in self._rows(self._SNAPSHOT, [self.database])
            if digest is not None
        }

    def texts(self, keys: list[Any]) -> dict[Any, str]:
        if not keys:
            return {}
        marks = ", ".join(["%s"] * len(keys))
        rows = self._rows(
            "SELECT DIGEST, DIGEST_TEXT FROM "
            "performance_schema.events_statements_summary_by_digest "
            f"WHERE SCHEMA_NAME = %s AND DIGEST IN ({marks})",
            [self.database, *keys],
        )
        return {digest: redact_secrets(str(text or "")) for digest, text in rows}

    def own(self, text: str) -> bool:
        # digests drop comments: the snapshot is known by the table it reads
        return "events_statements_summary_by_digest" in text.lower()


def open_counters(executor: Executor, *, role: str | None = None) -> Counters | Unavailable:
    """A snapshot connection on the session's database, or why there can be none."""
    dialect = executor.dialect.name
    if dialect not in ("postgresql", "mysql", "mariadb"):
        return Unavailable(
            f"{dialect} runs inside the program that uses it and keeps no statement statistics "
            "another program could read: the profile has the endpoint's latency only"
        )
    if role is not None and dialect != "postgresql":
        raise ConfigurationError(
            "role= filters pg_stat_statements; MySQL and MariaDB keep statement digests per "
            "schema, not per user",
            hint="leave role out: the statements of the session's schema are read",
        )
    recipe = ConnectionRecipe.for_engine(executor.engine, dialect, read_only=True, timeout_s=10.0)
    try:
        conn = recipe.open()
    except Exception as exc:
        raise executor.connection_error(exc) from None
    try:
        return _postgres(conn, role) if dialect == "postgresql" else _mysql(conn)
    except BaseException:
        with contextlib.suppress(Exception):
            conn.close()
        raise


def _postgres(conn: Any, role: str | None) -> PostgresCounters | Unavailable:
    cur = conn.cursor()
    try:
        cur.execute(
            "SELECT current_database(), current_setting('shared_preload_libraries'), "
            "EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')"
        )
        database, preload, created = cur.fetchone()
        columns: set[str] = set()
        if created:
            cur.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'pg_stat_statements'::regclass"
            )
            columns = {str(r[0]) for r in cur.fetchall()}
    finally:
        cur.close()
    if "pg_stat_statements" not in str(preload):
        conn.close()
        return Unavailable("pg_stat_statements is not loaded on this server", PG_HOW)
    if not created:
        conn.close()
        return Unavailable(
            f"the pg_stat_statements extension is not created in database {database}",
            f"run CREATE EXTENSION pg_stat_statements; in database {database} (the server "
            "loads it already)",
        )
    return PostgresCounters(conn, str(database), role, columns)


def _mysql(conn: Any) -> MysqlCounters | Unavailable:
    cur = conn.cursor()
    try:
        cur.execute("SELECT DATABASE(), @@performance_schema")
        database, enabled = cur.fetchone()
        consumer = None
        if enabled:
            cur.execute(
                "SELECT ENABLED FROM performance_schema.setup_consumers "
                "WHERE NAME = 'statements_digest'"
            )
            row = cur.fetchone()
            consumer = row[0] if row else None
    finally:
        cur.close()
    if not database:
        conn.close()
        raise ConfigurationError(
            "the session has no default schema: statement digests are read per schema",
            hint="connect with the service's database in the URL (mysql://user@host/shop)",
        )
    if not enabled or str(consumer).upper() != "YES":
        conn.close()
        what = "off" if not enabled else "on, but its statements_digest consumer is disabled"
        return Unavailable(f"the performance schema is {what}", MYSQL_HOW)
    return MysqlCounters(conn, str(database), None)
