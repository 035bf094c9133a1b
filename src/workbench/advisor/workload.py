"""The workload to tune: the statements given, or the server's top statements by total time
(PostgreSQL ``pg_stat_statements`` of the current database, MySQL/MariaDB performance_schema's
digests), kept when they are queries over user tables.

What is dropped says why (:attr:`Workload.skipped`): writes (their cost is measured as the
write overhead instead), utility and catalogue statements, the advisor's own, statements that
do not parse or whose placeholders no value could be found for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workbench.errors import ConfigurationError
from workbench.guard import StatementKind

if TYPE_CHECKING:
    from workbench.execution import Executor, Transaction

__all__ = ["Statement", "Workload", "load"]

#: rows of pg_stat_statements read to find ``top`` queries among utility statements and others
_SCAN = 200


@dataclass
class Statement:
    """One statement of the workload: ``text`` as given or as the server normalized it,
    ``sql`` runnable (placeholders filled), the tables it reads."""

    id: int
    text: str
    sql: str
    tables: tuple[str, ...]
    calls: int | None = None
    total_ms: float | None = None
    values: str | None = None


@dataclass
class Workload:
    statements: list[Statement] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    source: str = "given"


def load(
    executor: Executor,
    tx: Transaction,
    queries: Sequence[str] | None,
    top: int,
) -> Workload:
    """The workload: ``queries``, or the ``top`` statements by total time on the server."""
    listed = executor.dialect.list_tables(tx.dbapi)
    user_tables = {t.split(".")[-1].lower() for t in listed}
    if queries is not None:
        if isinstance(queries, str):
            queries = [queries]
        rows: list[tuple[str, int | None, float | None]] = [(q, None, None) for q in queries]
        source = "given"
    else:
        rows, source = _top(executor, tx)
    workload = Workload(source=source)
    for text, calls, total in rows:
        if len(workload.statements) >= top and queries is None:
            break
        reason = _keep(executor, text, user_tables)
        if isinstance(reason, str):
            workload.skipped.append({"sql": text, "reason": reason})
            continue
        statement = _prepared(executor, tx, text, reason, len(workload.statements))
        if isinstance(statement, str):
            workload.skipped.append({"sql": text, "reason": statement})
            continue
        statement.calls, statement.total_ms = calls, total
        workload.statements.append(statement)
    return workload


def _keep(executor: Executor, text: str, user_tables: set[str]) -> tuple[str, ...] | str:
    """The statement's user tables when it is a query the advisor can tune, else why not."""
    lowered = text.lower()
    if "hypopg" in lowered or "pg_stat_statements" in lowered or "wb_advisor" in lowered:
        return "the advisor's or the workbench's own statement"
    try:
        info = executor.classify(text)
    except Exception as exc:  # several statements, transaction control: not a query
        return f"not a single query ({type(exc).__name__})"
    if info.explain or info.kind is not StatementKind.READ or info.operation != "SELECT":
        what = "a write" if info.is_write else f"not a query ({info.operation or info.kind.value})"
        return f"{what}: the advisor tunes queries (writes are charged as write overhead)"
    tables = tuple(dict.fromkeys(t.split(".")[-1].lower() for t in info.tables))
    if not tables or any(t not in user_tables for t in tables):
        return "reads no user table (or one the catalogue does not list: a view, a catalogue)"
    return tables


def _prepared(
    executor: Executor, tx: Transaction, text: str, tables: tuple[str, ...], number: int
) -> Statement | str:
    from workbench.advisor.params import fill

    try:
        filled = fill(tx, text, executor.dialect.name)
    except Exception as exc:  # sqlglot could not read it
        return f"could not read its placeholders ({type(exc).__name__})"
    if filled.missing:
        return f"no value for {', '.join(filled.missing)} (not compared with a column)"
    return Statement(number, text, filled.sql, tables, values=filled.values)


_PG_TOP = """
SELECT query, calls, total_exec_time AS total_ms
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND calls > 0
ORDER BY total_exec_time DESC
LIMIT {limit}
"""

_MYSQL_TOP = """
SELECT DIGEST_TEXT AS query, COUNT_STAR AS calls, SUM_TIMER_WAIT / 1e9 AS total_ms
FROM performance_schema.events_statements_summary_by_digest
WHERE SCHEMA_NAME = DATABASE() AND DIGEST_TEXT IS NOT NULL
ORDER BY SUM_TIMER_WAIT DESC
LIMIT {limit}
"""


def _merged(rows: list[tuple[object, ...]]) -> list[tuple[str, int | None, float | None]]:
    """One entry per statement text: the server keeps one per parameter type (a driver sends
    17 as a smallint and 93001 as an integer), the workload is their sum."""
    merged: dict[str, tuple[int, float]] = {}
    for query, calls, total in rows:
        seen = merged.get(str(query), (0, 0.0))
        merged[str(query)] = (seen[0] + int(str(calls)), seen[1] + float(str(total)))
    ordered = sorted(merged.items(), key=lambda item: -item[1][1])
    return [(text, calls, total) for text, (calls, total) in ordered]


def _top(
    executor: Executor, tx: Transaction
) -> tuple[list[tuple[str, int | None, float | None]], str]:
    dialect = executor.dialect.name
    if dialect == "postgresql":
        present = tx.execute_internal(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')"
        ).rows[0][0]
        if not present:
            raise ConfigurationError(
                "no workload to tune: pg_stat_statements is not installed in this database",
                hint="pass the statements: s.advise(['SELECT ...', ...]); or preload "
                "pg_stat_statements (shared_preload_libraries, a restart) and run CREATE "
                "EXTENSION pg_stat_statements",
            )
        rows = tx.execute_internal(_PG_TOP.format(limit=_SCAN)).rows
        return _merged(rows), "pg_stat_statements"
    if dialect in ("mysql", "mariadb"):
        on = tx.execute_internal("SELECT @@performance_schema").rows[0][0]
        if not int(on or 0):
            raise ConfigurationError(
                "no workload to tune: performance_schema is off, so the server keeps no "
                "statement statistics",
                hint="pass the statements: s.advise(['SELECT ...', ...]); or start the server "
                "with performance_schema=ON",
            )
        rows = tx.execute_internal(_MYSQL_TOP.format(limit=_SCAN)).rows
        return _merged(rows), "performance_schema"
    raise ConfigurationError(
        f"{dialect} keeps no statement statistics to take a workload from",
        hint="pass the statements: s.advise(['SELECT ...', ...])",
    )
