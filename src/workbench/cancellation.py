"""Bounding and stopping a statement: its timeout and lock timeout (checked before anything
runs), and cancelling it on the server at its deadline (engines without a server-side
timeout), on Ctrl-C or a kernel interrupt, or from another thread (a Stop button).

Cancelling on the server, instead of tearing the driver's socket mid-message, leaves the
connection usable: the statement ends with the engine's "cancelled" error and the transaction
rolls back as usual.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

from workbench.dialects.base import Dialect, RunState
from workbench.errors import ConfigurationError, QueryCancelled

__all__ = [
    "LOCK_TIMEOUT_S",
    "Watchdog",
    "cancel_quietly",
    "cancelled_after",
    "check_timeout",
    "lock_timeout_for",
    "sigint_cancels",
]


#: a statement waits at most this long for a lock (and never longer than most of its timeout),
#: so a lock wait ends as a lock wait that names who holds the lock, not as a timeout
LOCK_TIMEOUT_S = 10.0


def lock_timeout_for(timeout_s: float) -> float:
    """How long a statement with ``timeout_s`` may wait for a lock."""
    return min(LOCK_TIMEOUT_S, 0.8 * timeout_s)


def check_timeout(timeout: float) -> float:
    """``timeout`` as seconds, or a :class:`ConfigurationError` before anything runs."""
    if (
        not isinstance(timeout, int | float)
        or isinstance(timeout, bool)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ConfigurationError(
            f"timeout must be a positive number of seconds, not {timeout!r}",
            hint="every statement needs a timeout; e.g. timeout=30",
        )
    return float(timeout)


def cancelled_after(started: float) -> QueryCancelled:
    """The error a cancelled statement ends with, saying how long it had run."""
    seconds = time.perf_counter() - started
    return QueryCancelled(f"cancelled on the server after {seconds:.1f} s; the session is usable")


class Watchdog:
    """Cancels the statement at its deadline, for engines with no server-side timeout."""

    def __init__(self, dialect: Dialect, dbapi: Any, state: RunState) -> None:
        self._timer = threading.Timer(state.timeout_s, self._fire)
        self._timer.daemon = True
        self._dialect, self._dbapi, self._state = dialect, dbapi, state

    def _fire(self) -> None:
        self._state.timed_out = True
        with contextlib.suppress(Exception):
            self._dialect.cancel(self._dbapi)

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()


@contextlib.contextmanager
def sigint_cancels(dialect: Dialect, dbapi: Any, state: RunState) -> Iterator[None]:
    """While a statement runs in the main thread, Ctrl-C (or a kernel interrupt) cancels it on
    the server instead of tearing the driver's socket mid-message; a second Ctrl-C gives up
    waiting and raises at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum: int, frame: Any) -> None:
        if state.interrupted:
            raise KeyboardInterrupt
        state.interrupted = True
        threading.Thread(target=cancel_quietly, args=(dialect, dbapi), daemon=True).start()

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main interpreter thread after all
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def cancel_quietly(dialect: Dialect, dbapi: Any) -> None:
    with contextlib.suppress(Exception):
        dialect.cancel(dbapi)
