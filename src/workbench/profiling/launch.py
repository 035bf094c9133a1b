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

A lost connection (a server restart, an idle timeout, a ``KILL``) is recorded as a
"connection lost" error and the profile goes on once it has reconnected: the loops reopen their
connection, a pgbench load is resumed by a new pgbench run. A write is never retried. When the
server does not come back, the profile keeps what it measured and says so in its ``notes``;
only a profile that measured nothing raises :class:`~workbench.errors.ConnectionFailedError`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench import guard
from workbench.connections import ConnectionRecipe, reopen
from workbench.errors import (
    ConfigurationError,
    ConnectionFailedError,
)
from workbench.execution import check_timeout
from workbench.profiling import workers
from workbench.profiling.handler import profile_callable
from workbench.profiling.modes import Progress, assemble, execute, unreachable
from workbench.profiling.params import POOL_SIZE, ParamSource
from workbench.profiling.pgbench import (
    PgbenchRun,
    fallback_note,
    lost_connection,
    run_for_profile,
)
from workbench.profiling.result import Profile
from workbench.profiling.workers import MAX_RECONNECTS, Job

if TYPE_CHECKING:
    from workbench.execution import Executor
    from workbench.guard import StatementInfo

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
    progress: Progress = None,
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
    _check_effects(executor, info, allow_writes=allow_writes)
    timeout_s = executor.timeout_s if timeout is None else check_timeout(timeout)
    source = ParamSource(params)
    load = concurrency > 1 or duration is not None
    mode = _choose_mode(executor, dialect, load, concurrency, source, info.is_write, engine)
    started_at = datetime.now()
    profile: Profile | None = None
    fallback = None
    if mode == "pgbench":
        run = _pgbench(
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
    # driver messages may quote a connection string
    profile.messages = [executor.scrub(m) for m in profile.messages]
    profile.notes = [executor.scrub(n) for n in profile.notes]
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
    progress: Progress,
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
    reason = unreachable(results)
    if reason:
        raise _unreachable(executor, reason)
    profile = assemble(
        results, sql=sql, dialect=dialect, mode=mode, concurrency=concurrency, wall_s=wall
    )
    profile.interrupted = profile.interrupted or interrupted
    return profile


def _check_effects(executor: Executor, info: StatementInfo, *, allow_writes: bool) -> None:
    """What the text does not show, checked in the server's catalogue as for any statement: a
    function or trigger whose effect survives a rollback (profiling would repeat it), and for a
    write, whatever else a rollback cannot undo."""
    read_only = not (info.is_write or allow_writes)
    with executor.transaction(allow_writes=allow_writes, read_only=read_only) as tx:
        executor.check_effects(info, tx.dbapi, allow_writes=allow_writes, read_only=read_only)


def _unreachable(executor: Executor, reason: str) -> ConnectionFailedError:
    return ConnectionFailedError(
        f"the profile measured nothing: the connection to the database failed "
        f"({executor.scrub(reason)})",
        hint="check that the server is running and accepts connections, then profile again "
        "(the session reconnects by itself)",
    )


def _pgbench(
    executor: Executor,
    sql: str,
    source: ParamSource,
    concurrency: int,
    runs: int,
    duration: float | None,
    warmup: int,
    timeout_s: float,
    write: bool,
    stop: Callable[[], bool] | None,
    *,
    stop_at_error: bool,
) -> PgbenchRun:
    """A pgbench load; resumed by a new pgbench run when its clients lost their connections
    (pgbench stops such a client for good) and the server accepts connections again."""
    bench = functools.partial(
        run_for_profile,
        executor,
        sql,
        source,
        concurrency,
        timeout_s=timeout_s,
        write=write,
        stop=stop,
        stop_at_error=stop_at_error,
    )
    started = time.time()
    run = last = bench(runs=runs, duration=duration, warmup=warmup)
    resumes = 0
    while last.errors and all(lost_connection(message) for _c, message in last.errors):
        left_runs, left_s = _left(run, runs, duration, started)
        note = _resume_refused(
            executor, run, left_runs if left_s is None else left_s, resumes, stop
        )
        if note:
            run.notes.append(note)
            break
        try:
            last = bench(runs=max(left_runs, 1), duration=left_s, warmup=0)
        except ConnectionFailedError as exc:
            run.notes.append(f"pgbench could not reconnect ({exc.message}): {_KEPT}")
            break
        run, resumes = _joined(run, last), resumes + 1
    if not run.latency_ns.size and run.errors and lost_connection(run.errors[0][1]):
        raise _unreachable(executor, run.errors[0][1])
    if resumes:
        run.notes.append(
            "pgbench stops a client for good when its connection is lost: the load was resumed "
            "by a new pgbench run once the server accepted connections again (the stopped "
            'clients are recorded as "connection lost" errors, without a time: pgbench logs none)'
        )
    return run


_KEPT = "the profile keeps what pgbench logged until then"


def _left(
    run: PgbenchRun, runs: int, duration: float | None, started: float
) -> tuple[int, float | None]:
    """The runs and the seconds (``None``: a run count was asked) a load still has to go."""
    done = int(run.latency_ns.size + run.failed_end_ns.size + len(run.errors))
    if duration is None:
        return runs - done, None
    origin = run.start_ns.min() / 1e9 if run.start_ns.size else started  # the log's epoch
    return runs - done, duration - (time.time() - origin)


def _resume_refused(
    executor: Executor,
    run: PgbenchRun,
    left: float,
    resumes: int,
    stop: Callable[[], bool] | None,
) -> str:
    """Why a pgbench load that lost its connections is not resumed ("" when it is, once the
    server accepts connections again). ``left``: the runs or seconds still to go."""
    if run.interrupted or left < 1:
        return f"pgbench's connections were lost as the run ended (or was stopped): {_KEPT}"
    if resumes >= MAX_RECONNECTS:
        return f"pgbench's connections were lost {resumes + 1} times: {_KEPT}"
    recipe = ConnectionRecipe.for_engine(
        executor.engine, "postgresql", read_only=True, timeout_s=10.0
    )
    window = workers.RECONNECT_WINDOW_S
    conn, reason = reopen(recipe.open, window_s=window, give_up=stop)
    if conn is None:
        return (
            f"pgbench's connections were lost and the server did not accept connections again "
            f"within {window:g} s ({reason}): {_KEPT}"
        )
    conn.close()
    return ""


def _joined(first: PgbenchRun, then: PgbenchRun) -> PgbenchRun:
    """Two pgbench runs of one load, as one (the first one's stopped clients stopped as its log
    ended)."""
    end = first.end_ns() or (int(then.start_ns.min()) if then.start_ns.size else 0)
    missing = len(first.errors) - len(first.stopped_ns)
    stopped = first.stopped_ns + ([end] * missing if end else [])
    return replace(
        then,
        client=np.concatenate([first.client, then.client]),
        start_ns=np.concatenate([first.start_ns, then.start_ns]),
        latency_ns=np.concatenate([first.latency_ns, then.latency_ns]),
        errors=first.errors + then.errors,
        wall_s=first.wall_s + then.wall_s,
        stderr=first.stderr + then.stderr,
        failed_client=np.concatenate([first.failed_client, then.failed_client]),
        failed_end_ns=np.concatenate([first.failed_end_ns, then.failed_end_ns]),
        notes=first.notes + then.notes,
        stopped_ns=stopped + then.stopped_ns,
    )


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
