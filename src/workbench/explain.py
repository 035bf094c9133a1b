"""Capturing plans: the engine's richest EXPLAIN, run through the safety guard."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from workbench.errors import UnsafeStatementError
from workbench.guard import StatementKind

if TYPE_CHECKING:
    from workbench.execution import Params
    from workbench.session import Session

__all__ = ["explain"]


def explain(
    session: Session,
    sql: str,
    *,
    analyze: bool = False,
    params: Params = None,
    allow_writes: bool = False,
    settings: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> Any:
    """Run the engine's plan command for ``sql`` and return its document.

    EXPLAIN without ANALYZE never executes the statement, so it is a read whatever the
    statement is; with ANALYZE the statement runs, and the guard judges the statement itself.
    """
    executor = session.executor
    info = executor.classify(sql)
    if info.explain:
        raise UnsafeStatementError(
            "pass the statement itself, without EXPLAIN",
            hint="s.explain('SELECT ...', analyze=True) builds the engine's EXPLAIN for you",
            kind=info.kind.value,
        )
    dialect = executor.dialect
    command = dialect.explain_command(info.sql, analyze=analyze, write=info.is_write)
    effective, read_only = info, None
    if not analyze and info.kind in (StatementKind.WRITE, StatementKind.DDL):
        # EXPLAIN without ANALYZE does not execute: a read for the guard. MySQL and MariaDB still
        # refuse EXPLAIN DELETE in a read-only transaction, so it runs read-write, rolled back.
        effective = dataclasses.replace(info, kind=StatementKind.READ, written_tables=())
        read_only = False
    result = executor.run(sql, params, info=effective, send=command, allow_writes=allow_writes,
                          settings=settings, timeout_s=timeout, read_only=read_only)  # fmt: skip
    return dialect.explain_document(result.rows)
