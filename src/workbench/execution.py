"""Running statements safely: one transaction per call, a timeout, cancel, translated errors.

This is the one place that sends SQL written by a person to a database. It works on the
driver's own connection (checked out of the SQLAlchemy pool), so nothing sits between the driver
and the server while a statement runs, and it guarantees for every statement:

* the guard classified and authorized it (:mod:`workbench.guard`), and the dialect confirmed a
  rollback can undo it;
* it ran inside a transaction that is rolled back (read-only for reads);
* it had a timeout, enforced by the server or by a watchdog that cancels it;
* Ctrl-C (a kernel interrupt) cancels it on the server; the connection stays usable;
* a driver error came out as a :class:`~workbench.errors.WorkbenchError`, scrubbed of secrets.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from workbench import guard
from workbench.binding import Params, bind
from workbench.cancellation import (
    Watchdog,
    cancel_quietly,
    cancelled_after,
    check_timeout,
    lock_timeout_for,
    sigint_cancels,
)
from workbench.dialects.base import Dialect, RunState
from workbench.errors import (
    ConnectionFailedError,
    LockTimeoutError,
    QueryError,
    QueryTimeoutError,
    UnsafeStatementError,
    WorkbenchError,
    warn,
)
from workbench.guard import StatementInfo, StatementKind
from workbench.redaction import parameter_values, scrub_values

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Engine

    from workbench.catalog import ServerInfo
    from workbench.connections import WarmConnections

__all__ = ["Executor", "Params", "Result", "Transaction", "check_timeout"]

T = TypeVar("T")


@dataclass
class Result:
    """What one statement returned: column names, rows, and how long the driver took."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    rowcount: int
    elapsed_ms: float
    statement: StatementInfo
    sent_sql: str = ""
    notices: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame.from_records(self.rows, columns=self.columns)


