"""Dedicated connections for profiling: opened from a picklable recipe, configured once.

A profile does not borrow a pooled connection and wrap every execution in BEGIN ... ROLLBACK
with a SET LOCAL: that would add round trips to every sample. It opens its own connection in
autocommit mode and sets, once, what the guard sets per statement: a read-only session for
reads (the server refuses writes) and a statement timeout. Writes are wrapped in BEGIN and
ROLLBACK outside the timed region. The recipe crosses process boundaries, so worker
processes open identical connections. It carries the password, so it is never printed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ConnectionRecipe", "DeadlineMonitor", "WarmConnections"]


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


class WarmConnections:
    """A session's profiling connections, kept between profiles (in one process).

    A new connection starts with cold caches (PostgreSQL's catalog and plan caches, psycopg's
    prepared statements): the first profile after it would measure the warming. Like an app's
    connection pool, the session keeps its profiling connections and hands them out again.
    """

    def __init__(self) -> None:
        self._idle: dict[tuple[Any, ...], list[Any]] = {}
        self._lock = threading.Lock()

    def acquire(self, recipe: ConnectionRecipe) -> _Lease:
        key = (recipe.driver, recipe.setup, recipe.read_only, recipe.timeout_s)
        with self._lock:
            idle = self._idle.setdefault(key, [])
            conn = idle.pop() if idle else None
        return _Lease(self, key, conn if conn is not None else recipe.open())

    def release(self, key: tuple[Any, ...], conn: Any) -> None:
        if getattr(conn, "broken", False) or getattr(conn, "closed", False) is True:
            with contextlib.suppress(Exception):
                conn.close()
            return
        with self._lock:
            self._idle.setdefault(key, []).append(conn)

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
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
