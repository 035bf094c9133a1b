"""MySQL 8 and MariaDB 10.6+ through PyMySQL.

Reads run in ``START TRANSACTION READ ONLY``; writes in ``START TRANSACTION`` and ROLLBACK. Two
things rollback cannot undo here, so the guard refuses them: DDL (both servers commit implicitly
before and after it) and writes to non-transactional tables (MyISAM, Aria, MEMORY, ...).
Timeouts: MariaDB's ``max_statement_time`` covers every statement; MySQL's
``max_execution_time`` only covers SELECT, so a client watchdog sends ``KILL QUERY`` as well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.catalog import ColumnInfo, IndexInfo, ServerInfo, TableInfo
from workbench.dialects.base import (
    Dialect,
    RunState,
    fetch_dicts,
    split_table_name,
    version_tuple,
)
from workbench.errors import ConnectionFailedError, QueryTimeoutError, WorkbenchError
from workbench.guard import StatementKind

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from workbench.guard import StatementInfo

__all__ = ["MariaDBDialect", "MySQLDialect"]

TRANSACTIONAL_ENGINES = frozenset({"INNODB", "XTRADB", "ROCKSDB", "TOKUDB", "NDBCLUSTER", "NDB"})
_TIMEOUT_CODES = {1969, 3024}  # MariaDB max_statement_time, MySQL max_execution_time
_INTERRUPTED = 1317
_CONNECTION_CODES = {2002, 2003, 2006, 2013, 2055, 1040, 1045, 1049}


class MySQLDialect(Dialect):
    """MySQL 8 via PyMySQL."""

    name = "mysql"
    read_only_enforced = False  # DDL commits implicitly, even inside a read-only transaction
    server_side_timeout = False  # max_execution_time covers SELECT only
    transactional_ddl = False

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
            statement, value = self._timeout_statement(timeout_s)
            cur.execute(statement, (value,))
            for name, setting in settings.items():
                cur.execute(f"SET SESSION {name} = %s", (_native(setting),))
            cur.execute("START TRANSACTION READ ONLY" if read_only else "START TRANSACTION")
        finally:
            cur.close()
        state.undo.extend(f"SET SESSION {name} = DEFAULT" for name in settings)

    def end(self, dbapi: Any, state: RunState) -> None:
        dbapi.rollback()
        cur = dbapi.cursor()
        try:
            cur.execute(self._reset_timeout_statement())
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
        if info.kind is StatementKind.DDL or (info.inner and info.inner.kind is StatementKind.DDL):
            return (
                f"{self.name} commits DDL ({info.operation}) implicitly, so a rollback cannot "
                "undo it; the workbench does not run DDL on this engine"
            )
        if not info.is_write:
            return None
        if not info.written_tables:
            return (
                f"the workbench cannot tell which tables this {info.operation} writes, so it "
                "cannot check that a rollback would undo it"
            )
        engines = self._storage_engines(dbapi, info.written_tables)
        unsafe = sorted(
            f"{t} ({e})" for t, e in engines.items() if e and e.upper() not in TRANSACTIONAL_ENGINES
        )
        if unsafe:
            return (
                f"{', '.join(unsafe)} use a non-transactional storage engine: a rollback would "
                "not undo the write"
            )
        return None

    def _storage_engines(
        self, dbapi: Any, tables: Sequence[str], depth: int = 0
    ) -> dict[str, str | None]:
        """Each table's storage engine; a view stands for the tables it is defined on (a write
        through a view changes them), an unreadable view for "unknown" (refused)."""
        from workbench.guard import classify

        found: dict[str, str | None] = {}
        for table in tables:
            schema, name = split_table_name(table)
            rows = fetch_dicts(
                dbapi,
                "SELECT t.ENGINE AS engine, t.TABLE_TYPE AS type, v.VIEW_DEFINITION AS definition "
                "FROM information_schema.TABLES t LEFT JOIN information_schema.VIEWS v "
                "ON v.TABLE_SCHEMA = t.TABLE_SCHEMA AND v.TABLE_NAME = t.TABLE_NAME "
                "WHERE t.TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND t.TABLE_NAME = %s",
                (schema, name),
            )
            if not rows:
                found[table] = None  # no such table: the statement will fail by itself
            elif rows[0]["type"] != "VIEW":
                found[table] = rows[0]["engine"]
            elif depth < 8 and rows[0]["definition"]:
                below = classify(rows[0]["definition"], self.name).tables
                if not below:
                    found[f"{table} (a view)"] = "unknown"
                for base, engine in self._storage_engines(dbapi, below, depth + 1).items():
                    found[f"{base} (under the view {table})"] = engine
            else:
                found[f"{table} (a view)"] = "unknown"
        return found

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