class Executor:
    """Sends statements for one session: every probe (explain, profile, capture, fixes, the
    catalogue) takes one. It also owns what the probes share: the server's description and the
    warm profiling connections."""

    def __init__(
        self,
        engine: Engine,
        dialect: Dialect,
        *,
        timeout_s: float,
        scrub: Callable[[str], str],
    ) -> None:
        self.engine = engine
        self.dialect = dialect
        self.timeout_s = check_timeout(timeout_s)
        self.scrub = scrub
        # statement capture (workbench.capture) listens here: (sql, args, ms, rows, error)
        self.tracers: list[Callable[[str, Any, float, int | None, str | None], None]] = []
        self._warned_sequences: set[str] = set()
        # transactions running now, so another thread can cancel them (a widget's Stop)
        self._running: dict[int, tuple[Any, RunState]] = {}
        self._running_lock = threading.Lock()

    @property
    def timeout_s(self) -> float:
        """Seconds each statement may run (a positive, finite number)."""
        return self._timeout_s

    @timeout_s.setter
    def timeout_s(self, seconds: float) -> None:
        self._timeout_s = check_timeout(seconds)

    @cached_property
    def server(self) -> ServerInfo:
        """Engine name and version (``s.server.version``)."""
        return self.introspect(self.dialect.server_info)

    @cached_property
    def warm_connections(self) -> WarmConnections:
        """Profiling connections kept between profiles (warm caches, like an app's pool)."""
        from workbench.connections import WarmConnections

        return WarmConnections()

    @property
    def in_memory(self) -> bool:
        """An in-memory SQLite or DuckDB database: only the engine's own connection sees it."""
        database = self.engine.url.database
        return self.dialect.name in ("sqlite", "duckdb") and database in (None, "", ":memory:")

    def introspect(self, fn: Callable[[Any], T]) -> T:
        """Run catalogue queries (``fn(dbapi)``) inside a read-only, timed, rolled-back
        transaction."""
        with self.transaction(read_only=True) as tx:
            try:
                return fn(tx.dbapi)
            except Exception as exc:
                raise self.translate(exc, "(catalogue query)", tx.state) from exc

    @contextlib.contextmanager
    def sandbox(self, *, timeout: float | None = None) -> Iterator[Transaction]:
        """A transaction that is always rolled back, for trying DDL and re-explaining.

        >>> import workbench as wb
        >>> s = wb.connect("sqlite://")
        >>> with s.sandbox() as tx:
        ...     _ = tx.execute("CREATE TABLE t (id INTEGER)")
        ...     tx.execute("SELECT count(*) FROM t").rows
        [(0,)]
        >>> s.tables()
        []
        """
        with self.transaction(
            allow_writes=True,
            read_only=False,
            timeout_s=None if timeout is None else check_timeout(timeout),
        ) as tx:
            yield tx

    def close(self) -> None:
        """Close the warm profiling connections (the engine belongs to whoever created it)."""
        if "warm_connections" in self.__dict__:
            self.warm_connections.close()

    def cancel(self) -> int:
        """Cancel the statements this executor is running now, on the server, from another
        thread (a Stop button, a watchdog); each raises ``KeyboardInterrupt`` where it runs and
        the session stays usable. Profiles stop through their own ``stop`` callback. Returns how
        many transactions were cancelled.

        >>> threading.Timer(2, s.cancel).start(); s.query("SELECT pg_sleep(60)")  # doctest: +SKIP
        Traceback (most recent call last):
        KeyboardInterrupt
        """
        with self._running_lock:
            running = list(self._running.values())
        for dbapi, state in running:
            state.interrupted = True
            cancel_quietly(self.dialect, dbapi)
        return len(running)

    # -- connections --------------------------------------------------------------------------
    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        """A driver connection from the pool; invalidated (not reused) if it broke."""
        try:
            raw = self.engine.raw_connection()
        except Exception as exc:  # the driver's own error (raw_connection does not wrap it)
            raise self.connection_error(exc) from None
        broken = False
        try:
            yield raw.driver_connection
        except ConnectionFailedError:
            broken = True
            raise
        finally:
            if broken and self.engine.dialect.name not in ("sqlite", "duckdb"):
                raw.invalidate()  # the pool opens a fresh connection next time
            else:
                raw.close()

    def connection_error(self, exc: BaseException) -> ConnectionFailedError:
        from sqlalchemy.exc import TimeoutError as PoolTimeout

        if isinstance(exc, PoolTimeout):  # the pool waited pool_timeout for a free connection
            pool = self.engine.pool
            size = getattr(pool, "size", lambda: None)()
            overflow = getattr(pool, "_max_overflow", None)
            return ConnectionFailedError(
                f"every connection of the session's pool is in use ({size} + {overflow} "
                "overflow); none came free in time",
                hint="close what holds them (threads running statements, ORM sessions left "
                "open), or give the pool more: wb.connect(url, pool_size=20, max_overflow=20)",
            )
        orig = getattr(exc, "orig", None) or exc
        translated = self.dialect.translate(orig, "", RunState(self.timeout_s))
        message = translated.message if translated else str(orig)
        return ConnectionFailedError(
            self.scrub(message),
            hint="check that the server is running and the URL is right; the session will "
            "reconnect on the next call",
        )

    # -- statements ---------------------------------------------------------------------------
    def run(
        self,
        sql: str,
        params: Params = None,
        *,
        allow_writes: bool = False,
        settings: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
        info: StatementInfo | None = None,
        send: str | None = None,
        read_only: bool | None = None,
    ) -> Result:
        """Classify, authorize and run one statement in its own rolled-back transaction.

        ``send`` is the text actually sent when it differs from ``sql`` (an EXPLAIN wrapped
        around the person's statement); the guard judges ``info`` (classified from ``sql``).
        ``read_only`` defaults to "not a write, and writes not allowed" (a read that writes
        through a function fails in a read-only transaction and succeeds, rolled back, with
        ``allow_writes=True``).
        """
        info = info or self.classify(sql)
        if read_only is None:
            read_only = not (info.is_write or allow_writes)
        with self.transaction(
            allow_writes=allow_writes,
            read_only=read_only,
            settings=settings,
            timeout_s=timeout_s,
        ) as tx:
            return tx.execute(sql, params, info=info, send=send)

    def classify(self, sql: str) -> StatementInfo:
        return guard.classify(sql, self.dialect.name)

    def check_effects(
        self, info: StatementInfo, dbapi: Any, *, allow_writes: bool, read_only: bool
    ) -> None:
        """Refuse what the server's catalogue shows a rollback could not undo (a trigger that
        writes a MyISAM table, a function that calls ``dblink_exec``), require ``allow_writes``
        for a read that writes through a function, and warn once about sequences a write
        advances."""
        effects = self.dialect.effects(info, dbapi, read_only=read_only)
        if effects.refuse:
            raise UnsafeStatementError(
                effects.refuse,
                hint="run it on a disposable copy of the database, or through s.engine if "
                "you really mean to change the server",
                kind=info.kind.value,
            )
        if effects.writes and not allow_writes:
            raise UnsafeStatementError(
                f"{effects.writes}; nothing was run",
                hint="pass allow_writes=True to run it inside a transaction that is always "
                "rolled back",
                kind=StatementKind.WRITE.value,
            )
        fresh = [name for name in effects.sequences if name not in self._warned_sequences]
        if fresh:
            self._warned_sequences.update(fresh)
            warn(
                f"{info.operation} takes values from {', '.join(fresh)}: the rollback undoes "
                "the rows, not the sequence (those values are used up, leaving a gap)"
            )

    @contextlib.contextmanager
    def transaction(
        self,
        *,
        allow_writes: bool = False,
        read_only: bool = True,
        settings: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
        lock_timeout_s: float | None = None,
    ) -> Iterator[Transaction]:
        """A sandbox: several guarded statements in one transaction, always rolled back.

        >>> with executor.transaction(allow_writes=True, read_only=False) as tx:  # doctest: +SKIP
        ...     tx.execute("CREATE INDEX ON orders (user_id)")
        ...     tx.execute("EXPLAIN SELECT * FROM orders WHERE user_id = 7")
        """
        checked = self.dialect.validate_settings(settings)
        timeout = self.timeout_s if timeout_s is None else check_timeout(timeout_s)
        lock_timeout = (
            lock_timeout_for(timeout) if lock_timeout_s is None else check_timeout(lock_timeout_s)
        )
        state = RunState(timeout, min(lock_timeout, timeout))
        with self.connection() as dbapi, sigint_cancels(self.dialect, dbapi, state):
            try:
                self.dialect.begin(
                    dbapi,
                    read_only=read_only,
                    timeout_s=state.timeout_s,
                    settings=checked,
                    state=state,
                )
            except Exception as exc:
                self._end_quietly(dbapi, state)
                raise self.translate(exc, "", state) from None
            tx = Transaction(self, dbapi, state, allow_writes=allow_writes, read_only=read_only)
            key = id(state)
            with self._running_lock:
                self._running[key] = (dbapi, state)
            try:
                yield tx
            finally:
                with self._running_lock:
                    self._running.pop(key, None)
                self._end(dbapi, state)

    def _end(self, dbapi: Any, state: RunState) -> None:
        try:
            self.dialect.end(dbapi, state)
        except Exception as exc:  # rollback failed: the connection is gone
            raise self.translate(exc, "", state) from None

    def _end_quietly(self, dbapi: Any, state: RunState) -> None:
        with contextlib.suppress(Exception):
            self.dialect.end(dbapi, state)

    def translate(self, exc: BaseException, sql: str, state: RunState) -> WorkbenchError:
        """A driver exception as a scrubbed :class:`WorkbenchError`."""
        if isinstance(exc, WorkbenchError):
            return exc.redact(self.scrub)
        error = self.dialect.translate(exc, sql, state)
        if error is None:
            error = QueryError(
                f"{type(exc).__name__}: {exc}",
                hint="this error came from outside the database driver; see the traceback",
                sql=sql,
            )
        return error.redact(self.scrub)

    # -- parameters -----------------------------------------------------------------------------
    def bind(self, sql: str, params: Params) -> tuple[str, Any]:
        """The statement text and arguments in the driver's own paramstyle (see
        :func:`workbench.binding.bind`)."""
        return bind(self.engine.dialect, sql, params)


