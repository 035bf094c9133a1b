"""Stopping a statement on the server: at its deadline (engines without a server-side
timeout), on Ctrl-C or a kernel interrupt, or from another thread (a Stop button).

Cancelling on the server, instead of tearing the driver's socket mid-message, leaves the
connection usable: the statement ends with the engine's "cancelled" error and the transaction
rolls back as usual.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from workbench.dialects.base import Dialect, RunState

__all__ = ["Watchdog", "cancel_quietly", "sigint_cancels"]


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
