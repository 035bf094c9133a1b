"""Every error the workbench raises, in one tree.

::

    WorkbenchError
    ├── UnsafeStatementError      the guard refused a statement (several statements, a write
    │                             without allow_writes=True, something rollback cannot undo)
    ├── QueryError                the database rejected or failed the statement
    │   └── QueryTimeoutError     the statement ran past its timeout and was cancelled
    ├── ConnectionFailedError     the database cannot be reached (also a builtin ConnectionError)
    ├── PlanParseError            a plan text or document could not be read (also a ValueError)
    ├── ArchitectError            the model API failed after its retries
    ├── EmbeddedServerError       the embedded PostgreSQL could not start
    └── ConfigurationError        a missing extra, a bad option, a file that is not a persona

Third-party errors (drivers, SQLAlchemy, the Anthropic SDK) are translated at the boundary, so a
notebook can ``except wb.WorkbenchError`` and every message says what to do next. Messages never
contain a password: they are built from masked URLs and scrubbed driver text.
"""

from __future__ import annotations

__all__ = [
    "ArchitectError",
    "ConfigurationError",
    "ConnectionFailedError",
    "EmbeddedServerError",
    "PlanParseError",
    "QueryError",
    "QueryTimeoutError",
    "UnsafeStatementError",
    "WorkbenchError",
    "WorkbenchWarning",
]


class WorkbenchError(Exception):
    """Base class of every error the workbench raises.

    ``hint`` says what to do next; it is part of ``str(err)`` so a notebook traceback shows it.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message}\n→ {hint}")


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


class QueryTimeoutError(QueryError, TimeoutError):
    """A statement ran longer than the session's timeout; it was cancelled on the server."""


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