class Transaction:
    """The handle :meth:`Executor.transaction` yields; each :meth:`execute` is guarded."""

    def __init__(
        self,
        executor: Executor,
        dbapi: Any,
        state: RunState,
        *,
        allow_writes: bool,
        read_only: bool = False,
    ) -> None:
        self.executor = executor
        self.dbapi = dbapi
        self.state = state
        self.allow_writes = allow_writes
        self.read_only = read_only
        #: why nothing more may run here (the transaction was ended under the caller's feet)
        self.ended: str | None = None

    def execute(
        self,
        sql: str,
        params: Params = None,
        *,
        info: StatementInfo | None = None,
        send: str | None = None,
        fetch: bool = True,
    ) -> Result:
        executor = self.executor
        dialect = executor.dialect
        info = info or executor.classify(sql)
        guard.authorize(
            info, allow_writes=self.allow_writes, read_only_enforced=dialect.read_only_enforced
        )
        executor.check_effects(
            info, self.dbapi, allow_writes=self.allow_writes, read_only=self.read_only
        )
        text = send if send is not None else info.sql
        statement, args = executor.bind(text, params)
        return self._send(statement, args, text, info, fetch=fetch)

    def execute_internal(self, sql: str, args: Any = None) -> Result:
        """Run a statement the workbench wrote itself (PREPARE, SET LOCAL, ...) in this
        transaction: no guard (the person's statement inside it was authorized), the same
        timeout, cancel and error translation."""
        info = StatementInfo(sql=sql, kind=StatementKind.READ, operation="(internal)")
        return self._send(sql, args, sql, info, fetch=True)

    def _send(
        self, statement: str, args: Any, text: str, info: StatementInfo, *, fetch: bool
    ) -> Result:
        executor = self.executor
        dialect = executor.dialect
        if self.ended:
            # after the rollback, the next statement would start a new transaction without the
            # sandbox's timeouts and read-only setting: nothing more runs here
            raise QueryError(
                f"nothing more runs in this transaction: {self.ended}",
                hint="open a new one (s.sandbox()) and try again once the lock is free",
                sql=text,
            )
        watchdog = (
            None if dialect.server_side_timeout else Watchdog(dialect, self.dbapi, self.state)
        )
        cur = self.dbapi.cursor()
        started = time.perf_counter()
        try:
            if watchdog:
                watchdog.start()
            if args is None:
                cur.execute(statement)
            else:
                cur.execute(statement, args)
            description = cur.description
            rows = [tuple(r) for r in cur.fetchall()] if (fetch and description) else []
            elapsed = (time.perf_counter() - started) * 1000.0
            rowcount = cur.rowcount if cur.rowcount is not None else -1
        except Exception as exc:
            if self.state.interrupted:
                raise cancelled_after(started) from None
            error = _without_values(executor.translate(exc, text, self.state), args)
            for tracer in executor.tracers:
                tracer(
                    statement, args, (time.perf_counter() - started) * 1000.0, None, error.message
                )
            if isinstance(error, LockTimeoutError):
                self._name_blockers(error, info)
            # not chained: the driver's exception may quote the parameters' values
            raise error from None
        finally:
            if watchdog:
                watchdog.cancel()
            with contextlib.suppress(Exception):
                cur.close()
        for tracer in executor.tracers:
            tracer(statement, args, elapsed, len(rows) if description else rowcount, None)
        if self.state.interrupted:
            raise cancelled_after(started)
        if dialect.silent_timeouts and elapsed >= self.state.timeout_s * 1000.0:
            self.state.timed_out = True
        if self.state.timed_out:
            # MySQL's KILL QUERY can end SLEEP() "successfully": the deadline passed all the same
            raise executor.translate(
                QueryTimeoutError(
                    f"the statement ran longer than its timeout ({self.state.timeout_s:g} s) "
                    "and was stopped",
                    hint="make it faster, or allow more time: wb.connect(url, timeout=120)",
                    sql=text,
                ),
                text,
                self.state,
            )
        columns = [str(d[0]) for d in description] if description else []
        return Result(columns, rows, rowcount, elapsed, info, sent_sql=statement)

    def _name_blockers(self, error: LockTimeoutError, info: StatementInfo) -> None:
        # naming the holders takes a rollback (PostgreSQL accepts no query in a failed
        # transaction; MySQL's lock wait leaves it half done): the transaction ends here
        self.ended = "a lock timeout ended it, and what ran in it was rolled back"
        with contextlib.suppress(Exception):  # best effort: the error stands without names
            error.blockers = self.executor.dialect.describe_blockers(self.dbapi, info)
        if error.blockers:
            shown = "; ".join(error.blockers[:3])
            error.message += f" (held by {shown})"
            error.args = (f"{error.message}\n→ {error.hint}",)


def _without_values(error: WorkbenchError, args: Any) -> WorkbenchError:
    """The error with the statement's parameter values taken out of its messages (an engine
    quotes them: MariaDB's "Incorrect integer value: '...'")."""
    values = parameter_values(args)
    return error.redact(lambda text: scrub_values(text, values)) if values else error
