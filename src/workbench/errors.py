"""Every error the workbench raises, in one tree.

::

    WorkbenchError
    ├── UnsafeStatementError      the guard refused a statement (several statements, a write
    │                             without allow_writes=True, something rollback cannot undo)
    ├── QueryError                the database rejected or failed the statement
    │   └── QueryTimeoutError     the statement ran past its timeout and was cancelled
    │       └── LockTimeoutError  it waited too long for a lock another session holds
    ├── ConnectionFailedError     the database cannot be reached (also a builtin ConnectionError)
    ├── PlanParseError            a plan text or document could not be read (also a ValueError)
    ├── ArchitectError            the model API failed after its retries
    ├── EmbeddedServerError       the embedded PostgreSQL could not start
    └── ConfigurationError        a missing extra, a bad option, a file that is not a persona

    QueryCancelled (a KeyboardInterrupt)  Ctrl-C, the kernel's stop button or a Stop button
                                          cancelled the statement on the server

Third-party errors (drivers, SQLAlchemy, the Anthropic SDK) are translated at the boundary, so a
notebook can ``except wb.WorkbenchError`` and every message says what to do next. Messages never
contain a password or a parameter's value: they are built from masked URLs and scrubbed driver
text, and the driver's own exception is not chained (it may quote the values).

In IPython and Jupyter, these errors show as their message and hint, not as a traceback through
the workbench's internals (set ``WORKBENCH_TRACEBACKS=1`` to see those).
"""

from __future__ import annotations

import os

# `typing` costs ~10 ms at import and every `import workbench` loads this module: annotations
# are strings here, so the names are only needed by type checkers
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = [
    "ArchitectError",
    "ConfigurationError",
    "ConnectionFailedError",
    "EmbeddedServerError",
    "LockTimeoutError",
    "PlanParseError",
    "QueryCancelled",
    "QueryError",
    "QueryTimeoutError",
    "UnsafeStatementError",
    "WorkbenchError",
    "WorkbenchWarning",
    "warn",
]


class WorkbenchError(Exception):
    """Base class of every error the workbench raises.

    ``hint`` says what to do next; it is part of ``str(err)`` so a notebook traceback shows it.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message}\n→ {hint}")

    @property
    def _render_traceback_(self) -> Callable[[], list[str]]:
        """What IPython shows instead of a traceback: the error's name, message and hint."""
        return _short_traceback(self, self.message, self.hint)

    def redact(self, scrub: Callable[[str], str]) -> WorkbenchError:
        """Pass every text of the error through ``scrub`` (secrets, parameter values out)."""
        self.message = scrub(self.message)
        if self.hint:
            self.hint = scrub(self.hint)
        self.args = (self.message if not self.hint else f"{self.message}\n→ {self.hint}",)
        return self


class UnsafeStatementError(WorkbenchError):
    """The safety guard refused to run a statement; nothing was sent to the database.

    ``kind`` is the statement's class ("read", "write", "ddl", "other", "multiple").
    """

    def __init__(self, message: str, *, hint: str | None = None, kind: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.kind = kind


class QueryError(WorkbenchError):
    """The database failed a statement.

    ``engine_message`` is the engine's own text, ``sqlstate`` its error code when it has one,
    ``position`` the 1-based character offset the engine pointed at (PostgreSQL does).
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        engine_message: str | None = None,
        sqlstate: str | None = None,
        position: int | None = None,
        sql: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.engine_message = engine_message
        self.sqlstate = sqlstate
        self.position = position
        self.sql = sql

    def redact(self, scrub: Callable[[str], str]) -> WorkbenchError:
        if self.engine_message:
            self.engine_message = scrub(self.engine_message)
        return super().redact(scrub)


class QueryTimeoutError(QueryError, TimeoutError):
    """A statement ran longer than the session's timeout; it was cancelled on the server."""


class LockTimeoutError(QueryTimeoutError):
    """A statement waited longer than its lock timeout for a lock another session holds.

    ``blockers`` describes the sessions that held locks on the statement's tables, where the
    engine tells (PostgreSQL: ``pg_locks``; MariaDB/MySQL: open InnoDB transactions).
    """

    def __init__(self, message: str, *, blockers: list[str] | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.blockers = list(blockers or [])


class QueryCancelled(KeyboardInterrupt):
    """The running statement was cancelled on the server (Ctrl-C, the kernel's stop button, a
    Stop button); the session is still usable. A ``KeyboardInterrupt``, so code that stops on
    Ctrl-C still does."""

    def __init__(self, message: str = "cancelled on the server; the session is still usable"):
        super().__init__(message)
        self.message = message

    @property
    def _render_traceback_(self) -> Callable[[], list[str]]:
        return _short_traceback(self, self.message, None)


class ConnectionFailedError(WorkbenchError, ConnectionError):
    """The database could not be reached or the connection was lost."""


class PlanParseError(WorkbenchError, ValueError):
    """A plan (pasted text or an engine's document) could not be parsed."""


class ArchitectError(WorkbenchError):
    """The model API failed (after the SDK's retries); the evidence is saved on disk."""


class EmbeddedServerError(WorkbenchError):
    """The embedded PostgreSQL could not be started."""


class ConfigurationError(WorkbenchError):
    """An option, an extra or a file the workbench needs is missing or invalid."""


class WorkbenchWarning(UserWarning):
    """Something worked, differently from what was asked (e.g. the SQLite fallback)."""


def _short_traceback(
    error: BaseException, message: str, hint: str | None
) -> Callable[[], list[str]]:
    """IPython calls ``_render_traceback_()`` where it exists: with ``WORKBENCH_TRACEBACKS`` set,
    it does not exist (the attribute raises), and IPython shows its full traceback."""
    if os.environ.get("WORKBENCH_TRACEBACKS"):
        raise AttributeError("_render_traceback_")
    lines = [f"\x1b[31m{type(error).__name__}\x1b[0m: {message}"]
    if hint:
        lines.append(f"→ {hint}")
    return lambda: lines


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str) -> None:
    """A :class:`WorkbenchWarning` pointing at the first caller outside the workbench (the
    notebook cell), however deep in the package it was raised."""
    import sys
    import warnings

    level, frame = 2, sys._getframe(1)  # 2: the caller of warn()
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        level += 1
        frame = frame.f_back  # type: ignore[assignment]
    warnings.warn(message, WorkbenchWarning, stacklevel=level)
