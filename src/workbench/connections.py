"""Dedicated connections for profiling: opened from a picklable recipe, configured once.

A profile does not borrow a pooled connection and wrap every execution in BEGIN ... ROLLBACK
with a SET LOCAL: that would add round trips to every sample. It opens its own connection in
autocommit mode and sets, once, what the guard sets per statement: a read-only session for
reads (the server refuses writes) and a statement timeout. Writes are wrapped in BEGIN and
ROLLBACK outside the timed region. The recipe crosses process boundaries, so worker
processes open identical connections. It carries the password, so it is never printed.

Connections die: a server restart, a network cut, MariaDB's ``wait_timeout``, a ``KILL``.
:meth:`ConnectionRecipe.lost` tells such a failure from a failed statement, :func:`reopen` waits
for the server to accept connections again, and :class:`WarmConnections` pings a kept
connection before handing it out.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LOCKED_HINT", "ConnectionRecipe", "DeadlineMonitor", "WarmConnections", "reopen"]

#: PyMySQL error numbers after which the connection is gone: server shutdown in progress (1053),
#: connection killed (MariaDB, 1927), server gone away (2006), lost during a query (2013, 2055),
#: disconnected for inactivity (MySQL 8, 4031)
_MYSQL_LOST = frozenset({1053, 1927, 2006, 2013, 2055, 4031})
#: PostgreSQL SQLSTATEs after which the server has ended the session: connection exceptions
#: (08), admin/crash shutdown, cannot connect now, idle session and idle transaction timeouts
_PG_LOST = ("08", "57P01", "57P02", "57P03", "57P05", "25P03")
#: what SQLite's "database is locked" leaves unsaid, in a recorded error
_LOCKED = "another connection holds a write lock on this SQLite file"
#: the hint for a profile whose executions met a SQLite lock
LOCKED_HINT = (
    "SQLite lets one connection write at a time: a transaction left open elsewhere (another "
    "notebook, a program, a connection of your app) held a write lock on the file; commit or "
    "close that connection and profile again, or let SQLite wait longer for it (?timeout=SECONDS "
    "in the URL)"
)


@dataclass
class ConnectionRecipe:
    """How to open and configure one profiling connection (picklable)."""

    driver: str  # "psycopg" | "pymysql" | "sqlite3" | "duckdb"
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    setup: tuple[str, ...] = ()
    read_only: bool = True
    timeout_s: float = 30.0

    def __repr__(self) -> str:  # the kwargs hold the password
        return f"ConnectionRecipe({self.driver}, read_only={self.read_only})"

    @classmethod
    def for_engine(
        cls, engine: Any, dialect: str, *, read_only: bool, timeout_s: float
    ) -> ConnectionRecipe:
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        kwargs = {k: v for k, v in kwargs.items() if k != "context"}  # psycopg adapters: local
        driver = {
            "postgresql": "psycopg",
            "mysql": "pymysql",
            "mariadb": "pymysql",
            "sqlite": "sqlite3",
            "duckdb": "duckdb",
        }[dialect]
        return cls(
            driver, tuple(args), kwargs, _setup(dialect, read_only, timeout_s), read_only, timeout_s
        )

    def open(self) -> Any:
        """A configured driver connection in autocommit mode."""
        conn: Any
        if self.driver == "psycopg":
            import psycopg

            conn = psycopg.connect(*self.args, autocommit=True, **self.kwargs)
        elif self.driver == "pymysql":
            import pymysql

            conn = pymysql.connect(*self.args, autocommit=True, **self.kwargs)
        elif self.driver == "sqlite3":
            import sqlite3

            kwargs = dict(self.kwargs)
            kwargs["check_same_thread"] = False
            conn = sqlite3.connect(*self.args, isolation_level=None, **kwargs)  # type: ignore[call-overload]
        else:
            import duckdb

            kwargs = {k: v for k, v in self.kwargs.items() if k in ("database", "read_only")}
            conn = duckdb.connect(**kwargs)
        cur = conn.cursor()
        try:
            for statement in self.setup:
                cur.execute(statement)
        finally:
            cur.close()
        return conn

    def lost(self, conn: Any, exc: BaseException) -> bool:
        """Whether ``exc`` (raised by an execution on ``conn``) means the connection itself is
        gone, not just the statement."""
        if _closed(conn):
            return True
        if self.driver == "psycopg":
            sqlstate = getattr(exc, "sqlstate", None)
            if sqlstate is None:  # libpq's own failures: the socket, the protocol
                return type(exc).__name__ in ("OperationalError", "InterfaceError")
            return str(sqlstate).startswith(_PG_LOST)
        if self.driver == "pymysql":
            code = exc.args[0] if exc.args else None
            return isinstance(code, int) and code in _MYSQL_LOST
        return False

    def alive(self, conn: Any) -> bool:
        """A cheap round trip: can ``conn`` still run a statement?"""
        if _closed(conn):
            return False
        try:
            if self.driver == "pymysql":
                conn.ping(reconnect=False)
            else:
                cur = conn.cursor()
                try:
                    cur.execute("SELECT 1")
                    cur.fetchall()
                finally:
                    cur.close()
        except Exception:
            return False
        return True

    def annotate(self, exc: BaseException, text: str) -> tuple[str, str | None]:
        """``text`` (a failure as recorded) with what the driver leaves unsaid, and a hint for
        the profile's notes (``None``: nothing to add)."""
        if self.driver == "sqlite3" and "database is locked" in str(exc):
            return f"{text}: {_LOCKED}", LOCKED_HINT
        return text, None

    @property
    def begin(self) -> str:
        return "BEGIN TRANSACTION" if self.driver == "duckdb" else "BEGIN"

    @property
    def prepare(self) -> bool:
        """psycopg prepares statements server-side on request; the others cache them."""
        return self.driver == "psycopg"


