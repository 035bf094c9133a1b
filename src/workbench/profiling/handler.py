"""Profiling an app handler (a Python callable): each run timed with statement capture on,
and its latency split into database time, round trips and Python time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.capture import Capture
from workbench.errors import ConfigurationError
from workbench.profiling.modes import Progress, message_index, progress_bar
from workbench.profiling.result import Profile

if TYPE_CHECKING:
    from workbench.execution import Executor

__all__ = ["profile_callable"]


def profile_callable(
    executor: Executor,
    fn: Callable[[], Any],
    *,
    runs: int = 20,
    warmup: int = 2,
    label: str | None = None,
    progress: Progress = None,
) -> Profile:
    """Time a Python callable (an app handler) with statement capture on: each run's latency is
    split into database time, round trips and Python time (``profile.extra``)."""
    if not isinstance(runs, int) or runs < 1:
        raise ConfigurationError(f"runs must be a positive integer, not {runs!r}")
    for _ in range(warmup):
        fn()
    latencies, db_ms, trips, starts, errors = [], [], [], [], []
    messages: list[str] = []
    origin = time.perf_counter_ns()
    bar = progress_bar(progress, runs, None, []) if runs >= 50 else None
    interrupted = False
    try:
        for _ in range(runs):
            with Capture(executor, stack=False) as cap:
                t0 = time.perf_counter_ns()
                error = -1
                try:
                    fn()
                except Exception as exc:  # recorded, like a failed statement
                    t1 = time.perf_counter_ns()
                    # scrubbed (outside the timing): a driver's message may quote a URL
                    text = executor.scrub(f"{type(exc).__name__}: {exc}")[:300]
                    error = message_index(messages, text)
                else:
                    t1 = time.perf_counter_ns()
            starts.append(t0 - origin)
            latencies.append(t1 - t0)
            db_ms.append(cap.total_ms)
            trips.append(len(cap))
            errors.append(error)
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    total_ms = np.asarray(latencies, dtype=np.float64) / 1e6
    db = np.asarray(db_ms, dtype=np.float64)
    name = label or getattr(fn, "__qualname__", None) or repr(fn)
    profile = Profile(
        sql=f"{name}()",
        dialect=executor.dialect.name,
        mode="callable",
        concurrency=1,
        start_ms=np.asarray(starts, dtype=np.float64) / 1e6,
        all_latencies_ms=total_ms,
        rows=np.asarray(trips, dtype=np.int64),
        worker=np.zeros(len(latencies), dtype=np.int16),
        error=np.asarray(errors, dtype=np.int16),
        messages=messages,
        wall_s=(time.perf_counter_ns() - origin) / 1e9,
        interrupted=interrupted,
        label=name,
        warmup=warmup,
        extra={
            "db_ms": db,
            "round_trips": np.asarray(trips, dtype=np.int64),
            "python_ms": np.maximum(total_ms - db, 0.0),
        },
    )
    profile.notes.append(_split_note(profile))
    return profile


def _split_note(profile: Profile) -> str:
    if not profile.runs:
        return "no runs"
    total = float(np.median(profile.all_latencies_ms))
    db = float(np.median(profile.extra["db_ms"]))
    trips = int(np.median(profile.extra["round_trips"]))
    share = db / total if total else 0.0
    return (
        f"median run {total:,.1f} ms: {db:,.1f} ms in the database ({share:.0%}) over "
        f"{trips} round trips, {max(total - db, 0):,.1f} ms in Python"
    )
