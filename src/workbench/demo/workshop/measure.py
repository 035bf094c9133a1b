"""Timing inside the check's transaction: repeated runs, profiles, a Comparison; and what an
insert costs (WAL records, latency) with and without an answer's indexes.

The planted query and the answer run in the same rolled-back transaction (the answer's index
exists only there), each many times after a warm-up, so that the verdict is the profile
statistics' (:class:`~workbench.profiling.result.Comparison`: the ratio of medians with a
bootstrap interval and a rank test), never one EXPLAIN each way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.profiling.result import Comparison, Profile

if TYPE_CHECKING:
    from workbench.execution import Transaction

__all__ = [
    "REQUIRED_SPEEDUP",
    "InsertCost",
    "as_profile",
    "compare",
    "fast_enough",
    "insert_cost",
    "timings",
    "verdict",
]

#: how much faster the answer must make the planted query (the issue's bar: a fix, not noise)
REQUIRED_SPEEDUP = 10.0
#: runs per side at least (7 against 7 can reach p ≈ 0.002), at most, and the time to spend
MIN_RUNS = 7
MAX_RUNS = 150
BUDGET_S = 0.35
#: a side whose single run takes longer than this gets fewer runs (5 against 7 still decides)
SLOW_RUN_MS = 150.0
VERY_SLOW_RUN_MS = 1000.0


def timings(
    tx: Transaction,
    sql: str,
    *,
    budget_s: float = BUDGET_S,
    min_runs: int = MIN_RUNS,
    max_runs: int = MAX_RUNS,
) -> list[float]:
    """Driver times (ms) of ``sql`` run repeatedly in ``tx``, after one warm-up run. The
    statement was authorized by the guard on its first, guarded execution."""
    warm = tx.execute_internal(sql).elapsed_ms
    if warm > SLOW_RUN_MS:
        min_runs = min(min_runs, 5)
    if warm > VERY_SLOW_RUN_MS:  # a second or more a run: the fewest that can still decide
        min_runs, budget_s = min(min_runs, 4), 0.0
    out: list[float] = []
    deadline = time.monotonic() + budget_s
    while len(out) < max_runs and (len(out) < min_runs or time.monotonic() < deadline):
        out.append(tx.execute_internal(sql).elapsed_ms)
    return out


def as_profile(sql: str, latencies: list[float], *, label: str) -> Profile:
    """A :class:`Profile` of timings taken here (sequential runs, one connection)."""
    values = np.asarray(latencies, dtype=np.float64)
    starts = np.concatenate([[0.0], np.cumsum(values)[:-1]]) if values.size else values
    return Profile(
        sql=sql,
        dialect="postgresql",
        mode="in-process",
        concurrency=1,
        start_ms=starts,
        all_latencies_ms=values,
        rows=np.zeros(values.size, dtype=np.int64),
        worker=np.zeros(values.size, dtype=np.int16),
        error=np.full(values.size, -1, dtype=np.int16),
        label=label,
    )


def compare(planted: Profile, answer: Profile) -> Comparison:
    """The answer against the planted query (> 1: the answer is faster)."""
    return planted.compare(answer)


def verdict(comparison: Comparison) -> str:
    """The comparison's verdict for a learner: the check chose the runs, so advice to run more
    of them is left out (the answer is simply not fast enough yet)."""
    return comparison.verdict.replace(": run more executions", "")


def fast_enough(comparison: Comparison) -> bool:
    """Significantly faster, by at least :data:`REQUIRED_SPEEDUP` (ratio of medians)."""
    return comparison.faster and comparison.ratio >= REQUIRED_SPEEDUP


@dataclass
class InsertCost:
    """One insert measured in savepoints that are rolled back: WAL records it writes (one
    per row in the table plus one per index entry, give or take a page split) and latency."""

    wal_records: float
    latencies_ms: list[float] = field(default_factory=list)
    rows: int = 1


#: inserts run before the timed ones (the first through the guard)
WARM_INSERTS = 3


def insert_cost(tx: Transaction, insert: str, *, runs: int = 15) -> InsertCost:
    """Measure ``insert`` in ``tx``: each execution inside a savepoint rolled back at once."""
    savepoint = "wb_workshop_insert"
    latencies: list[float] = []
    records: list[float] = []
    inserted = 1
    for i in range(runs + WARM_INSERTS):
        tx.execute_internal(f"SAVEPOINT {savepoint}")
        try:
            if i == 0:  # the first through the guard (triggers, effects), untimed
                tx.execute(insert)
            elif i < WARM_INSERTS:
                tx.execute_internal(insert)
            else:
                latencies.append(tx.execute_internal(insert).elapsed_ms)
        finally:
            tx.execute_internal(f"ROLLBACK TO SAVEPOINT {savepoint}")
    for _ in range(5):
        tx.execute_internal(f"SAVEPOINT {savepoint}")
        try:
            rows = tx.execute_internal(f"EXPLAIN (ANALYZE, WAL, FORMAT JSON) {insert}").rows
        finally:
            tx.execute_internal(f"ROLLBACK TO SAVEPOINT {savepoint}")
        plan = _plan_of(rows)
        records.append(float(plan.get("WAL Records", 0)))
        source = (plan.get("Plans") or [{}])[0]
        inserted = max(1, int(source.get("Actual Rows", 1) * source.get("Actual Loops", 1)))
    # the fewest: a page split (the rolled-back entries stay until vacuumed) only adds records
    return InsertCost(min(records), latencies, inserted)


def _plan_of(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    import json

    document = rows[0][0]
    if isinstance(document, str | bytes):
        document = json.loads(document)
    plan: dict[str, Any] = document[0]["Plan"]
    return plan
