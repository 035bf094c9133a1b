"""MySQL 8 and MariaDB 10.6+ through PyMySQL.

Reads run in ``START TRANSACTION READ ONLY``; writes in ``START TRANSACTION`` and ROLLBACK. Two
things rollback cannot undo here, so the guard refuses them: DDL (both servers commit implicitly
before and after it) and writes to non-transactional tables (MyISAM, Aria, MEMORY, ...).
Timeouts: MariaDB's ``max_statement_time`` covers every statement; MySQL's
``max_execution_time`` only covers SELECT, so a client watchdog sends ``KILL QUERY`` as well.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.catalog import ColumnInfo, IndexInfo, ServerInfo, TableInfo
from workbench.dialects.base import (
    Dialect,
    Effects,
    RunState,
    fetch_dicts,
    split_table_name,
    version_tuple,
)
from workbench.dialects.mysql_effects import statement_effects
from workbench.errors import (
    ConnectionFailedError,
    LockTimeoutError,
    QueryTimeoutError,
    WorkbenchError,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from workbench.guard import StatementInfo

__all__ = ["MariaDBDialect", "MySQLDialect"]

_TIMEOUT_CODES = {1969, 3024}  # MariaDB max_statement_time, MySQL max_execution_time
_INTERRUPTED = 1317
_LOCK_WAIT_TIMEOUT = 1205  # row locks and metadata locks alike
_CONNECTION_CODES = {2002, 2003, 2006, 2013, 2055, 1040, 1045, 1049}


class MySQLDialect(Dialect):
    """MySQL 8 via PyMySQL."""

    name = "mysql"
    read_only_enforced = False  # DDL commits implicitly, even inside a read-only transaction
    server_side_timeout = False  # max_execution_time covers SELECT only
    transactional_ddl = False
    guarded_settings = frozenset(
        {
            "max_execution_time",
            "max_statement_time",
            "lock_wait_timeout",
            "innodb_lock_wait_timeout",
            "autocommit",
            "completion_type",  # CHAIN or RELEASE would change how the ROLLBACK ends
            "transaction_read_only",
            "tx_read_only",
            "session_track_transaction_info",
        }
    )

    performance_settings: ClassVar[tuple[str, ...]] = (
        "version",
        "innodb_buffer_pool_size",
        "join_buffer_size",
        "sort_buffer_size",
        "read_rnd_buffer_size",
        "tmp_table_size",
        "max_heap_table_size",
        "optimizer_switch",
        "optimizer_search_depth",
        "eq_range_index_dive_limit",
        "innodb_stats_persistent",
        "innodb_stats_auto_recalc",
        "innodb_stats_persistent_sample_pages",
        "histogram_size",
        "histogram_type",
        "use_stat_tables",
        "optimizer_use_condition_selectivity",
        "max_execution_time",
        "max_statement_time",
        "default_storage_engine",
        "transaction_isolation",
        "tx_isolation",
    )

    @classmethod
    def matches(cls, engine: Engine, dbapi: Any) -> bool:
        return engine.dialect.name in ("mysql", "mariadb") and not _is_mariadb(dbapi)

    # -- transactions -----------------------------------------------------------------------
    def _timeout_statement(self, timeout_s: float) -> tuple[str, Any]:
        return "SET SESSION max_execution_time = %s", max(1, round(timeout_s * 1000))

    def _reset_timeout_statement(self) -> str:
        return "SET SESSION max_execution_time = DEFAULT"

    def begin(
        self,
        dbapi: Any,
        *,
        read_only: bool,
        timeout_s: float,
        settings: Mapping[str, str],
        state: RunState,
    ) -> None:
        cur = dbapi.cursor()
        try:
            for name, setting in settings.items():
                cur.execute(f"SET SESSION {name} = %s", (_native(setting),))
            # the workbench's own bounds come last: nothing before them can lift them
            statement, value = self._timeout_statement(timeout_s)
            cur.execute(statement, (value,))
            lock_wait = _lock_wait_seconds(state)
            cur.execute(
                "SET SESSION innodb_lock_wait_timeout = %s, lock_wait_timeout = %s",
                (lock_wait, lock_wait),
            )
            cur.execute("START TRANSACTION READ ONLY" if read_only else "START TRANSACTION")
        finally:
            cur.close()
        state.undo.extend(f"SET SESSION {name} = DEFAULT" for name in settings)

    def end(self, dbapi: Any, state: RunState) -> None:
        dbapi.rollback()
        cur = dbapi.cursor()
        try:
            cur.execute(self._reset_timeout_statement())
            cur.execute(
                "SET SESSION innodb_lock_wait_timeout = DEFAULT, lock_wait_timeout = DEFAULT"
            )
            for statement in state.undo:
                cur.execute(statement)
        finally:
            cur.close()

    def cancel(self, dbapi: Any) -> None:
        # KILL QUERY must come from another connection; the victim then receives error 1317 and
        # stays in sync with the server.
        import pymysql

        thread_id = dbapi.thread_id()
        killer = pymysql.connect(
            host=dbapi.host,
            port=dbapi.port,
            user=_text(dbapi.user),
            password=_text(dbapi.password),
            unix_socket=dbapi.unix_socket,
            connect_timeout=5,
        )
        try:
            with killer.cursor() as cur:
                cur.execute(f"KILL QUERY {int(thread_id)}")
        finally:
            killer.close()

    def check_rollback_safe(self, info: StatementInfo, dbapi: Any) -> str | None:
        return statement_effects(self.name, info, dbapi).refuse

    def describe_blockers(self, dbapi: Any, info: StatementInfo) -> list[str]:
        dbapi.rollback()
        rows = fetch_dicts(
            dbapi,
            "SELECT t.trx_mysql_thread_id AS thread, p.USER AS user, p.HOST AS host, "
            "TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS seconds, "
            "t.trx_rows_locked AS rows_locked, t.trx_tables_locked AS tables_locked, "
            "LEFT(COALESCE(t.trx_query, p.INFO, ''), 200) AS query "
            "FROM information_schema.INNODB_TRX t "
            "LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id "
            "WHERE t.trx_mysql_thread_id <> CONNECTION_ID() "
            "AND (t.trx_rows_locked > 0 OR t.trx_tables_locked > 0) ORDER BY t.trx_started",
        )
        return [
            f"thread {r['thread']} ({r['user']}@{r['host']}, transaction open {r['seconds']} s, "
            f"{r['rows_locked']} rows locked)" + (f": {r['query']}" if r["query"] else "")
            for r in rows
        ]

    def effects(self, info: StatementInfo, dbapi: Any, *, read_only: bool) -> Effects:
        if (read_only or info.plans_only) and not info.is_write and not info.calls:
            return Effects()  # a plain read in a read-only transaction: the server refuses writes
        return statement_effects(self.name, info, dbapi)

    # -- errors -----------------------------------------------------------------------------
    def translate(self, exc: BaseException, sql: str, state: RunState) -> WorkbenchError | None:
        import pymysql

        if not isinstance(exc, pymysql.err.Error):
            return None
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
        if code in _TIMEOUT_CODES or (code == _INTERRUPTED and state.timed_out):
            return QueryTimeoutError(
                f"the statement ran longer than its timeout ({state.timeout_s:g} s) and was "
                "stopped on the server",
                hint="make it faster, or allow more time: wb.connect(url, timeout=120); the "
                "session is still usable",
                engine_message=message,
                sqlstate=str(code),
                sql=sql,
            )
        if code == _LOCK_WAIT_TIMEOUT:
            return LockTimeoutError(
                f"the statement waited {_lock_wait_seconds(state)} s for a lock another "
                "session holds, and gave up",
                hint="find what holds it (the open transactions are listed where the server "
                "tells), wait for it to finish, or run when the table is quiet",
                engine_message=message,
                sqlstate=str(code),
                sql=sql,
            )
        if code in _CONNECTION_CODES or isinstance(exc, pymysql.err.InterfaceError):
            return ConnectionFailedError(
                f"the connection to {self.name} failed: {message}",
                hint="check that the server is running and reachable; the next call reconnects",
            )
        hint = None
        if code == 1792:  # ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
            hint = (
                "the statement writes; pass allow_writes=True to run it inside a transaction "
                "that is rolled back"
            )
        return self.query_error(message, sql, sqlstate=str(code) if code else None, hint=hint)

    # -- plans ----------------------------------------------------------------------------------
    def explain_command(self, sql: str, *, analyze: bool, write: bool) -> str:
        # MySQL 8: EXPLAIN ANALYZE prints the TREE format with actual times
        return f"EXPLAIN ANALYZE {sql}" if analyze else f"EXPLAIN FORMAT=JSON {sql}"

    def explain_document(self, rows: list[tuple[Any, ...]]) -> Any:
        value = rows[0][0] if rows and rows[0] else None
        if isinstance(value, str) and value.lstrip().startswith("{"):
            import json

            return json.loads(value)
        return value

    # -- introspection ----------------------------------------------------------------------
    def server_info(self, dbapi: Any) -> ServerInfo:
        row = fetch_dicts(dbapi, "SELECT VERSION() AS v, @@version_comment AS d")[0]
        version = str(row["v"])
        return ServerInfo(
            self.name,
            version.split("-")[0],
            version_tuple(version),
            f"{version} {row['d'] or ''}".strip(),
        )

    def settings(self, dbapi: Any, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
        if names is None:
            rows = fetch_dicts(dbapi, "SHOW SESSION VARIABLES")
        else:
            marks = ", ".join(["%s"] * len(names))
            rows = fetch_dicts(
                dbapi, f"SHOW SESSION VARIABLES WHERE Variable_name IN ({marks})", list(names)
            )
        return [
            {
                "name": r["Variable_name"],
                "value": r["Value"],
                "unit": None,
                "source": None,
                "description": None,
            }
            for r in rows
        ]

    def table_info(self, dbapi: Any, table: str) -> TableInfo | None:
        schema, name = split_table_name(table)
        rows = fetch_dicts(
            dbapi,
            "SELECT TABLE_SCHEMA AS s, TABLE_NAME AS n, ENGINE AS engine, TABLE_ROWS AS row_est, "
            "DATA_LENGTH + INDEX_LENGTH AS size_bytes, UPDATE_TIME AS updated "
            "FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s",
            (schema, name),
        )
        if not rows:
            return None
        row = rows[0]
        args = (row["s"], row["n"])
        columns = [
            ColumnInfo(r["name"], r["type"], r["nullable"] == "YES")
            for r in fetch_dicts(
                dbapi,
                "SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable "
                "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
                "ORDER BY ORDINAL_POSITION",
                args,
            )
        ]
        index_rows = fetch_dicts(
            dbapi,
            "SELECT INDEX_NAME AS name, COLUMN_NAME AS col, NON_UNIQUE AS non_unique, "
            "INDEX_TYPE AS method, SEQ_IN_INDEX AS seq FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY INDEX_NAME, SEQ_IN_INDEX",
            args,
        )
        grouped: dict[str, list[dict[str, Any]]] = {}
        for r in index_rows:
            grouped.setdefault(r["name"], []).append(r)
        indexes = [
            IndexInfo(
                name=ix,
                columns=tuple(str(c["col"]) for c in cols),
                unique=not int(cols[0]["non_unique"]),
                primary=ix == "PRIMARY",
                method=str(cols[0]["method"]).lower(),
            )
            for ix, cols in grouped.items()
        ]
        fk_rows = fetch_dicts(
            dbapi,
            "SELECT CONSTRAINT_NAME AS name, COLUMN_NAME AS col, REFERENCED_TABLE_NAME AS ref "
            "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s "
            "AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION",
            args,
        )
        fks: dict[str, dict[str, Any]] = {}
        for r in fk_rows:
            fk = fks.setdefault(
                r["name"], {"name": r["name"], "columns": [], "referenced_table": r["ref"]}
            )
            fk["columns"].append(r["col"])
        return TableInfo(
            name=row["n"],
            schema=row["s"],
            columns=columns,
            indexes=indexes,
            foreign_keys=list(fks.values()),
            row_estimate=float(row["row_est"]) if row["row_est"] is not None else None,
            size_bytes=int(row["size_bytes"]) if row["size_bytes"] is not None else None,
            last_analyzed=self._last_analyzed(dbapi, row["s"], row["n"]),
            storage_engine=row["engine"],
        )

    def _last_analyzed(self, dbapi: Any, schema: str, name: str) -> Any:
        try:
            rows = fetch_dicts(
                dbapi,
                "SELECT last_update FROM mysql.innodb_table_stats "
                "WHERE database_name = %s AND table_name = %s",
                (schema, name),
            )
        except Exception:  # no privilege on the mysql schema: freshness stays unknown
            return None
        return rows[0]["last_update"] if rows else None

    def list_tables(self, dbapi: Any) -> list[str]:
        rows = fetch_dicts(
            dbapi,
            "SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
        )
        return [r["n"] for r in rows]


class MariaDBDialect(MySQLDialect):
    """MariaDB via PyMySQL: ``max_statement_time`` stops any statement on the server."""

    name = "mariadb"
    server_side_timeout = True
    silent_timeouts = True

    @classmethod
    def matches(cls, engine: Engine, dbapi: Any) -> bool:
        return engine.dialect.name in ("mysql", "mariadb") and _is_mariadb(dbapi)

    def _timeout_statement(self, timeout_s: float) -> tuple[str, Any]:
        return "SET SESSION max_statement_time = %s", max(0.001, float(timeout_s))

    def _reset_timeout_statement(self) -> str:
        return "SET SESSION max_statement_time = DEFAULT"

    def explain_command(self, sql: str, *, analyze: bool, write: bool) -> str:
        # MariaDB's ANALYZE runs the statement and reports r_rows, r_loops, r_total_time_ms
        return f"ANALYZE FORMAT=JSON {sql}" if analyze else f"EXPLAIN FORMAT=JSON {sql}"


def _is_mariadb(dbapi: Any) -> bool:
    info = getattr(dbapi, "get_server_info", None)
    return bool(info and "mariadb" in str(info()).lower())


def _text(value: str | bytes | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


def _native(value: str) -> Any:
    """MySQL refuses a quoted string for a numeric variable; send numbers as numbers."""
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            continue
    return value


def _lock_wait_seconds(state: RunState) -> int:
    """InnoDB's lock wait in whole seconds, rounded down so it ends before the statement's
    timeout does (one second at least: the server's minimum)."""
    return max(1, math.floor(state.lock_timeout_s))
