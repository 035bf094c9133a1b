"""What every engine module provides: transactions, timeouts, cancel, errors, introspection.

A :class:`Dialect` works on raw DB-API connections (the driver's own objects), so the safety
guard and the profiler add nothing between the driver and the server. Each engine subclasses it
in one module and registers itself in :mod:`workbench.dialects`, through the same
:func:`~workbench.dialects.register` an outside plugin would call.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from workbench.errors import ConfigurationError, QueryError, WorkbenchError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

    from workbench.catalog import ServerInfo, TableInfo
    from workbench.guard import StatementInfo

__all__ = ["Dialect", "Effects", "RunState"]

_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class Effects:
    """What a statement may do beyond what its text says, found in the server's catalogue:
    through the functions it calls, the triggers its writes fire, the views it writes through.

    ``refuse``: why a rollback could not undo it (it is never run); ``writes``: how a statement
    that reads as a read writes (it needs ``allow_writes=True``); ``sequences``: the sequences
    or counters it advances, which no rollback restores (a warning, once per session).
    """

    refuse: str | None = None
    writes: str | None = None
    sequences: tuple[str, ...] = ()


class RunState:
    """One statement's run: its timeout, why it was stopped if it was (set by the watchdog or the
    SIGINT handler, read when the driver's error arrives to tell a timeout from an interrupt),
    and what :meth:`Dialect.begin` changed on the connection that :meth:`Dialect.end` undoes."""

    __slots__ = ("interrupted", "lock_timeout_s", "started", "timed_out", "timeout_s", "undo")

    def __init__(self, timeout_s: float, lock_timeout_s: float | None = None) -> None:
        self.timeout_s = timeout_s
        #: how long a statement may wait for a lock before it gives up (shorter than the
        #: statement timeout, so a lock wait reads as one)
        self.lock_timeout_s = lock_timeout_s if lock_timeout_s is not None else timeout_s
        self.timed_out = False
        self.interrupted = False
        self.undo: list[str] = []
        self.started = 0.0  # perf_counter() when the statement was sent


class Dialect(ABC):
    """One database engine, as the workbench drives it.

    Class attributes describe the engine; methods take the driver's connection (``dbapi``).
    """

    name: ClassVar[str]  # "postgresql", "mysql", "mariadb", "sqlite", "duckdb"
    #: the engine refuses writes inside the workbench's read-only transaction by itself
    read_only_enforced: ClassVar[bool] = False
    #: the server stops a statement at its timeout by itself (no client watchdog needed)
    server_side_timeout: ClassVar[bool] = True
    #: DDL can be rolled back
    transactional_ddl: ClassVar[bool] = True
    #: a statement stopped at its timeout may "succeed" with a cut-short result (MariaDB's
    #: BENCHMARK() returns 0): a success that took the whole timeout counts as a timeout
    silent_timeouts: ClassVar[bool] = False
    #: settings that are the workbench's, not the caller's: the timeouts it sets on every
    #: statement, the read-only mode, anything that would end or commit its transaction
    guarded_settings: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, url: URL | None = None) -> None:
        self.url = url

    # -- registry ---------------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def matches(cls, engine: Engine, dbapi: Any) -> bool:
        """True when this dialect drives ``engine`` (given one live driver connection)."""

    # -- transactions and timeouts ----------------------------------------------------------
    @abstractmethod
    def begin(
        self,
        dbapi: Any,
        *,
        read_only: bool,
        timeout_s: float,
        settings: Mapping[str, str],
        state: RunState,
    ) -> None:
        """Open the transaction a statement runs in, with its timeout and per-call settings.

        Engines without a server-side timeout mark ``state.timed_out`` from their own hook (SQLite's
        progress handler) or rely on the executor's watchdog calling :meth:`cancel`.
        """

    @abstractmethod
    def end(self, dbapi: Any, state: RunState) -> None:
        """Roll back the statement's transaction and undo anything :meth:`begin` changed."""

    @abstractmethod
    def cancel(self, dbapi: Any) -> None:
        """Stop the statement running on ``dbapi`` (called from another thread or a signal)."""

    def check_rollback_safe(self, info: StatementInfo, dbapi: Any) -> str | None:
        """A reason rollback could not undo the write ``info`` on this server, or ``None``."""
        return None

    def effects(self, info: StatementInfo, dbapi: Any, *, read_only: bool) -> Effects:
        """What ``info`` may do through the server's catalogue (functions, triggers, views);
        ``read_only``: it runs in a read-only transaction. The default knows only
        :meth:`check_rollback_safe`."""
        if info.is_write:
            return Effects(refuse=self.check_rollback_safe(info, dbapi))
        return Effects()

    def describe_blockers(self, dbapi: Any, info: StatementInfo) -> list[str]:
        """After a lock timeout: the other sessions holding locks on ``info``'s tables, as the
        engine tells them (the transaction may have been rolled back already)."""
        return []

    # -- errors -----------------------------------------------------------------------------
    @abstractmethod
    def translate(self, exc: BaseException, sql: str, state: RunState) -> WorkbenchError | None:
        """The workbench error for a driver exception, or ``None`` if it is not the driver's."""

    def query_error(self, message: str, sql: str, **fields: Any) -> QueryError:
        """A :class:`QueryError` with the hint every engine shares."""
        return QueryError(
            f"{self.name} rejected the statement: {message}",
            hint=fields.pop("hint", None) or "fix the SQL and run it again; nothing was changed",
            engine_message=message,
            sql=sql,
            **fields,
        )

    # -- execution helpers ------------------------------------------------------------------
    def validate_settings(self, settings: Mapping[str, Any] | None) -> dict[str, str]:
        """Check setting names (they are spliced into SET statements) and stringify values."""
        checked: dict[str, str] = {}
        for name, value in (settings or {}).items():
            if not isinstance(name, str) or not _SETTING_NAME.match(name):
                raise ConfigurationError(
                    f"{name!r} is not a valid setting name",
                    hint="use the engine's setting name, e.g. work_mem",
                )
            if name.lower() in self.guarded_settings:
                raise ConfigurationError(
                    f"{name} is the workbench's to set, not a per-call setting: it bounds or "
                    "protects every statement",
                    hint="pass timeout= instead (seconds), e.g. s.query(sql, timeout=120) or "
                    "wb.connect(url, timeout=120)",
                )
            checked[name] = str(value)
        return checked

    # -- plans ------------------------------------------------------------------------------
    @abstractmethod
    def explain_command(self, sql: str, *, analyze: bool, write: bool) -> str:
        """The richest plan command this engine offers for ``sql``."""

    def explain_document(self, rows: list[tuple[Any, ...]]) -> Any:
        """The plan as the engine returned it: a JSON document (parsed) or text."""
        import json

        value = rows[0][0] if rows and rows[0] else None
        return json.loads(value) if isinstance(value, str | bytes) else value

    # -- introspection ----------------------------------------------------------------------
    @abstractmethod
    def server_info(self, dbapi: Any) -> ServerInfo:
        """Engine version."""

    @abstractmethod
    def settings(self, dbapi: Any, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Server settings as rows ``{name, value, unit, source, description}``.

        ``names`` limits the result; ``None`` returns what the engine considers settings.
        """

    @abstractmethod
    def table_info(self, dbapi: Any, table: str) -> TableInfo | None:
        """Columns, indexes, size and statistics of ``table`` (``schema.name`` allowed), or
        ``None`` when no such table exists."""

    @abstractmethod
    def list_tables(self, dbapi: Any) -> list[str]:
        """User tables, qualified where the engine has schemas beyond the default."""

    #: settings that matter for query performance, in evidence and reports
    performance_settings: ClassVar[tuple[str, ...]] = ()


def fetch_dicts(
    dbapi: Any, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Run an introspection query on a raw connection; rows as dicts."""
    cur = dbapi.cursor()
    try:
        if params is None:
            cur.execute(sql)
        else:
            cur.execute(sql, params)
        if cur.description is None:
            return []
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        cur.close()


def split_table_name(table: str) -> tuple[str | None, str]:
    """``"schema.table"`` → ``("schema", "table")``; quotes removed."""
    parts = [p.strip().strip('"`[]') for p in table.split(".")]
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return None, parts[0]


def version_tuple(text: str) -> tuple[int, ...]:
    """The leading dotted numbers of a version string (``"10.11.19-MariaDB"`` → (10, 11, 19))."""
    match = re.search(r"(\d+(?:\.\d+)*)", text)
    return tuple(int(p) for p in match.group(1).split(".")) if match else ()
