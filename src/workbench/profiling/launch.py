"""``s.profile()``: checking the statement, choosing how to run it, and running it.

=============================  =========================================================
run                            how
=============================  =========================================================
one connection, runs or time   in this process, on a dedicated connection
PostgreSQL load (concurrency   ``pgbench`` with a custom script (constants and
> 1 or a duration)             :func:`uniform` draws); worker processes otherwise, and
                               again with them when a statement fails under pgbench
                               (pgbench stops a client at its first error)
MySQL/MariaDB, SQLite (file)   worker processes, one connection each
DuckDB                         threads (DuckDB releases the GIL while it works)
a Python callable              in this process, each run captured (:mod:`.handler`)
=============================  =========================================================

The guard runs first: one statement, a write only with ``allow_writes=True`` (each execution
then runs in BEGIN ... ROLLBACK, outside the timed region), nothing rollback cannot undo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench import guard
from workbench.connections import ConnectionRecipe
from workbench.errors import ConfigurationError, UnsafeStatementError
from workbench.execution import check_timeout
from workbench.profiling.handler import profile_callable
from workbench.profiling.modes import assemble, execute
from workbench.profiling.params import POOL_SIZE, ParamSource
from workbench.profiling.pgbench import fallback_note, run_for_profile
from workbench.profiling.result import Profile
from workbench.profiling.workers import Job

if TYPE_CHECKING:
    from workbench.execution import Executor

__all__ = ["profile"]


def profile(
    executor: Executor,
    sql: str | Callable[[], Any],
    *,
    runs: int = 200,
    warmup: int = 20,
    concurrency: int = 1,
    duration: float | None = None,
    params: Any = None,
    allow_writes: bool = False,
    timeout: float | None = None,
    progress: bool | None = None,
    stop: Callable[[], bool] | None = None,
    engine: str = "auto",
    label: str | None = None,
) -> Profile:
    """Measure the latency of ``sql`` over ``runs`` executions (or ``duration`` seconds).

    Timing is at the driver: only the driver's execute and fetch are between the two clock
    reads. ``params`` is a dict (values may be ``wb.uniform(lo, hi)`` draws), a list of dicts,
    or a callable ``i -> dict``. ``concurrency > 1`` or ``duration`` makes a load run: pgbench
    for PostgreSQL, worker processes (threads for DuckDB) otherwise. A failed or timed-out
    execution is recorded and the run goes on; Ctrl-C or ``stop()`` keeps the runs done so far.
    ``sql`` may also be a Python callable (an app handler): each run is then captured and split
    into database time, round trips and Python time (:func:`~workbench.profiling.handler.
    profile_callable`).

    >>> import workbench as wb
    >>> s = wb.connect("sqlite://")
    >>> prof = s.profile("SELECT 1", runs=50, warmup=5)
    >>> prof.summary()["runs"]
    50
    """
    if callable(sql):
        return profile_callable(
            executor, sql, runs=runs, warmup=min(warmup, 3), label=label, progress=progress
        )
    _check(runs, warmup, concurrency, duration, engine)
    dialect = executor.dialect.name
    info = executor.classify(sql)
    guard.authorize(
        info, allow_writes=allow_writes, read_only_enforced=executor.dialect.read_only_enforced
    )
    if info.is_write:
        with executor.transaction(allow_writes=True, read_only=False) as tx:
            reason = executor.dialect.check_rollback_safe(info, tx.dbapi)
        if reason:
            raise UnsafeStatementError(
                reason, hint="profile it on a disposable copy", kind=info.kind.value
            )
    timeout_s = executor.timeout_s if timeout is None else check_timeout(timeout)
    source = ParamSource(params)
    load = concurrency > 1 or duration is not None
    mode = _choose_mode(executor, dialect, load, concurrency, source, info.is_write, engine)
    started_at = datetime.now()
    profile: Profile | None = None
    fallback = None
    if mode == "pgbench":
        run = run_for_profile(
            executor,
            info.sql,
            source,
            concurrency,
            runs,
            duration,
            warmup,
            timeout_s,
            info.is_write,
            stop,
            stop_at_error=engine == "auto",
        )
        if run.stopped_at_error and not run.interrupted:
            # pgbench would stop that client for good; the workers record the error and go on
            mode = "processes" if concurrency > 1 else "in-process"
            fallback = fallback_note(run.errors)
        else:
            profile = run.to_profile(info.sql, concurrency, runs if duration is None else None)
    if profile is None:
        profile = _run_workers(
            executor,
            info.sql,
            source,
            mode,
            concurrency=concurrency,
            runs=runs,
            duration=duration,
            warmup=warmup,
            timeout_s=timeout_s,
            write=info.is_write,
            progress=progress,
            stop=stop,
        )
    if fallback:
        profile.notes.append(fallback)
    profile.params = source.describe()
    profile.warmup = warmup
    profile.started_at = started_at
    profile.label = label
    return profile


def _run_workers(
    executor: Executor,
    sql: str,
    source: ParamSource,
    mode: str,
    *,
    concurrency: int,
    runs: int,
    duration: float | None,
    warmup: int,
    timeout_s: float,
    write: bool,
    progress: bool | None,
    stop: Callable[[], bool] | None,
) -> Profile:
    """Run in this process, in threads or in worker processes (``mode``)."""
    dialect = executor.dialect.name
    count = runs if duration is None else POOL_SIZE
    values = source.values(min(count, POOL_SIZE)) if source.named else None
    statement, args = _bind_all(executor, sql, values)
    recipe = ConnectionRecipe.for_engine(
        executor.engine, dialect, read_only=not write, timeout_s=timeout_s
    )
    fetch_rows = not write or "RETURNING" in sql.upper()
    jobs = _split(
        Job(
            recipe,
            statement,
            args,
            runs if duration is None else None,
            duration,
            warmup,
            write,
            fetch_rows,
        ),
        concurrency,
    )
    results, wall, interrupted = execute(executor, mode, jobs, runs, duration, progress, stop)
    profile = assemble(
        results, sql=sql, dialect=dialect, mode=mode, concurrency=concurrency, wall_s=wall
    )
    profile.interrupted = profile.interrupted or interrupted
    return profile


def _check(runs: int, warmup: int, concurrency: int, duration: float | None, engine: str) -> None:
    if not isinstance(runs, int) or runs < 1:
        raise ConfigurationError(f"runs must be a positive integer, not {runs!r}")
    if not isinstance(warmup, int) or warmup < 0:
        raise ConfigurationError(f"warmup must be 0 or more, not {warmup!r}")
    if not isinstance(concurrency, int) or not 1 <= concurrency <= 256:
        raise ConfigurationError(f"concurrency must be between 1 and 256, not {concurrency!r}")
    if duration is not None and (not isinstance(duration, int | float) or duration <= 0):
        raise ConfigurationError(f"duration must be a positive number of seconds, not {duration!r}")
    if engine not in ("auto", "pgbench", "processes", "threads", "in-process"):
        raise ConfigurationError(
            f"unknown engine {engine!r}", hint="auto, pgbench, processes, threads or in-process"
        )


def _choose_mode(
    executor: Executor,
    dialect: str,
    load: bool,
    concurrency: int,
    source: ParamSource,
    write: bool,
    engine: str,
) -> str:
    from workbench.profiling.pgbench import find_pgbench

    memory = executor.in_memory
    if engine != "auto":
        if engine == "pgbench" and (dialect != "postgresql" or source.pgbench() is None):
            raise ConfigurationError(
                "pgbench runs PostgreSQL statements with constant or uniform() parameters only",
                hint="use engine='processes' for lists or callables",
            )
        if engine == "in-process" and concurrency > 1:
            raise ConfigurationError("engine='in-process' runs one connection: concurrency=1")
        return engine
    if not load or (concurrency == 1 and memory):
        return "in-process"
    if memory:
        raise ConfigurationError(
            f"an in-memory {dialect} database cannot be shared by several connections",
            hint="profile a database file for concurrency > 1",
        )
    if dialect == "duckdb":
        return "threads"
    if (
        dialect == "postgresql"
        and not write
        and source.pgbench() is not None
        and find_pgbench() is not None
    ):
        return "pgbench"
    if concurrency == 1:
        return "in-process"
    return "processes"


def _bind_all(
    executor: Any, sql: str, values: list[Mapping[str, Any]] | None
) -> tuple[str, list[Any] | None]:
    if values is None:
        return sql, None
    statement = sql
    args = []
    for mapping in values:
        statement, bound = executor.bind(sql, mapping)
        args.append(bound)
    return statement, args


def _split(job: Job, concurrency: int) -> list[Job]:
    jobs = []
    for worker in range(concurrency):
        runs = None
        if job.runs is not None:
            runs = job.runs // concurrency + (1 if worker < job.runs % concurrency else 0)
        args = job.args
        if args and concurrency > 1:  # each worker starts at a different point of the values
            shift = (len(args) * worker) // concurrency
            args = args[shift:] + args[:shift]
        jobs.append(
            Job(
                job.recipe,
                job.statement,
                args,
                runs,
                job.duration_s,
                job.warmup,
                job.write,
                job.fetch_rows,
                worker,
            )
        )
    return jobs
