"""PostgreSQL (15-18) through psycopg 3.

Reads run in ``SET TRANSACTION READ ONLY`` (the server refuses writes, even from functions), every
statement gets ``SET LOCAL statement_timeout``, and everything ends in ROLLBACK. Cancel uses the
protocol's cancel request, so the backend stops and the connection stays usable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.catalog import ColumnInfo, IndexInfo, ServerInfo, TableInfo
from workbench.dialects.base import Dialect, Effects, RunState, fetch_dicts, version_tuple
from workbench.dialects.postgresql_effects import statement_effects
from workbench.errors import (
    ConnectionFailedError,
    LockTimeoutError,
    QueryError,
    QueryTimeoutError,
    WorkbenchError,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from workbench.guard import StatementInfo

__all__ = ["PostgreSQLDialect"]

# the sessions holding granted locks on a statement's tables (after its lock wait timed out)
_BLOCKERS_SQL = """
SELECT DISTINCT a.pid, a.usename, a.application_name, a.state,
       extract(epoch FROM now() - a.xact_start)::float8 AS seconds, left(a.query, 200) AS query
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted AND l.pid <> pg_backend_pid()
  AND l.relation = ANY(ARRAY(SELECT to_regclass(x) FROM unnest(%s::text[]) AS x))
ORDER BY a.pid
"""

_TABLE_SQL = """
SELECT c.oid, n.nspname AS schema, c.relname AS name, c.reltuples::float8 AS reltuples,
       pg_total_relation_size(c.oid) AS size_bytes, s.n_live_tup, s.n_mod_since_analyze,
       s.n_tup_upd, s.n_tup_del, c.relpages,
       pg_relation_size(c.oid) / current_setting('block_size')::int AS pages_now,
       greatest(s.last_analyze, s.last_autoanalyze) AS last_analyzed,
       greatest(s.last_vacuum, s.last_autovacuum) AS last_vacuumed, c.relkind,
       CASE WHEN c.reltoastrelid <> 0 THEN pg_relation_size(c.reltoastrelid) END AS toast_bytes
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
WHERE c.oid = to_regclass(%s)
"""
_COLUMNS_SQL = """
SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       NOT a.attnotnull AS nullable,
       (SELECT s.avg_width FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename
          JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname
        WHERE c.oid = a.attrelid AND s.attname = a.attname ORDER BY s.inherited LIMIT 1)
       AS avg_width
FROM pg_attribute a WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
_INDEXES_SQL = """
SELECT i.relname AS name, ix.indisunique AS unique, ix.indisprimary AS primary,
       am.amname AS method, pg_get_indexdef(ix.indexrelid) AS definition,
       ix.indpred IS NOT NULL AS partial,
       ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true)
             FROM generate_series(1, ix.indnkeyatts) AS k ORDER BY k) AS columns
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_am am ON am.oid = i.relam
WHERE ix.indrelid = %s
ORDER BY ix.indisprimary DESC, i.relname
"""
_FOREIGN_KEYS_SQL = """
SELECT con.conname AS name, con.confrelid::regclass::text AS referenced_table,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns
FROM pg_constraint con WHERE con.conrelid = %s AND con.contype = 'f' ORDER BY con.conname
"""