def _setup(dialect: str, read_only: bool, timeout_s: float) -> tuple[str, ...]:
    ms = max(1, round(timeout_s * 1000))
    if dialect == "postgresql":
        out = [f"SET statement_timeout = {ms}"]
        if read_only:
            out.append("SET default_transaction_read_only = on")
        return tuple(out)
    if dialect == "mariadb":
        out = [f"SET SESSION max_statement_time = {timeout_s:.3f}"]
        return tuple(out + (["SET SESSION TRANSACTION READ ONLY"] if read_only else []))
    if dialect == "mysql":
        out = [f"SET SESSION max_execution_time = {ms}"]
        return tuple(out + (["SET SESSION TRANSACTION READ ONLY"] if read_only else []))
    if dialect == "sqlite":
        return ("PRAGMA query_only = ON",) if read_only else ()
    return ()


class DeadlineMonitor:
    """Statement timeouts for engines without one (SQLite, DuckDB): each worker arms its slot
    before an execution; a background thread interrupts connections past their deadline."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_ns = int(timeout_s * 1e9)
        self._slots: dict[int, tuple[Any, list[int]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._lock = threading.Lock()

    def register(self, conn: Any) -> tuple[Any, Any]:
        """``(arm, disarm)`` for this connection: call them right before and after each
        execution."""
        slot = [0]
        with self._lock:
            self._slots[id(conn)] = (conn, slot)
        timeout = self.timeout_ns
        clock = time.perf_counter_ns

        def arm() -> None:
            slot[0] = clock() + timeout

        def disarm() -> None:
            slot[0] = 0

        return arm, disarm

    def start(self) -> DeadlineMonitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _watch(self) -> None:
        step = min(0.05, self.timeout_ns / 4e9)
        while not self._stop.wait(step):
            now = time.perf_counter_ns()
            with self._lock:
                slots = list(self._slots.values())
            for conn, slot in slots:
                if slot[0] and now > slot[0]:
                    slot[0] = 0
                    # already finished or closed: nothing to stop
                    with contextlib.suppress(Exception):
                        conn.interrupt()


def reopen(
    opener: Callable[[], Any], *, window_s: float, give_up: Callable[[], bool] | None = None
) -> tuple[Any, str]:
    """``(connection, "")`` from ``opener()``, tried again for up to ``window_s`` seconds (a
    restarting server refuses connections for a moment); ``(None, reason)`` when it never
    succeeded or ``give_up()`` turned true."""
    limit = time.monotonic() + window_s
    delay = 0.05
    while True:
        try:
            return opener(), ""
        except Exception as exc:  # any failure to connect is worth another try
            reason = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]
        if time.monotonic() + delay > limit or (give_up is not None and give_up()):
            return None, reason
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def _closed(conn: Any) -> bool:
    """Known dead without a round trip: the driver saw it go."""
    closed = getattr(conn, "closed", False)  # psycopg: a bool (sqlite3/duckdb have none)
    return (
        getattr(conn, "broken", False) is True  # psycopg
        or (isinstance(closed, bool) and closed)
        or getattr(conn, "open", True) is False  # PyMySQL
    )


class WarmConnections:
    """A session's profiling connection, kept between profiles (in one process).

    A new connection starts with cold caches (PostgreSQL's catalog and plan caches, psycopg's
    prepared statements): the first profile after it would measure the warming. Like an app's
    connection pool, the session keeps its profiling connection and hands it out again, once
    a ping showed it still works: a server restart or an idle timeout (MariaDB's
    ``wait_timeout``) ends connections without telling the client. One connection per
    configuration is kept: load runs open their own and close them when they end.
    """

    def __init__(self) -> None:
        self._idle: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def acquire(self, recipe: ConnectionRecipe) -> _Lease:
        key = (recipe.driver, recipe.setup, recipe.read_only, recipe.timeout_s)
        with self._lock:
            conn = self._idle.pop(key, None)
        if conn is not None and not recipe.alive(conn):
            _close_quietly(conn)
            conn = None
        return _Lease(self, key, conn if conn is not None else recipe.open())

    def release(self, key: tuple[Any, ...], conn: Any) -> None:
        if _closed(conn):
            _close_quietly(conn)
            return
        with self._lock:
            kept = self._idle.get(key)
            if kept is None:
                self._idle[key] = conn
        if kept is not None:  # two profiles at once: keep one warm connection, not two
            _close_quietly(conn)

    def close(self) -> None:
        with self._lock:
            conns = list(self._idle.values())
            self._idle.clear()
        for conn in conns:
            _close_quietly(conn)


def _close_quietly(conn: Any) -> None:
    # closing a broken connection can fail: it is gone either way
    with contextlib.suppress(Exception):
        conn.close()


class _Lease:
    """A pooled connection; ``close()`` gives it back (a broken one is dropped)."""

    def __init__(self, pool: WarmConnections, key: tuple[Any, ...], conn: Any) -> None:
        self._pool, self._key, self.conn = pool, key, conn

    def cursor(self) -> Any:
        return self.conn.cursor()

    def interrupt(self) -> None:
        self.conn.interrupt()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def close(self) -> None:
        self._pool.release(self._key, self.conn)
