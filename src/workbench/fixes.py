"""Trying a fix without keeping it: the rollback sandbox.

``s.try_fix(fix, sql)`` plans ``sql`` as it is, then opens a transaction, applies the fix
(``CREATE INDEX``, ``CREATE STATISTICS`` + ``ANALYZE``, per-call settings such as
``SET work_mem``), plans ``sql`` again inside it, and rolls everything back. Nothing changes
on the server; the result is the before/after :class:`~workbench.plans.diff.PlanDiff`. A
rewritten query (a fix that is itself a SELECT) is planned as the alternative instead.

Model-suggested SQL only ever runs this way, on the person's request, through the guard:
every statement is classified, and what rollback cannot undo is refused.

On a live database the sandbox is careful: its statements wait at most
:data:`SANDBOX_LOCK_TIMEOUT_S` for a lock (a busy table makes the trial fail fast rather than
queue the application's writes behind it); an index on a large table is said to block writes
while it builds; and where HypoPG is installed, an index is first judged as a hypothetical one
(the planner's estimates, nothing built): one the planner would not use, or one on a large
table, is not built at all.
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

__all__ = ["LARGE_TABLE_BYTES", "LARGE_TABLE_ROWS", "SANDBOX_LOCK_TIMEOUT_S", "FixTrial", "try_fix"]

#: how long a sandbox statement waits for a lock before the trial gives up
SANDBOX_LOCK_TIMEOUT_S = 2.0
#: above either, building an index in the sandbox blocks the application's writes for long
LARGE_TABLE_ROWS = 1_000_000
LARGE_TABLE_BYTES = 256 * 1024 * 1024
_CREATE_INDEX = re.compile(
    r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\b.*?\bON\s+(?:ONLY\s+)?(?P<table>[\w.\"`]+)",
    re.IGNORECASE | re.DOTALL,
)
_ALTER_TABLE = re.compile(
    r"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>[\w.\"`]+)", re.IGNORECASE
)

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
    #: judged with HypoPG's hypothetical index (planner estimates; nothing was built)
    hypothetical: bool = False

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
        how = (
            "Judged with a hypothetical index (HypoPG, planner estimates, nothing built)"
            if self.hypothetical
            else "Tried in a rolled-back transaction"
        )
        return (
            f"<div class='wb-fix'><p>{how}: <code>"
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
            "hypothetical": self.hypothetical,
        }


def try_fix(
    executor: Executor,
    fix: str | Finding,
    sql: str | None = None,
    *,
    params: Params = None,
    analyze: bool = True,
    timeout: float | None = None,
    hypothetical: str = "auto",
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

    ``hypothetical``: ``"auto"`` judges a ``CREATE INDEX`` with HypoPG first where the
    extension is installed (and builds it only when the planner would use it and the table is
    not large), ``"only"`` never builds, ``"never"`` always builds.
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
    if hypothetical not in ("auto", "only", "never"):
        raise ConfigurationError("hypothetical must be 'auto', 'only' or 'never'")
    large = _large_tables(executor, statements, notes)
    if (
        hypothetical != "never"
        and len(statements) == 1
        and not settings
        and _CREATE_INDEX.match(_COMMENT.sub("", statements[0]))
        and _has_hypopg(executor)
    ):
        trial, used = _hypothetical_trial(executor, text, sql, statements[0], params, timeout)
        if large and used:
            trial.notes.append("not built: the table is large, and the estimate is the planner's")
        if hypothetical == "only" or large or not used:
            trial.notes[:0] = notes
            return trial
        notes.append(trial.notes[-1].replace("HypoPG:", "HypoPG first:"))
    elif hypothetical == "only":
        raise ConfigurationError(
            "a hypothetical trial needs HypoPG on PostgreSQL and a single CREATE INDEX",
            hint="CREATE EXTENSION hypopg in this database, or hypothetical='auto'",
        )
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
        allow_writes=True,
        read_only=False,
        settings=settings,
        timeout_s=timeout,
        lock_timeout_s=SANDBOX_LOCK_TIMEOUT_S,
    ) as tx:
        for statement in statements:
            tx.execute(statement)
        after = explain_in(tx, sql, analyze=analyze, params=params)
    notes.append("everything was rolled back: nothing changed on the server")
    return FixTrial(text, sql, statements, settings, before, after, notes)


def _large_tables(executor: Executor, statements: list[str], notes: list[str]) -> list[str]:
    """The large tables the fix would lock against writes while it runs (said in ``notes``)."""
    from workbench.errors import WorkbenchError
    from workbench.introspection import table

    found = []
    for statement in statements:
        bare = _COMMENT.sub("", statement)
        match = _CREATE_INDEX.match(bare) or _ALTER_TABLE.match(bare)
        if not match:
            continue
        name = match.group("table").replace('"', "").replace("`", "")
        try:
            info = table(executor, name)
        except WorkbenchError:
            continue
        rows, size = info.row_estimate or 0, info.size_bytes or 0
        if rows < LARGE_TABLE_ROWS and size < LARGE_TABLE_BYTES:
            continue
        found.append(name)
        what = "building this index" if match.re is _CREATE_INDEX else "this ALTER TABLE"
        notes.append(
            f"{name} is large (≈{rows:,.0f} rows, {size / 1e6:,.0f} MB): {what} inside the "
            f"sandbox's transaction blocks writes to {name} until the rollback; try it on a "
            "copy or outside busy hours, and apply it for real with CREATE INDEX CONCURRENTLY"
        )
    return found


def _has_hypopg(executor: Executor) -> bool:
    if executor.dialect.name != "postgresql":
        return False
    result = executor.run("SELECT count(*) AS n FROM pg_extension WHERE extname = 'hypopg'")
    return bool(result.rows and result.rows[0][0])


def _hypothetical_trial(
    executor: Executor,
    text: str,
    sql: str,
    statement: str,
    params: Params,
    timeout: float | None,
) -> tuple[FixTrial, bool]:
    """The plans before and with a HypoPG hypothetical index (estimates: nothing is built),
    and whether the planner would use the index."""
    from workbench.explain import explain_in

    with executor.transaction(
        allow_writes=True,
        read_only=False,
        timeout_s=timeout,
        lock_timeout_s=SANDBOX_LOCK_TIMEOUT_S,
    ) as tx:
        # hypothetical indexes live in the backend, outside the transaction: always reset
        try:
            before = explain_in(tx, sql, analyze=False, params=params)
            created = tx.execute(
                "SELECT indexname FROM hypopg_create_index(:ddl)", {"ddl": statement}
            )
            name = str(created.rows[0][0]) if created.rows else ""
            after = explain_in(tx, sql, analyze=False, params=params)
        finally:
            tx.execute("SELECT hypopg_reset()")
    used = bool(name) and any(name in (node.index or "") for node in after.nodes)
    cost = f"estimated cost {before.root.total_cost or 0:,.1f} → {after.root.total_cost or 0:,.1f}"
    note = (
        f"HypoPG: the planner would use this index ({cost})"
        if used
        else f"HypoPG: the planner would not use this index ({cost}), so it was not built"
    )
    trial = FixTrial(text, sql, [statement], {}, before, after, [note], hypothetical=True)
    return trial, used