class PostgreSQLDialect(Dialect):
    """PostgreSQL via psycopg 3."""

    name = "postgresql"
    read_only_enforced = True
    server_side_timeout = True
    transactional_ddl = True
    guarded_settings = frozenset(
        {
            "statement_timeout",
            "lock_timeout",
            "idle_in_transaction_session_timeout",
            "idle_session_timeout",
            "transaction_timeout",
            "transaction_read_only",
            "default_transaction_read_only",
            "session_replication_role",  # "replica" turns off triggers and foreign keys
        }
    )

    performance_settings: ClassVar[tuple[str, ...]] = (
        "server_version",
        "shared_buffers",
        "work_mem",
        "hash_mem_multiplier",
        "maintenance_work_mem",
        "effective_cache_size",
        "random_page_cost",
        "seq_page_cost",
        "cpu_tuple_cost",
        "cpu_index_tuple_cost",
        "cpu_operator_cost",
        "effective_io_concurrency",
        "default_statistics_target",
        "max_parallel_workers_per_gather",
        "max_parallel_workers",
        "max_worker_processes",
        "parallel_setup_cost",
        "parallel_tuple_cost",
        "min_parallel_table_scan_size",
        "jit",
        "jit_above_cost",
        "plan_cache_mode",
        "from_collapse_limit",
        "join_collapse_limit",
        "geqo_threshold",
        "track_io_timing",
        "shared_preload_libraries",
        "max_connections",
        "autovacuum",
        "autovacuum_analyze_scale_factor",
        "enable_seqscan",
        "enable_indexscan",
        "enable_bitmapscan",
        "enable_indexonlyscan",
        "enable_hashjoin",
        "enable_mergejoin",
        "enable_nestloop",
        "enable_sort",
        "enable_hashagg",
        "enable_material",
        "enable_memoize",
        "enable_partitionwise_join",
        "temp_buffers",
    )

    @classmethod
    def matches(cls, engine: Engine, dbapi: Any) -> bool:
        return engine.dialect.name == "postgresql"

    def begin(
        self,
        dbapi: Any,
        *,
        read_only: bool,
        timeout_s: float,
        settings: Mapping[str, str],
        state: RunState,
    ) -> None:
        from psycopg import sql

        # psycopg opens the transaction itself before the first command; SET TRANSACTION must
        # be that first command, and one round trip carries it with the timeout and settings.
        parts: list[sql.Composable] = [sql.SQL("SET TRANSACTION READ ONLY")] if read_only else []
        for name, value in settings.items():
            parts.append(sql.SQL("SET LOCAL {} = {}").format(sql.SQL(name), sql.Literal(value)))
        # the workbench's own bounds come last: nothing before them can lift them
        parts.append(
            sql.SQL("SET LOCAL statement_timeout = {}").format(
                sql.Literal(f"{max(1, round(timeout_s * 1000))}ms")
            )
        )
        parts.append(
            sql.SQL("SET LOCAL lock_timeout = {}").format(
                sql.Literal(f"{max(1, round(state.lock_timeout_s * 1000))}ms")
            )
        )
        with dbapi.cursor() as cur:
            cur.execute(sql.SQL("; ").join(parts))

    def end(self, dbapi: Any, state: RunState) -> None:
        dbapi.rollback()
        if state.undo:  # session-level leftovers (a PREPAREd statement survives ROLLBACK)
            with dbapi.cursor() as cur:
                for statement in state.undo:
                    cur.execute(statement)
            dbapi.rollback()

    def cancel(self, dbapi: Any) -> None:
        cancel_safe = getattr(dbapi, "cancel_safe", None)
        if cancel_safe is not None:
            cancel_safe(timeout=5.0)
        else:  # psycopg < 3.2
            dbapi.cancel()

    def translate(self, exc: BaseException, sql: str, state: RunState) -> WorkbenchError | None:
        import psycopg

        if not isinstance(exc, psycopg.Error):
            return None
        sqlstate = getattr(exc, "sqlstate", None)
        diag = getattr(exc, "diag", None)
        primary = (getattr(diag, "message_primary", None) or str(exc)).strip()
        if sqlstate == "55P03" and "lock timeout" in primary:
            return LockTimeoutError(
                f"the statement waited {state.lock_timeout_s:g} s for a lock another session "
                "holds, and gave up",
                hint="find what holds it (the blockers are listed where PostgreSQL tells), "
                "wait for it to finish, or run when the table is quiet",
                engine_message=primary,
                sqlstate=sqlstate,
                sql=sql,
            )
        if isinstance(exc, psycopg.errors.QueryCanceled) or sqlstate == "57014":
            return QueryTimeoutError(
                f"the statement ran longer than its timeout ({state.timeout_s:g} s) and was "
                "cancelled on the server",
                hint="make it faster, or allow more time: wb.connect(url, timeout=120) or "
                "s.timeout = 120; the session is still usable",
                engine_message=primary,
                sqlstate=sqlstate,
                sql=sql,
            )
        if isinstance(exc, psycopg.OperationalError) and (
            getattr(exc, "sqlstate", None) is None or str(sqlstate).startswith("08")
        ):
            return ConnectionFailedError(
                f"the connection to PostgreSQL failed: {primary}",
                hint="check that the server is running and reachable; the next call reconnects",
            )
        position = getattr(diag, "statement_position", None)
        hint = getattr(diag, "message_hint", None)
        detail = getattr(diag, "message_detail", None)
        message = primary + (f" ({detail})" if detail else "")
        if sqlstate == "25006":  # read_only_sql_transaction: a "read" that writes
            hint = (
                "the statement writes (perhaps through a function); pass allow_writes=True to run "
                "it inside a transaction that is rolled back"
            )
        return self.query_error(
            message,
            sql,
            sqlstate=sqlstate,
            position=int(position) if position else None,
            hint=(hint and f"{hint}") or None,
        )

    # -- what a statement reaches -----------------------------------------------------------
    def effects(self, info: StatementInfo, dbapi: Any, *, read_only: bool) -> Effects:
        if not info.calls and not info.is_write:
            return Effects()  # a read: the read-only transaction refuses every local write
        return statement_effects(info, dbapi, read_only=read_only)

    def describe_blockers(self, dbapi: Any, info: StatementInfo) -> list[str]:
        dbapi.rollback()  # the failed transaction accepts no query
        rows = fetch_dicts(dbapi, _BLOCKERS_SQL, [list(info.tables)])
        return [
            f"pid {r['pid']} ({r['usename']}"
            + (f", {r['application_name']}" if r["application_name"] else "")
            + f", {r['state']}, transaction open {r['seconds']:.0f} s): {r['query']}"
            for r in rows
        ]

    # -- plans ----------------------------------------------------------------------------------
    def explain_command(self, sql: str, *, analyze: bool, write: bool) -> str:
        options = ["FORMAT JSON", "SETTINGS"]
        if analyze:
            options[1:1] = ["ANALYZE", "BUFFERS"]
            if write:
                options.append("WAL")
        return f"EXPLAIN ({', '.join(options)}) {sql}"

    # -- introspection ----------------------------------------------------------------------
    def server_info(self, dbapi: Any) -> ServerInfo:
        row = fetch_dicts(dbapi, "SELECT current_setting('server_version') AS v, version() AS d")
        version = str(row[0]["v"]).split()[0]
        return ServerInfo("postgresql", version, version_tuple(version), str(row[0]["d"]))

    def settings(self, dbapi: Any, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
        base = (
            "SELECT name, setting AS value, unit, source, short_desc AS description "
            "FROM pg_settings"
        )
        if names is None:
            return fetch_dicts(dbapi, base + " ORDER BY name")
        return fetch_dicts(dbapi, base + " WHERE name = ANY(%s) ORDER BY name", [list(names)])

    def table_info(self, dbapi: Any, table: str) -> TableInfo | None:
        try:
            rows = fetch_dicts(dbapi, _TABLE_SQL, [table])
        except QueryError:
            return None
        if not rows:
            return None
        row = rows[0]
        oid = row["oid"]
        column_rows = fetch_dicts(dbapi, _COLUMNS_SQL, [oid])
        columns = [ColumnInfo(r["name"], r["type"], bool(r["nullable"])) for r in column_rows]
        # the planner's average width of each column (bytes as stored: a value moved out of
        # line to TOAST counts its pointer), for rules that judge how wide rows are
        widths = {r["name"]: int(r["avg_width"]) for r in column_rows if r["avg_width"]}
        indexes = [
            IndexInfo(
                name=r["name"],
                columns=tuple(r["columns"]),
                unique=bool(r["unique"]),
                primary=bool(r["primary"]),
                method=r["method"],
                definition=r["definition"],
                partial=bool(r["partial"]),
            )
            for r in fetch_dicts(dbapi, _INDEXES_SQL, [oid])
        ]
        fks = [
            {
                "name": r["name"],
                "columns": list(r["columns"]),
                "referenced_table": r["referenced_table"],
            }
            for r in fetch_dicts(dbapi, _FOREIGN_KEYS_SQL, [oid])
        ]
        reltuples = row["reltuples"]
        return TableInfo(
            name=row["name"],
            schema=row["schema"],
            columns=columns,
            indexes=indexes,
            foreign_keys=fks,
            # reltuples is -1 for a table never vacuumed or analysed
            row_estimate=float(reltuples) if reltuples is not None and reltuples >= 0 else None,
            size_bytes=int(row["size_bytes"]) if row["size_bytes"] is not None else None,
            last_analyzed=row["last_analyzed"],
            modified_since_analyze=row["n_mod_since_analyze"],
            extra={
                "n_live_tup": row["n_live_tup"],
                "n_tup_upd": row["n_tup_upd"],
                "n_tup_del": row["n_tup_del"],
                "relpages": row["relpages"],
                "pages_now": row["pages_now"],
                "last_vacuumed": row["last_vacuumed"],
                "relkind": row["relkind"],
                "column_widths": widths,
                "toast_bytes": row["toast_bytes"],
            },
        )

    def list_tables(self, dbapi: Any) -> list[str]:
        rows = fetch_dicts(
            dbapi,
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "AND table_type = 'BASE TABLE' ORDER BY 1, 2",
        )
        return [
            r["table_name"]
            if r["table_schema"] == "public"
            else f"{r['table_schema']}.{r['table_name']}"
            for r in rows
        ]
