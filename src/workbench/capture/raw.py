"""The DB-API cursors of raw connections app code takes from the engine inside a capture
(``s.engine.raw_connection()``, as pandas and hand-written DB-API code use): they raise no
SQLAlchemy event, so their cursors report what they execute themselves."""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol

from workbench.capture.callsite import call_site

__all__ = ["traced_raw_connection"]


class Recorder(Protocol):
    """What the cursors report to (a :class:`~workbench.capture.Capture`)."""

    stack: bool
    _listening: bool

    def _add(
        self,
        statement: str,
        parameters: Any,
        start: int,
        end: int,
        rows: Any,
        site: str | None,
        source: str,
        *,
        error: str | None = None,
        relationship: str | None = None,
    ) -> None: ...


def traced_raw_connection(original: Any, capture: Recorder) -> Any:
    """``engine.raw_connection()`` during a capture: the same pooled connection, its cursors
    recording what they execute. SQLAlchemy's own connections and the workbench's come through
    here too; they are left alone (their statements are recorded by the engine's events and the
    executor's tracer)."""
    connection = original()
    caller = sys._getframe(1).f_globals.get("__name__", "")
    if caller.startswith(("sqlalchemy.", "workbench.")):
        return connection
    make_cursor = connection.cursor
    connection.cursor = lambda *a, **k: _TracedCursor(make_cursor(*a, **k), capture)
    return connection


class _TracedCursor:
    """A DB-API cursor that tells the capture what it ran; everything else is the cursor's."""

    def __init__(self, cursor: Any, capture: Recorder) -> None:
        self._cursor, self._capture = cursor, capture

    def execute(self, statement: str, *args: Any, **kwargs: Any) -> Any:
        return self._timed(self._cursor.execute, statement, args, kwargs)

    def executemany(self, statement: str, *args: Any, **kwargs: Any) -> Any:
        return self._timed(self._cursor.executemany, statement, args, kwargs)

    def _timed(self, method: Any, statement: str, args: Any, kwargs: Any) -> Any:
        if not self._capture._listening:  # a connection kept after the block: not recorded
            return method(statement, *args, **kwargs)
        site = call_site() if self._capture.stack else None
        started = time.perf_counter_ns()
        parameters = args[0] if args else kwargs.get("params", kwargs.get("parameters"))
        try:
            result = method(statement, *args, **kwargs)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
            self._capture._add(
                statement,
                parameters,
                started,
                time.perf_counter_ns(),
                None,
                site,
                "raw",
                error=error,
            )
            raise
        rows = getattr(self._cursor, "rowcount", None)
        self._capture._add(
            statement, parameters, started, time.perf_counter_ns(), rows, site, "raw"
        )
        return self if result is self._cursor else result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __iter__(self) -> Any:
        return iter(self._cursor)

    def __enter__(self) -> _TracedCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cursor.close()
