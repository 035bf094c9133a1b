"""Measuring what the chosen indexes buy, in a transaction that is rolled back.

Inside one transaction (``lock_timeout`` always): each affected statement is timed, and one
row inserted into each affected table (rolled back to a savepoint after each insert); the
indexes are built; the statements and inserts are timed again; everything is rolled back. The
latencies become :class:`~workbench.profiling.result.Profile` s and their
:class:`~workbench.profiling.result.Comparison` (the same statistics as ``prof.compare``).

Building an index takes a lock that blocks writes to its table until the rollback, so tables
over the build limit are not built (the caller says so); PostgreSQL cannot use an index inside
the transaction that built it when the table holds HOT-updated rows (``indcheckxmin``), and
such a statement is reported unmeasured rather than measured wrong.
"""

from __future__ import annotations

import time
import uuid
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.advisor.model import IndexSpec, WriteCost
from workbench.errors import WorkbenchError, WorkbenchWarning

if TYPE_CHECKING:
    from workbench.advisor.workload import Statement
    from workbench.execution import Executor, Transaction
    from workbench.profiling.result import Comparison, Profile

__all__ = ["Verified", "verify"]

#: seconds each side of one statement's measurement may take at most
SIDE_SECONDS = 2.0
WARMUP = 2


@dataclass
class Verified:
    comparisons: dict[int, Comparison] = field(default_factory=dict)  # statement id -> it
    writes: dict[str, WriteCost] = field(default_factory=dict)  # table -> insert cost
    sizes: dict[IndexSpec, int] = field(default_factory=dict)
    unusable: dict[IndexSpec, str] = field(default_factory=dict)
    plans: dict[int, str] = field(default_factory=dict)  # statement id -> the plan once built
    notes: list[str] = field(default_factory=list)


def verify(
    executor: Executor,
    chosen: list[IndexSpec],
    statements: list[Statement],
    *,
    runs: int,
    lock_timeout: float,
    timeout: float | None = None,
) -> Verified:
    """Time ``statements`` and an insert into each table of ``chosen``, build ``chosen``,
    time them again, roll back."""
    out = Verified()
    dialect = executor.dialect.name
    tables = list(dict.fromkeys(spec.table.lower() for spec in chosen))
    with executor.transaction(
        allow_writes=True, read_only=False, lock_timeout_s=lock_timeout, timeout_s=timeout
    ) as tx:
        insert = {table: _insert_statement(tx, table) for table in tables}
        before = {s.id: _timings(tx, s.sql, runs, guarded=True) for s in statements}
        writes_before = {t: _insert_timings(tx, insert[t], runs) for t in tables}
        names = {}
        for spec in chosen:
            name = f"wb_advisor_{uuid.uuid4().hex[:10]}"
            tx.execute(spec.ddl(dialect, name))
            names[spec] = name
            if dialect == "postgresql":
                row = tx.execute_internal(
                    "SELECT indcheckxmin, pg_relation_size(indexrelid) FROM pg_index "
                    "WHERE indexrelid = %s::regclass",
                    (name,),
                ).rows[0]
                out.sizes[spec] = int(row[1])
                if row[0]:
                    out.unusable[spec] = (
                        f"{spec.table} holds rows updated in place (HOT chains): PostgreSQL does "
                        "not use an index in the transaction that built it, so the statements "
                        "on it could not be measured with it"
                    )
        labels = {name: f"new {spec.label()}" for spec, name in names.items()}
        for s in statements:
            out.plans[s.id] = _plan(tx, s.sql, labels)
        after = {s.id: _timings(tx, s.sql, runs, guarded=False) for s in statements}
        writes_after = {t: _insert_timings(tx, insert[t], runs) for t in tables}
    _compare(out, executor, statements, before, after)
    for table in tables:
        out.writes[table] = _write_cost(executor, table, writes_before[table], writes_after[table])
    return out


def _plan(tx: Transaction, sql: str, labels: dict[str, str]) -> str:
    """The access paths the planner chooses with the indexes built (their names as labels)."""
    from workbench.advisor.whatif import postgres_plan

    if tx.executor.dialect.name == "postgresql":
        return postgres_plan(tx, sql, lambda name: labels.get(name, name))[1]
    details = [str(r[-1]) for r in tx.execute_internal(f"EXPLAIN QUERY PLAN {sql}").rows]
    shown = "; ".join(d for d in details if d.startswith(("SCAN", "SEARCH")))
    for name, label in labels.items():
        shown = shown.replace(name, label)
    return shown


def _timings(tx: Transaction, sql: str, runs: int, *, guarded: bool) -> list[float]:
    if guarded:  # the first execution goes through the guard (functions, effects)
        tx.execute(sql)
    for _ in range(WARMUP):
        tx.execute_internal(sql)
    out: list[float] = []
    deadline = time.monotonic() + SIDE_SECONDS
    while len(out) < runs and (len(out) < 5 or time.monotonic() < deadline):
        out.append(tx.execute_internal(sql).elapsed_ms)
    return out


