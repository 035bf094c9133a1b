"""The timed loop: the only code between the two clock reads is the driver's execute and fetch.

It runs in the notebook's process, in worker processes and in worker threads, so it imports
nothing but the standard library. Samples go into ``array.array`` buffers (8 bytes each, no
Python object per execution), so a million executions cost tens of megabytes, not hundreds.
"""

from __future__ import annotations

import functools
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LoopResult", "describe_error", "run_loop"]

_STOP_CHECK_EVERY = 64  # executions between checks of the stop flag and the progress callback
_SLOW_NS = 20_000_000  # after an execution this slow (or an error), check at once


@dataclass
class LoopResult:
    """Raw samples of one connection's run. Times are ``perf_counter_ns`` (CLOCK_MONOTONIC on
    Linux: comparable across processes)."""

    starts: array[int] = field(default_factory=lambda: array("q"))
    latencies: array[int] = field(default_factory=lambda: array("q"))
    rows: array[int] = field(default_factory=lambda: array("l"))
    errors: array[int] = field(default_factory=lambda: array("h"))
    messages: list[str] = field(default_factory=list)  # distinct error texts; errors[i] indexes
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)  # what the reader should know about the run
    lost: str = ""  # why the run ended without a connection (lost, or none could be opened)

    def to_payload(self) -> dict[str, Any]:
        """Bytes and lists only: cheap to send through a pipe."""
        return {
            "starts": self.starts.tobytes(),
            "latencies": self.latencies.tobytes(),
            "rows": self.rows.tobytes(),
            "errors": self.errors.tobytes(),
            "messages": self.messages,
            "interrupted": self.interrupted,
            "notes": self.notes,
            "lost": self.lost,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> LoopResult:
        out = cls(
            messages=list(data["messages"]),
            interrupted=bool(data["interrupted"]),
            notes=list(data.get("notes", [])),
            lost=str(data.get("lost", "")),
        )
        out.starts.frombytes(data["starts"])
        out.latencies.frombytes(data["latencies"])
        out.rows.frombytes(data["rows"])
        out.errors.frombytes(data["errors"])
        return out


def run_loop(
    cursor: Any,
    statement: str,
    args: Sequence[Any] | None,
    *,
    runs: int | None,
    deadline_ns: int | None,
    prepare: bool = False,
    fetch_rows: bool = True,
    before: Callable[[], None] | None = None,
    after: Callable[[], None] | None = None,
    arm: Callable[[], None] | None = None,
    on_error: Callable[[BaseException], tuple[str, bool]] | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[int], None] | None = None,
    result: LoopResult | None = None,
) -> LoopResult:
    """Execute ``statement`` ``runs`` times (or until ``deadline_ns``), timing each execute+fetch.

    ``args`` holds one driver-ready argument set per execution, used in turn (``None``: the
    statement takes none). ``before``/``after`` run outside the timing (BEGIN/ROLLBACK around a
    write); ``arm`` resets a per-statement deadline (SQLite, DuckDB). ``on_error(exc)`` returns
    the text to record for a failed execution and whether the loop can go on (a broken
    connection cannot; default: :func:`describe_error`'s text, and go on). ``should_stop`` is
    polled every few executions (Ctrl-C, a widget's stop button).
    """
    out = result or LoopResult()
    clock = time.perf_counter_ns
    # psycopg prepares server-side on request; other drivers cache statements themselves
    execute = functools.partial(cursor.execute, prepare=True) if prepare else cursor.execute
    fetch = cursor.fetchall
    starts, latencies, rows, errors = out.starts, out.latencies, out.rows, out.errors
    messages: dict[str, int] = {m: i for i, m in enumerate(out.messages)}
    judge = on_error or _go_on
    fetched: Any = ()
    n_args = len(args) if args else 0
    i = 0
    check_now = False
    try:
        while True:
            if runs is not None and i >= runs:
                break
            if check_now or i % _STOP_CHECK_EVERY == 0:
                check_now = False
                if deadline_ns is not None and clock() >= deadline_ns:
                    break
                if should_stop is not None and should_stop():
                    out.interrupted = True
                    break
                if progress is not None and i:
                    progress(i)
            if before is not None:
                try:
                    before()
                except Exception as exc:  # no BEGIN, no execution: a write must not autocommit
                    t0 = clock()
                    text, go_on = judge(exc)
                    _append(starts, latencies, rows, errors, t0, t0, 0, _index(text, messages, out))
                    if after is not None:
                        after()
                    if not go_on:
                        break
                    i += 1
                    check_now = True
                    continue
            if arm is not None:
                arm()
            error = -1
            go_on = True
            # --- timed: the driver's execute and fetch, nothing else -------------------------
            if n_args:
                argument = args[i % n_args]  # type: ignore[index]
                t0 = clock()
                try:
                    execute(statement, argument)
                    if fetch_rows:
                        fetched = fetch()
                except Exception as exc:
                    t1 = clock()
                    text, go_on = judge(exc)
                    error = _index(text, messages, out)
                else:
                    t1 = clock()
            else:
                t0 = clock()
                try:
                    execute(statement)
                    if fetch_rows:
                        fetched = fetch()
                except Exception as exc:
                    t1 = clock()
                    text, go_on = judge(exc)
                    error = _index(text, messages, out)
                else:
                    t1 = clock()
            # --------------------------------------------------------------------------------
            elapsed = t1 - t0
            starts.append(t0)
            latencies.append(elapsed)
            rows.append(len(fetched) if error < 0 and fetch_rows else 0)
            errors.append(error)
            if after is not None:
                after()  # a failed write's transaction is rolled back too, even when it stops
            i += 1
            if elapsed > _SLOW_NS or error >= 0:  # a Stop must not wait 64 slow executions
                if not go_on:
                    break
                check_now = True
    except KeyboardInterrupt:
        out.interrupted = True
    if progress is not None:
        progress(i)
    return out


def describe_error(exc: BaseException) -> str:
    """The text recorded for a failed execution: the driver's class and message, on one line."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]


def _go_on(exc: BaseException) -> tuple[str, bool]:
    return describe_error(exc), True


def _index(text: str, messages: dict[str, int], out: LoopResult) -> int:
    index = messages.get(text)
    if index is None:
        index = messages[text] = len(out.messages)
        out.messages.append(text)
    return index


def _append(
    starts: array[int],
    latencies: array[int],
    rows: array[int],
    errors: array[int],
    t0: int,
    t1: int,
    count: int,
    error: int,
) -> None:
    starts.append(t0)
    latencies.append(t1 - t0)
    rows.append(count)
    errors.append(error)
