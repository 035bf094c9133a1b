"""DuckDB through duckdb-engine (the DB-API connection underneath).

DuckDB has no statement timeout and no read-only transaction mode, so the executor's watchdog
calls ``interrupt()`` at the deadline, and only statements the guard classified as reads run
without ``allow_writes``. Every statement runs inside BEGIN ... ROLLBACK (DuckDB's DDL is
transactional too).
"""

from __future__ import annotations

import contextlib
import re
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
from workbench.errors import QueryTimeoutError, WorkbenchError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from workbench.guard import StatementInfo

__all__ = ["DuckDBDialect"]

_SEQUENCE = re.compile(r"nextval\('([^']+)'")


class DuckDBDialect(Dialect):
    """DuckDB."""

    name = "duckdb"
    read_only_enforced = False
    server_side_timeout = False  # the watchdog interrupts
    transactional_ddl = True

    performance_settings: ClassVar[tuple[str, ...]] = (
        "threads",
        "memory_limit",
        "preserve_insertion_order",
        "enable_object_cache",
        "temp_directory",
        "max_temp_directory_size",
        "default_order",
        "enable_progress_bar",
    )

    @classmethod
    def matches(cls, engine: Engine, dbapi: Any) -> bool:
        return engine.dialect.name == "duckdb"

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
            for name, value in settings.items():
                # SET in DuckDB is not transactional: RESET after the statement
                cur.execute(f"SET {name} = ?", [value])
                state.undo.append(f"RESET {name}")
            cur.execute("BEGIN TRANSACTION")
        finally:
            cur.close()

    def end(self, dbapi: Any, state: RunState) -> None:
        import duckdb

        cur = dbapi.cursor()
        try:
            # a failed statement may have ended the transaction already
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            for statement in state.undo:
                cur.execute(statement)
        finally:
            cur.close()

    def cancel(self, dbapi: Any) -> None:
        dbapi.interrupt()

    def translate(self, exc: BaseException, sql: str, state: RunState) -> WorkbenchError | None:
        import duckdb

        if not isinstance(exc, duckdb.Error):
            return None
        message = str(exc)
        if state.timed_out and ("interrupt" in message.lower()):
            return QueryTimeoutError(
                f"the statement ran longer than its timeout ({state.timeout_s:g} s) and was "
                "interrupted",
                hint="make it faster, or allow more time: wb.connect(url, timeout=120); the "
                "session is still usable",
                engine_message=message,
                sql=sql,
            )
        hint = None
        lowered = message.lower()
        if "conflict" in lowered or "connection is busy" in lowered:
            hint = (
                "another connection changed the same rows at the same time (DuckDB refuses "
                "conflicting writes rather than waiting): run it again when that one is done"
            )
        return self.query_error(message, sql, sqlstate=type(exc).__name__, hint=hint)

    # -- what a statement reaches -----------------------------------------------------------
    def effects(self, info: StatementInfo, dbapi: Any, *, read_only: bool) -> Effects:
        operation = (info.inner.operation if info.inner else info.operation).upper()
        if operation.startswith("EXPORT"):
            return Effects(refuse=f"{operation} writes files, which a rollback cannot undo")
        if not info.is_write or not operation.startswith("INSERT") or not info.written_tables:
            return Effects()
        names = [t.split(".")[-1].strip('"') for t in info.written_tables]
        rows = fetch_dicts(
            dbapi,
            "SELECT DISTINCT column_default AS d FROM duckdb_columns() "
            "WHERE column_default LIKE 'nextval(%' "
            f"AND table_name IN ({', '.join('?' for _ in names)})",
            names,
        )
        found = [_SEQUENCE.search(str(r["d"])) for r in rows]
        return Effects(sequences=tuple(m.group(1) for m in found if m))

    # -- plans ----------------------------------------------------------------------------------
    def explain_command(self, sql: str, *, analyze: bool, write: bool) -> str:
        return f"EXPLAIN ({'ANALYZE, ' if analyze else ''}FORMAT json) {sql}"

    def explain_document(self, rows: list[tuple[Any, ...]]) -> Any:
        import json

        return json.loads(rows[0][1]) if rows else None

    # -- introspection ----------------------------------------------------------------------
    def server_info(self, dbapi: Any) -> ServerInfo:
        version = str(fetch_dicts(dbapi, "SELECT version() AS v")[0]["v"]).lstrip("v")
        return ServerInfo("duckdb", version, version_tuple(version), f"DuckDB {version}")

    def settings(self, dbapi: Any, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
        wanted = list(names or self.performance_settings)
        marks = ", ".join("?" for _ in wanted)
        return fetch_dicts(
            dbapi,
            "SELECT name, value, NULL AS unit, NULL AS source, description FROM duckdb_settings() "
            f"WHERE name IN ({marks}) ORDER BY name",
            wanted,
        )

    def table_info(self, dbapi: Any, table: str) -> TableInfo | None:
        schema, name = split_table_name(table)
        tables = fetch_dicts(
            dbapi,
            "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() "
            "WHERE table_name = ? AND (? IS NULL OR schema_name = ?) AND NOT internal "
            "ORDER BY schema_name = current_schema() DESC LIMIT 1",
            [name, schema, schema],
        )
        if not tables:
            return None
        found = tables[0]
        where = [found["schema_name"], found["table_name"]]
        columns = [
            ColumnInfo(r["column_name"], r["data_type"], bool(r["is_nullable"]))
            for r in fetch_dicts(
                dbapi,
                "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
                "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
                where,
            )
        ]
        indexes: list[IndexInfo] = []
        for c in fetch_dicts(
            dbapi,
            "SELECT constraint_type, constraint_column_names, referenced_table, "
            "referenced_column_names FROM duckdb_constraints() "
            "WHERE schema_name = ? AND table_name = ?",
            where,
        ):
            if c["constraint_type"] in ("PRIMARY KEY", "UNIQUE"):
                cols = tuple(c["constraint_column_names"])
                indexes.append(
                    IndexInfo(
                        name=f"{name}_{'pkey' if c['constraint_type'] == 'PRIMARY KEY' else 'key'}",
                        columns=cols,
                        unique=True,
                        primary=c["constraint_type"] == "PRIMARY KEY",
                        method="art",
                    )
                )
        fks = [
            {
                "name": f"fk_{name}_{i}",
                "columns": list(c["constraint_column_names"]),
                "referenced_table": c["referenced_table"],
            }
            for i, c in enumerate(
                fetch_dicts(
                    dbapi,
                    "SELECT constraint_column_names, referenced_table FROM duckdb_constraints() "
                    "WHERE schema_name = ? AND table_name = ? AND constraint_type = 'FOREIGN KEY'",
                    where,
                )
            )
        ]
        for ix in fetch_dicts(
            dbapi,
            "SELECT index_name, is_unique, expressions, sql FROM duckdb_indexes() "
            "WHERE schema_name = ? AND table_name = ?",
            where,
        ):
            expressions = ix["expressions"]
            if isinstance(expressions, str):  # DuckDB prints the list: "[created_at, id]"
                expressions = expressions.strip("[]").split(", ")
            cols = tuple(str(e).strip().strip("'\"") for e in expressions)
            indexes.append(
                IndexInfo(
                    name=ix["index_name"],
                    columns=cols,
                    unique=bool(ix["is_unique"]),
                    method="art",
                    definition=ix["sql"],
                )
            )
        count = fetch_dicts(
            dbapi, f'SELECT count(*) AS n FROM "{found["schema_name"]}"."{found["table_name"]}"'
        )[0]["n"]
        return TableInfo(
            name=found["table_name"],
            schema=found["schema_name"] if found["schema_name"] != "main" else None,
            columns=columns,
            indexes=indexes,
            foreign_keys=fks,
            row_estimate=float(found["estimated_size"])
            if found["estimated_size"] is not None
            else None,
            row_count=int(count),
        )

    def list_tables(self, dbapi: Any) -> list[str]:
        rows = fetch_dicts(
            dbapi,
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal "
            "ORDER BY schema_name, table_name",
        )
        return [
            r["table_name"]
            if r["schema_name"] == "main"
            else f"{r['schema_name']}.{r['table_name']}"
            for r in rows
        ]
