"""SQLite through the standard library's sqlite3.

SQLite has no server to time out or cancel a statement, so a progress handler checks the
deadline every few thousand virtual-machine steps and aborts the statement; ``PRAGMA
query_only`` makes reads read-only, and an explicit BEGIN ... ROLLBACK undoes writes and DDL
(SQLite's DDL is transactional).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.catalog import ColumnInfo, IndexInfo, ServerInfo, TableInfo
from workbench.dialects.base import Dialect, RunState, fetch_dicts, split_table_name, version_tuple
from workbench.errors import QueryTimeoutError, WorkbenchError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["SQLiteDialect"]

# VM instructions between deadline checks: ~0.1 ms of work, so a timeout lands within a few ms
_PROGRESS_STEPS = 5_000


class SQLiteDialect(Dialect):
    """SQLite (the ``sqlite3`` module)."""

    name = "sqlite"
    # query_only is how reads are kept read-only; writable_schema edits sqlite_master directly
    guarded_settings = frozenset({"query_only", "writable_schema", "trusted_schema"})
    read_only_enforced = True  # PRAGMA query_only refuses every write
    server_side_timeout = True  # the progress handler is in-process and exact
    transactional_ddl = True

    performance_settings: ClassVar[tuple[str, ...]] = (
        "page_size",
        "cache_size",
        "journal_mode",
        "synchronous",
        "temp_store",
        "mmap_size",
        "automatic_index",
        "foreign_keys",
        "analysis_limit",
        "threads",
    )

    @classmethod
    def matches(cls, engine: Engine, dbapi: Any) -> bool:
        return engine.dialect.name == "sqlite"

    def begin(
        self,
        dbapi: Any,
        *,
        read_only: bool,
        timeout_s: float,
        settings: Mapping[str, str],
        state: RunState,
    ) -> None:
        if dbapi.in_transaction:  # left open by app code on a shared in-memory connection
            dbapi.rollback()
        deadline = time.monotonic() + timeout_s

        def past_deadline() -> int:
            if time.monotonic() > deadline:
                state.timed_out = True
                return 1
            return 1 if state.interrupted else 0

        dbapi.set_progress_handler(past_deadline, _PROGRESS_STEPS)
        for name, value in settings.items():
            previous = dbapi.execute(f"PRAGMA {name}").fetchone()
            if previous is not None:
                state.undo.append(f"PRAGMA {name} = {_pragma_literal(previous[0])}")
            dbapi.execute(f"PRAGMA {name} = {_pragma_literal(value)}")
        if read_only:
            dbapi.execute("PRAGMA query_only = ON")
            state.undo.append("PRAGMA query_only = OFF")
        dbapi.execute("BEGIN")

    def end(self, dbapi: Any, state: RunState) -> None:
        try:
            dbapi.rollback()
        finally:
            dbapi.set_progress_handler(None, 0)
            for statement in reversed(state.undo):
                dbapi.execute(statement)

    def cancel(self, dbapi: Any) -> None:
        dbapi.interrupt()

    def translate(self, exc: BaseException, sql: str, state: RunState) -> WorkbenchError | None:
        if not isinstance(exc, sqlite3.Error):
            return None
        message = str(exc)
        if state.timed_out and "interrupt" in message.lower():
            return QueryTimeoutError(
                f"the statement ran longer than its timeout ({state.timeout_s:g} s) and was "
                "stopped",
                hint="make it faster, or allow more time: wb.connect(url, timeout=120); the "
                "session is still usable",
                engine_message=message,
                sql=sql,
            )
        hint = None
        if "is locked" in message.lower():
            return self.query_error(
                f"{message}: another connection holds a write lock on this SQLite file",
                sql,
                sqlstate=getattr(exc, "sqlite_errorname", None),
                hint="a transaction left open elsewhere (another notebook, a program, a "
                "connection of your app) holds it: commit or close that connection, then run "
                "this again; nothing was changed",
            )
        if "readonly" in message.replace("-", "").replace(" ", "").lower():
            hint = (
                "the statement writes; pass allow_writes=True to run it inside a transaction "
                "that is rolled back"
            )
        return self.query_error(
            message, sql, sqlstate=getattr(exc, "sqlite_errorname", None), hint=hint
        )

    # -- plans ----------------------------------------------------------------------------------
    def explain_command(self, sql: str, *, analyze: bool, write: bool) -> str:
        # SQLite has no ANALYZE form of EXPLAIN; explain() times the statement separately
        return f"EXPLAIN QUERY PLAN {sql}"

    def explain_document(self, rows: list[tuple[Any, ...]]) -> Any:
        return [{"id": r[0], "parent": r[1], "detail": r[-1]} for r in rows]

    # -- introspection ----------------------------------------------------------------------
    def server_info(self, dbapi: Any) -> ServerInfo:
        version = sqlite3.sqlite_version
        return ServerInfo("sqlite", version, version_tuple(version), f"SQLite {version}")

    def settings(self, dbapi: Any, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
        rows = []
        for name in names or self.performance_settings:
            if not name.isidentifier():
                continue
            try:
                value = dbapi.execute(f"PRAGMA {name}").fetchone()
            except sqlite3.Error:
                continue
            if value is not None:
                rows.append(
                    {
                        "name": name,
                        "value": str(value[0]),
                        "unit": None,
                        "source": None,
                        "description": None,
                    }
                )
        return rows

    def table_info(self, dbapi: Any, table: str) -> TableInfo | None:
        schema, name = split_table_name(table)
        prefix = f'"{schema}".' if schema else ""
        quoted = name.replace('"', '""')
        columns_raw = fetch_dicts(dbapi, f'PRAGMA {prefix}table_info("{quoted}")')
        if not columns_raw:
            return None
        columns = [
            ColumnInfo(r["name"], r["type"] or "", not r["notnull"] and not r["pk"])
            for r in columns_raw
        ]
        indexes = []
        for ix in fetch_dicts(dbapi, f'PRAGMA {prefix}index_list("{quoted}")'):
            ix_name = str(ix["name"]).replace('"', '""')
            cols = fetch_dicts(dbapi, f'PRAGMA {prefix}index_info("{ix_name}")')
            definition = dbapi.execute(
                f"SELECT sql FROM {prefix}sqlite_master WHERE type = 'index' AND name = ?",
                (ix["name"],),
            ).fetchone()
            sql = definition[0] if definition else None
            names = [c["name"] for c in cols]
            if None in names and sql:
                expressions = _index_expressions(sql)
                if len(expressions) == len(names):
                    names = [
                        n if n is not None else e for n, e in zip(names, expressions, strict=True)
                    ]
            indexes.append(
                IndexInfo(
                    name=ix["name"],
                    columns=tuple(str(n) for n in names),
                    unique=bool(ix["unique"]),
                    primary=ix.get("origin") == "pk",
                    method="btree",
                    definition=sql,
                    partial=bool(ix.get("partial")),
                )
            )
        pk = [r["name"] for r in sorted(columns_raw, key=lambda r: r["pk"]) if r["pk"]]
        if pk and not any(ix.primary for ix in indexes):
            # an INTEGER PRIMARY KEY is the rowid itself: no index row, but it is one
            indexes.insert(
                0,
                IndexInfo(
                    name="rowid", columns=tuple(pk), unique=True, primary=True, method="rowid"
                ),
            )
        fks: dict[int, dict[str, Any]] = {}
        for r in fetch_dicts(dbapi, f'PRAGMA {prefix}foreign_key_list("{quoted}")'):
            fk = fks.setdefault(
                r["id"],
                {"name": f"fk_{name}_{r['id']}", "columns": [], "referenced_table": r["table"]},
            )
            fk["columns"].append(r["from"])
        row_count = dbapi.execute(f'SELECT count(*) FROM {prefix}"{quoted}"').fetchone()[0]
        analyzed = self._stat1_rows(dbapi, prefix, name)
        return TableInfo(
            name=name,
            schema=schema,
            columns=columns,
            indexes=indexes,
            foreign_keys=list(fks.values()),
            row_estimate=float(analyzed) if analyzed is not None else float(row_count),
            row_count=int(row_count),
            extra={"analyzed": analyzed is not None},
        )

    def _stat1_rows(self, dbapi: Any, prefix: str, name: str) -> int | None:
        try:
            row = dbapi.execute(
                f"SELECT stat FROM {prefix}sqlite_stat1 WHERE tbl = ? LIMIT 1", (name,)
            ).fetchone()
        except sqlite3.Error:  # never analysed: no sqlite_stat1 table
            return None
        if not row or not row[0]:
            return None
        return int(str(row[0]).split()[0])

    def list_tables(self, dbapi: Any) -> list[str]:
        rows = dbapi.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        ).fetchall()
        return [r[0] for r in rows]


def _index_expressions(create_index: str) -> list[str]:
    """The key parts of a ``CREATE INDEX`` (``lower(email)``, ``a + b``), as SQLite's PRAGMAs
    name an expression key ``NULL``."""
    import sqlglot
    from sqlglot import exp

    try:
        index = sqlglot.parse_one(create_index, read="sqlite").this
        columns = index.args["params"].args["columns"]
        return [(c.this if isinstance(c, exp.Ordered) else c).sql("sqlite") for c in columns]
    except Exception:  # an index sqlglot cannot read: keep the PRAGMA's answer
        return []


def _pragma_literal(value: Any) -> str:
    text = str(value)
    if text.lstrip("-").isdigit() or text.isidentifier():
        return text
    return "'" + text.replace("'", "''") + "'"