def _insert_statement(tx: Transaction, table: str) -> tuple[str, dict[str, Any]] | str:
    """An insert of a copy of one row of ``table`` (the driver's text and arguments), or why
    there is none: unique columns get a value past the largest, or a suffix."""
    from workbench.rules.text import quote_ident

    dialect = tx.executor.dialect.name
    quoted = quote_ident(table, dialect)
    sample = tx.execute_internal(f"SELECT * FROM {quoted} LIMIT 1")
    if not sample.rows:
        return f"{table} is empty: no row to copy for a timed insert"
    values = dict(zip(sample.columns, sample.rows[0], strict=True))
    info = tx.executor.dialect.table_info(tx.dbapi, table)
    unique = {ix.columns[0] for ix in (info.indexes if info else []) if ix.unique or ix.primary}
    for column in unique:
        if column not in values:
            continue
        value = values[column]
        if isinstance(value, bool):
            return f"{table}.{column} is unique and boolean: no new value to insert"
        if isinstance(value, int):
            top = tx.execute_internal(
                f"SELECT max({quote_ident(column, dialect)}) FROM {quoted}"
            ).rows[0][0]
            values[column] = int(top) + 1
        elif isinstance(value, str):
            values[column] = f"{value}~wb{uuid.uuid4().hex[:8]}"
        else:
            return f"{table}.{column} is unique and not a number or text: no new value to insert"
    columns = ", ".join(quote_ident(c, dialect) for c in values)
    marks = ", ".join(f":p{i}" for i in range(len(values)))
    params = {f"p{i}": v for i, v in enumerate(values.values())}
    return f"INSERT INTO {quoted} ({columns}) VALUES ({marks})", params


def _insert_timings(
    tx: Transaction, insert: tuple[str, dict[str, Any]] | str, runs: int
) -> list[float] | str:
    if isinstance(insert, str):
        return insert
    sql, params = insert
    statement, args = tx.executor.bind(sql, params)
    out: list[float] = []
    deadline = time.monotonic() + SIDE_SECONDS
    try:
        with warnings.catch_warnings():
            # every column is given: no sequence is advanced, whatever the defaults say
            warnings.simplefilter("ignore", WorkbenchWarning)
            for i in range(runs + WARMUP):
                point = f"wb_advisor_{i}"
                tx.execute_internal(f"SAVEPOINT {point}")
                # the first insert goes through the guard (triggers, effects)
                result = tx.execute(sql, params) if i == 0 else tx.execute_internal(statement, args)
                tx.execute_internal(f"ROLLBACK TO SAVEPOINT {point}")
                if i >= WARMUP:
                    out.append(result.elapsed_ms)
                if len(out) >= 5 and time.monotonic() > deadline:
                    break
    except WorkbenchError as exc:
        tx.execute_internal(f"ROLLBACK TO SAVEPOINT {point}")
        return f"the timed insert failed: {exc.message}"
    return out


def _profile(executor: Executor, sql: str, timings: list[float], label: str) -> Profile:
    import numpy as np

    from workbench.profiling.result import Profile

    values = np.asarray(timings, dtype=float)
    n = values.size
    return Profile(
        sql=sql,
        dialect=executor.dialect.name,
        mode="in-process",
        concurrency=1,
        start_ms=np.cumsum(values) - values,
        all_latencies_ms=values,
        rows=np.zeros(n, dtype=np.int64),
        worker=np.zeros(n, dtype=np.int16),
        error=np.full(n, -1, dtype=np.int16),
        label=label,
        notes=["measured inside the advisor's rolled-back transaction"],
    )


def _compare(
    out: Verified,
    executor: Executor,
    statements: list[Statement],
    before: dict[int, list[float]],
    after: dict[int, list[float]],
) -> None:
    from workbench.profiling.result import Comparison

    for statement in statements:
        out.comparisons[statement.id] = Comparison.between(
            _profile(executor, statement.text, before[statement.id], "before"),
            _profile(executor, statement.text, after[statement.id], "with the indexes"),
        )


def _write_cost(
    executor: Executor, table: str, before: list[float] | str, after: list[float] | str
) -> WriteCost:
    import numpy as np

    from workbench.profiling.result import Comparison

    if isinstance(before, str) or isinstance(after, str):
        return WriteCost(table, note=before if isinstance(before, str) else str(after))
    comparison = Comparison.between(
        _profile(executor, f"INSERT INTO {table} ...", before, "insert before"),
        _profile(executor, f"INSERT INTO {table} ...", after, "insert with the indexes"),
    )
    return WriteCost(
        table,
        before_ms=float(np.median(before)),
        after_ms=float(np.median(after)),
        summary=comparison.summary(),
        comparison=comparison,
    )
