"""Trying a fix without keeping it: the rollback sandbox.

``s.try_fix(fix, sql)`` plans ``sql`` as it is, then opens a transaction, applies the fix
(``CREATE INDEX``, ``CREATE STATISTICS`` + ``ANALYZE``, per-call settings such as
``SET work_mem``), plans ``sql`` again inside it, and rolls everything back. Nothing changes
on the server; the result is the before/after :class:`~workbench.plans.diff.PlanDiff`. A
rewritten query (a fix that is itself a SELECT) is planned as the alternative instead.

Model-suggested SQL only ever runs this way, on the person's request, through the guard:
every statement is classified, and what rollback cannot undo is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.errors import ConfigurationError, UnsafeStatementError
from workbench.findings import Finding
from workbench.guard import StatementKind, split_statements

if TYPE_CHECKING:
    from workbench.execution import Executor, Params
    from workbench.plans.diff import PlanDiff
    from workbench.plans.model import Plan

__all__ = ["FixTrial", "try_fix"]

_SET = re.compile(
    r"^\s*SET\s+(?:LOCAL\s+|SESSION\s+)?([A-Za-z_][\w.]*)\s*(?:=|TO)\s*(.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_CONCURRENTLY = re.compile(r"\bCONCURRENTLY\b\s*", re.IGNORECASE)
_DESTRUCTIVE = re.compile(
    r"^\s*(?:DROP|TRUNCATE|DELETE|ALTER\s+TABLE\s+\S+\s+DROP)\b", re.IGNORECASE
)


@dataclass
class FixTrial:
    """A fix tried in the sandbox: the plans before and after, and what changed."""

    fix: str
    sql: str
    statements: list[str]
    settings: dict[str, str]
    before: Plan
    after: Plan
    notes: list[str] = field(default_factory=list)

    @property
    def diff(self) -> PlanDiff:
        return self.before.diff(self.after)

    @property
    def verdict(self) -> str:
        return self.diff.verdict

    def __repr__(self) -> str:
        return f"<FixTrial {self.verdict}>"

    def _repr_html_(self) -> str:
        from workbench.safe_html import escape

        notes = "".join(f"<div>{escape(n)}</div>" for n in self.notes)
        return (
            f"<div class='wb-fix'><p>Tried in a rolled-back transaction: <code>"
            f"{escape(self.fix)}</code></p>{notes}{self.diff._repr_html_()}</div>"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "fix": self.fix,
            "sql": self.sql,
            "statements": self.statements,
            "settings": self.settings,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "notes": self.notes,
            "verdict": self.verdict,
        }


def try_fix(
    executor: Executor,
    fix: str | Finding,
    sql: str | None = None,
    *,
    params: Params = None,
    analyze: bool = True,
    timeout: float | None = None,
) -> FixTrial:
    """Try a fix (``CREATE INDEX ...``, ``SET work_mem ...``, a rewritten query, or a
    :class:`Finding`) in a transaction that is rolled back: the plans of ``sql`` before and
    after, and their diff. Nothing changes on the server.

    >>> trial = s.try_fix("CREATE INDEX orders_user_id_idx ON orders (user_id)",
    ...                   sql="SELECT * FROM orders WHERE user_id = 42")
    >>> trial.before.root.operation, trial.after.root.operation   # SQLite: a scan, then a search
    ('SCAN', 'SEARCH')
    >>> trial.verdict                                                      # doctest: +SKIP
    '0.288 ms → 0.032 ms: 8.9× faster'
    >>> "orders_user_id_idx" in str(s.table("orders").indexes)     # rolled back
    False
    """
    from workbench.explain import explain, explain_in

    text = fix.fix if isinstance(fix, Finding) else fix
    if not text:
        raise UnsafeStatementError("the finding carries no SQL to try", kind="empty")
    if isinstance(fix, Finding) and fix.fix_kind == "code":
        # an application change (eager loading, say): there is no statement to run here
        raise ConfigurationError(
            f"the fix of {fix.code} is a change to the application's code, not SQL: {text}",
            hint="apply it in the application, then profile the handler again "
            "(s.profile(handler) with s.capture() around it)",
        )
    if sql is None:
        raise UnsafeStatementError(
            "try_fix needs the statement to plan before and after",
            hint="s.try_fix(fix, sql='SELECT ...')",
            kind="empty",
        )
    statements, settings, notes = [], {}, []
    for statement in split_statements(text.strip(), executor.dialect.name):
        match = _SET.match(_COMMENT.sub("", statement))
        if match:  # a setting is applied per call, inside the transaction
            settings[match.group(1)] = match.group(2).strip().strip("'\"")
            continue
        if _DESTRUCTIVE.match(_COMMENT.sub("", statement)):
            raise UnsafeStatementError(
                f"{statement.split()[0].upper()} is not a fix to try: it destroys what is there "
                "(the rollback would bring it back, but the table is locked meanwhile and "
                "nothing is learned about the query)",
                hint="try additive fixes here (CREATE INDEX, CREATE STATISTICS, a setting, a "
                "rewritten query); to see a query without an index, compare plans with "
                "settings such as {'enable_indexscan': 'off'}",
                kind="ddl",
            )
        if _CONCURRENTLY.search(statement):
            statement = _CONCURRENTLY.sub("", statement)
            notes.append(
                "CONCURRENTLY was dropped: it cannot run inside a transaction; keep it "
                "when you apply the fix for real"
            )
        statements.append(statement)
    before = explain(executor, sql, analyze=analyze, params=params, timeout=timeout)
    if (
        len(statements) == 1
        and not settings
        and executor.classify(statements[0]).kind is StatementKind.READ
    ):
        # a rewritten query: plan the alternative as it is
        after = explain(executor, statements[0], analyze=analyze, params=params, timeout=timeout)
        notes.append("the fix is a rewritten query: its own plan is compared")
        return FixTrial(text, sql, statements, settings, before, after, notes)
    with executor.transaction(
        allow_writes=True, read_only=False, settings=settings, timeout_s=timeout
    ) as tx:
        for statement in statements:
            tx.execute(statement)
        after = explain_in(tx, sql, analyze=analyze, params=params)
    notes.append("everything was rolled back: nothing changed on the server")
    return FixTrial(text, sql, statements, settings, before, after, notes)
