"""Capturing plans: the engine's richest EXPLAIN, through the safety guard, into a :class:`Plan`.

========== =================================================================================
engine     what runs
========== =================================================================================
PostgreSQL ``EXPLAIN (FORMAT JSON, SETTINGS[, ANALYZE, BUFFERS[, WAL]])``; ``$1``-style
           statements: ``GENERIC_PLAN`` (16+) or ``PREPARE`` + ``EXECUTE`` (generic plan
           forced when no values are given; the values when they are)
MySQL 8    ``EXPLAIN FORMAT=JSON``; ``EXPLAIN ANALYZE`` (TREE) when analysing
MariaDB    ``EXPLAIN FORMAT=JSON``; ``ANALYZE FORMAT=JSON`` when analysing
SQLite     ``EXPLAIN QUERY PLAN``; when analysing, the statement itself, timed, in the same
           rolled-back transaction (its time goes on the root)
DuckDB     ``EXPLAIN (FORMAT json)`` / ``EXPLAIN (ANALYZE, FORMAT json)``
========== =================================================================================

EXPLAIN without ANALYZE never executes the statement, so it is a read whatever the statement
is; with ANALYZE the statement runs, and the guard judges the statement itself (a write needs
``allow_writes=True`` and is rolled back).
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from workbench.errors import QueryError, UnsafeStatementError
from workbench.guard import StatementInfo, StatementKind
from workbench.plans import Plan, parse_plan

if TYPE_CHECKING:
    from workbench.execution import Executor, Params, Transaction

__all__ = ["explain"]


@dataclasses.dataclass
class _Request:
    executor: Executor
    info: StatementInfo  # the person's statement
    effective: StatementInfo  # what the guard judges (a plain EXPLAIN of a write is a read)
    analyze: bool
    params: Params
    allow_writes: bool
    settings: Mapping[str, Any] | None
    timeout: float | None
    read_only: bool

    def transaction(self) -> Any:
        return self.executor.transaction(
            allow_writes=self.allow_writes,
            read_only=self.read_only,
            settings=self.settings,
            timeout_s=self.timeout,
        )


def explain(
    executor: Executor,
    sql: str,
    *,
    analyze: bool = False,
    params: Params = None,
    allow_writes: bool = False,
    settings: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> Plan:
    """The plan of ``sql``, analysed (see :mod:`workbench.explain` for each engine's command).

    ``analyze=True`` executes the statement to measure it (a write needs ``allow_writes=True``
    and is rolled back). ``settings`` apply to this call only (``{"work_mem": "64MB"}``).
    PostgreSQL ``$1``-style statements get a generic plan without ``params``, or the plan for
    ``params=[...]``.

    >>> import workbench as wb
    >>> s = wb.connect("sqlite://")
    >>> s.explain("SELECT 1").root.operation
    'SCAN CONSTANT ROW'
    """
    info = executor.classify(sql)
    if info.explain:
        raise UnsafeStatementError(
            "pass the statement itself, without EXPLAIN",
            hint="s.explain('SELECT ...', analyze=True) builds the engine's EXPLAIN for you",
            kind=info.kind.value,
        )
    if info.kind is StatementKind.DDL and not analyze:
        raise QueryError(
            f"{info.operation} has no plan: only queries and data changes can be explained",
            hint="to see what an index or other DDL would change, try it in the rolled-back "
            "sandbox: s.try_fix(ddl, sql=query)",
            sql=sql,
        )
    effective, read_only = info, not (info.is_write or allow_writes)
    if not analyze:
        # EXPLAIN without ANALYZE does not execute: a read for the guard, in which only the
        # planner runs (it may evaluate a function it takes for IMMUTABLE)
        effective = dataclasses.replace(info, plans_only=True)
    if not analyze and info.kind in (StatementKind.WRITE, StatementKind.DDL):
        # MySQL and MariaDB still refuse EXPLAIN DELETE in a read-only transaction, so it runs
        # read-write, rolled back
        effective = dataclasses.replace(effective, kind=StatementKind.READ, written_tables=())
        read_only = False
    request = _Request(
        executor, info, effective, analyze, params, allow_writes, settings, timeout, read_only
    )
    name = executor.dialect.name
    if name == "postgresql" and _dollar_parameters(info.sql):
        return _hiding_values(_explain_postgres_prepared(request), params)
    if name == "sqlite":
        return _hiding_values(_explain_then_time(request), params)
    plan = _explain_plain(request)
    return _hiding_values(plan, params)


def _explain_plain(request: _Request) -> Plan:
    executor, info = request.executor, request.info
    dialect = executor.dialect
    command = dialect.explain_command(info.sql, analyze=request.analyze, write=info.is_write)
    result = executor.run(
        info.sql,
        request.params,
        info=request.effective if not request.analyze else info,
        send=command,
        allow_writes=request.allow_writes,
        settings=request.settings,
        timeout_s=request.timeout,
        read_only=request.read_only,
    )
    document = dialect.explain_document(result.rows)
    if dialect.name == "duckdb" and request.analyze and _profiler_failed(document):
        # DuckDB's profiler cannot run some statements (a bare count(*) answered from
        # metadata): take the plain plan and time the statement instead
        return _explain_then_time(request)
    return _parse_captured(dialect.name, document, info.sql)


def _explain_then_time(request: _Request) -> Plan:
    """The plan without per-step times, then (when analysing) the statement run and timed in
    the same transaction, its time and row count on the root."""
    executor, info = request.executor, request.info
    dialect = executor.dialect
    command = dialect.explain_command(info.sql, analyze=False, write=info.is_write)
    with request.transaction() as tx:
        if dialect.name == "sqlite":
            # EXPLAIN QUERY PLAN never reads the database, so it would plan with this connection's
            # cached schema; a real read checks the schema cookie and reloads it, so an index
            # made by another connection (the app, the sqlite3 shell) is seen.
            tx.execute_internal("SELECT 1 FROM sqlite_master LIMIT 1")
        eqp = tx.execute(info.sql, request.params, info=request.effective, send=command)
        plan = _parse_captured(dialect.name, dialect.explain_document(eqp.rows), info.sql)
        if request.analyze:
            timed = tx.execute(info.sql, request.params, info=info)
            rows = len(timed.rows) if timed.columns else max(timed.rowcount, 0)
            plan.attach_statement_time(timed.elapsed_ms, rows)
    return plan


def _explain_postgres_prepared(request: _Request) -> Plan:
    """``$1``-style statements: a generic plan, or the plan for the given values."""
    executor, info = request.executor, request.info
    count = max(_dollar_parameters(info.sql))
    values = request.params
    if values is not None and (isinstance(values, Mapping | str | bytes) or len(values) != count):
        raise QueryError(
            f"the statement has ${count}-style parameters: pass params as a list of {count} values",
            hint=f"e.g. params=[{', '.join(str(i) for i in range(1, count + 1))}], or no params "
            "for the generic plan",
            sql=info.sql,
        )
    if request.analyze and values is None:
        raise QueryError(
            f"EXPLAIN ANALYZE runs the statement, so $1..${count} need values",
            hint=f"pass params=[...] with {count} values, or analyze=False for the generic plan",
            sql=info.sql,
        )
    dialect = request.executor.dialect
    options = dialect.explain_command("", analyze=request.analyze, write=info.is_write)
    options = options.strip()
    if values is None and executor.server.version_info >= (16,):
        command = options.replace("(FORMAT JSON", "(GENERIC_PLAN, FORMAT JSON", 1) + " " + info.sql
        result = request.executor.run(
            info.sql,
            None,
            info=request.effective,
            send=command,
            allow_writes=request.allow_writes,
            settings=request.settings,
            timeout_s=request.timeout,
            read_only=request.read_only,
        )
        return parse_plan(dialect.explain_document(result.rows), "postgresql", sql=info.sql)
    name = f"wb_explain_{uuid.uuid4().hex[:12]}"
    with request.transaction() as tx:
        _authorize(tx, request.effective if not request.analyze else info)
        tx.execute_internal(f"PREPARE {name} AS {info.sql}")
        tx.state.undo.append(f"DEALLOCATE {name}")  # PREPARE outlives the rollback
        if values is None:
            tx.execute_internal("SET LOCAL plan_cache_mode = force_generic_plan")
            result = tx.execute_internal(f"{options} EXECUTE {name}({', '.join(['NULL'] * count)})")
        else:
            # EXPLAIN EXECUTE takes no bind parameters: the values go in as quoted literals
            from psycopg import sql as pgsql

            literals = pgsql.SQL(", ").join(pgsql.Literal(v) for v in values)
            execute = pgsql.SQL(f"{options} EXECUTE {name}({{}})").format(literals)
            result = tx.execute_internal(execute.as_string(tx.dbapi))
    return parse_plan(dialect.explain_document(result.rows), "postgresql", sql=info.sql)


def _parse_captured(dialect: str, document: Any, sql: str) -> Plan:
    if dialect == "sqlite":  # the engine is known: even an empty plan (DELETE FROM t) is SQLite's
        from workbench.plans.sqlite import from_sqlite_rows

        return from_sqlite_rows(document, sql=sql)
    return parse_plan(document, dialect, sql=sql)


def _authorize(tx: Transaction, info: StatementInfo) -> None:
    from workbench import guard

    dialect = tx.executor.dialect
    guard.authorize(
        info, allow_writes=tx.allow_writes, read_only_enforced=dialect.read_only_enforced
    )


def _dollar_parameters(sql: str) -> list[int]:
    """The numbers of ``$n`` placeholders outside strings and comments."""
    import sqlglot
    from sqlglot import TokenType

    try:
        tokens = sqlglot.tokenize(sql, read="postgres")
    except Exception:
        return []
    found = []
    for previous, token in itertools.pairwise(tokens):
        if (
            previous.token_type == TokenType.PARAMETER
            and previous.text == "$"
            and token.token_type == TokenType.NUMBER
            and token.start == previous.end + 1
        ):
            found.append(int(token.text))
    return found


def _profiler_failed(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and document.get("result") == "error"
        and not any(key in document for key in ("operator", "children"))
    )


def explain_in(tx: Transaction, sql: str, *, analyze: bool = True, params: Params = None) -> Plan:
    """The plan of ``sql`` inside an open sandbox transaction (to see a fix's effect before it
    is rolled back)."""
    executor = tx.executor
    dialect = executor.dialect
    info = executor.classify(sql)
    effective = info
    if not analyze:
        effective = dataclasses.replace(
            info,
            kind=StatementKind.READ if info.is_write else info.kind,
            written_tables=() if info.is_write else info.written_tables,
            plans_only=True,
        )
    timed_separately = dialect.name == "sqlite"
    command = dialect.explain_command(
        info.sql, analyze=analyze and not timed_separately, write=info.is_write
    )
    result = tx.execute(info.sql, params, info=effective if not analyze else info, send=command)
    document = dialect.explain_document(result.rows)
    if dialect.name == "duckdb" and analyze and _profiler_failed(document):
        result = tx.execute(
            info.sql,
            params,
            info=effective,
            send=dialect.explain_command(info.sql, analyze=False, write=False),
        )
        document = dialect.explain_document(result.rows)
        timed_separately = True
    plan = _parse_captured(dialect.name, document, info.sql)
    if analyze and timed_separately:
        timed = tx.execute(info.sql, params, info=info)
        rows = len(timed.rows) if timed.columns else max(timed.rowcount, 0)
        plan.attach_statement_time(timed.elapsed_ms, rows)
    return _hiding_values(plan, params)


def _hiding_values(plan: Plan, params: Params) -> Plan:
    """Mark the parameters' values a plan may quote, so saved copies leave them out."""
    from workbench.redaction import parameter_values

    plan.hidden_values = tuple(parameter_values(params))
    return plan
