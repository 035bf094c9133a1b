"""``s.profile()`` and ``s.sweep()``: choosing how to run, running, building the :class:`Profile`.

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
=============================  =========================================================

The guard runs first: one statement, a write only with ``allow_writes=True`` (each execution
then runs in BEGIN ... ROLLBACK, outside the timed region), nothing rollback cannot undo.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench import guard
from workbench.errors import ConfigurationError, UnsafeStatementError
from workbench.profiling.connections import ConnectionRecipe, DeadlineMonitor
from workbench.profiling.loop import LoopResult
from workbench.profiling.params import POOL_SIZE, ParamSource
from workbench.profiling.result import Profile
from workbench.profiling.workers import Job, run_job

if TYPE_CHECKING:
    from workbench.profiling.pgbench import PgbenchRun
    from workbench.session import Session

__all__ = ["profile_callable", "profile_statement"]


def profile_statement(
    session: Session,
    sql: str,
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
    """Measure ``sql``; see :meth:`workbench.Session.profile`."""
    _check(runs, warmup, concurrency, duration, engine)
    executor = session.executor
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
    timeout_s = float(timeout or session.timeout)
    source = ParamSource(params)
    load = concurrency > 1 or duration is not None
    mode = _choose_mode(session, dialect, load, concurrency, source, info.is_write, engine)
    started_at = datetime.now()
    profile: Profile | None = None
    fallback = None
    if mode == "pgbench":
        run = _run_pgbench(
            session,
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
            fallback = _fallback_note(run.errors)
        else:
            profile = run.to_profile(info.sql, concurrency, runs if duration is None else None)
    if profile is None:
        profile = _run_workers(
            session,
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
    session: Session,
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
    executor = session.executor
    dialect = executor.dialect.name
    count = runs if duration is None else POOL_SIZE
    values = source.values(min(count, POOL_SIZE)) if source.named else None
    statement, args = _bind_all(executor, sql, values)
    recipe = ConnectionRecipe.for_engine(
        session.engine, dialect, read_only=not write, timeout_s=timeout_s
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
    results, wall, interrupted = _execute(session, mode, jobs, runs, duration, progress, stop)
    profile = _assemble(
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
    session: Session,
    dialect: str,
    load: bool,
    concurrency: int,
    source: ParamSource,
    write: bool,
    engine: str,
) -> str:
    from workbench.profiling.pgbench import find_pgbench

    memory = _in_memory(session)
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


def _in_memory(session: Session) -> bool:
    database = session.engine.url.database
    return session.dialect in ("sqlite", "duckdb") and database in (None, "", ":memory:")


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


# -- execution modes ----------------------------------------------------------------------------
def _execute(
    session: Session,
    mode: str,
    jobs: list[Job],
    runs: int,
    duration: float | None,
    progress: bool | None,
    stop: Callable[[], bool] | None,
) -> tuple[list[LoopResult], float, bool]:
    total = runs if duration is None else None
    bar = _progress_bar(progress, total, duration, jobs)
    try:
        if mode == "in-process":
            return _in_process(session, jobs[0], bar, stop)
        if mode == "threads":
            return _threads(session, jobs, bar, stop)
        return _processes(jobs, bar, stop)
    finally:
        if bar is not None:
            bar.close()


def _progress_bar(
    progress: bool | None, total: int | None, duration: float | None, jobs: list[Job]
) -> Any:
    if progress is False:
        return None
    from tqdm.auto import tqdm

    # shown only once a run has lasted a moment: quick profiles stay quiet
    return tqdm(total=total, desc="profiling", unit="run", leave=False, delay=1.0)


def _connection_for(session: Session, job: Job) -> Callable[[], Any]:
    """A dedicated connection, except for in-memory databases, which only the session's own
    connection can see."""
    dialect = session.dialect
    if dialect == "duckdb":

        def duplicate() -> Any:  # a fresh DuckDB connection to the same database instance
            with session.executor.connection() as dbapi:
                return dbapi.duplicate()

        return duplicate
    if _in_memory(session):
        return lambda: _Borrowed(session, job.recipe)
    return lambda: session.warm_connections.acquire(job.recipe)


class _Borrowed:
    """The session's own SQLite connection (an in-memory database), configured for the run and
    restored after: ``close()`` resets it instead of closing it."""

    def __init__(self, session: Session, recipe: ConnectionRecipe) -> None:
        self._context = session.executor.connection()
        self._conn = self._context.__enter__()
        if self._conn.in_transaction:
            self._conn.rollback()
        self._saved = self._conn.isolation_level
        self._conn.isolation_level = None
        for statement in recipe.setup:
            self._conn.execute(statement)

    def cursor(self) -> Any:
        return self._conn.cursor()

    def interrupt(self) -> None:
        self._conn.interrupt()

    def close(self) -> None:
        self._conn.execute("PRAGMA query_only = OFF")
        self._conn.isolation_level = self._saved
        self._context.__exit__(None, None, None)


def _in_process(
    session: Session, job: Job, bar: Any, stop: Callable[[], bool] | None
) -> tuple[list[LoopResult], float, bool]:
    monitor = (
        DeadlineMonitor(job.recipe.timeout_s).start()
        if session.dialect in ("sqlite", "duckdb")
        else None
    )
    done = [0]

    def tick(count: int) -> None:
        if bar is not None:
            bar.update(count - done[0])
        done[0] = count

    started = [0.0]
    try:
        result = run_job(
            job,
            connect=_connection_for(session, job),
            ready=lambda: started.__setitem__(0, time.perf_counter()),
            should_stop=stop,
            progress=tick,
            monitor=monitor,
            watch_stop=True,
        )
    finally:
        if monitor is not None:
            monitor.stop()
    return [result], time.perf_counter() - started[0], result.interrupted


def _threads(
    session: Session, jobs: list[Job], bar: Any, stop: Callable[[], bool] | None
) -> tuple[list[LoopResult], float, bool]:
    monitor = DeadlineMonitor(jobs[0].recipe.timeout_s).start()
    barrier = threading.Barrier(len(jobs) + 1)
    halt = threading.Event()
    results: list[LoopResult | None] = [None] * len(jobs)
    failures: list[BaseException] = []
    lock = threading.Lock()
    counts = [0] * len(jobs)

    def work(job: Job) -> None:
        def tick(count: int) -> None:
            with lock:
                if bar is not None:
                    bar.update(count - counts[job.worker])
                counts[job.worker] = count

        try:
            results[job.worker] = run_job(
                job,
                connect=_connection_for(session, job),
                ready=lambda: barrier.wait(120),
                should_stop=lambda: halt.is_set() or bool(stop and stop()),
                progress=tick,
                monitor=monitor,
                watch_stop=True,
            )
        except BaseException as exc:  # report in the caller's thread
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(job,), daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    interrupted = False
    try:
        barrier.wait(120)
        started = time.perf_counter()
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(timeout=0.1)
    except KeyboardInterrupt:
        interrupted = True
        halt.set()
        for thread in threads:
            thread.join(timeout=30)
        started = started if "started" in locals() else time.perf_counter()
    except threading.BrokenBarrierError:
        started = time.perf_counter()
    finally:
        monitor.stop()
    if failures:
        raise ConfigurationError(f"a profiling thread failed: {failures[0]}") from failures[0]
    return [r for r in results if r is not None], time.perf_counter() - started, interrupted


def _processes(
    jobs: list[Job], bar: Any, stop: Callable[[], bool] | None
) -> tuple[list[LoopResult], float, bool]:
    """Worker processes (``python -m workbench.profiling.workers``), started together."""
    import pickle
    import selectors
    import signal
    import subprocess
    import sys

    import workbench

    # the workers import the same workbench as this process, wherever it was imported from
    env = dict(os.environ)
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(workbench.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([package_root, env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    procs = []
    for job in jobs:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.profiling.workers"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        data = pickle.dumps(job)
        assert proc.stdin is not None
        proc.stdin.write(f"{len(data)}\n".encode() + data)
        proc.stdin.flush()
        procs.append(proc)
    payloads: list[dict[str, Any] | None] = [None] * len(jobs)
    done = [0] * len(jobs)
    interrupted = False
    started = time.perf_counter()

    def stop_all() -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGUSR1)

    try:
        for proc in procs:  # wait until every worker is connected and warm
            assert proc.stdout is not None
            proc.stdout.readline()
        for proc in procs:
            assert proc.stdin is not None
            try:
                proc.stdin.write(b"G\n")
                proc.stdin.flush()
            except BrokenPipeError:  # that worker failed to start: its report follows
                pass
        started = time.perf_counter()
        selector = selectors.DefaultSelector()
        for i, proc in enumerate(procs):
            assert proc.stdout is not None
            selector.register(proc.stdout, selectors.EVENT_READ, i)
        pending = len(procs)
        while pending:
            if stop is not None and not interrupted and stop():
                interrupted = True
                stop_all()
            for key, _mask in selector.select(timeout=0.1):
                i = key.data
                line = key.fileobj.readline()  # type: ignore[union-attr]
                if line.startswith(b"P "):
                    count = int(line.split()[1])
                    if bar is not None:
                        bar.update(count - done[i])
                    done[i] = count
                elif line.startswith(b"D "):
                    size = int(line.split()[1])
                    payloads[i] = pickle.loads(key.fileobj.read(size))  # type: ignore[union-attr]  # noqa: S301
                    selector.unregister(key.fileobj)
                    pending -= 1
                elif not line:  # the worker died without a report
                    payloads[i] = {"ok": False, "error": "worker process exited"}
                    selector.unregister(key.fileobj)
                    pending -= 1
    except KeyboardInterrupt:
        interrupted = True
        stop_all()
        for i, proc in enumerate(procs):
            if payloads[i] is None:
                payloads[i] = _drain(proc)
    wall = time.perf_counter() - started
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    failed = [p for p in payloads if p is not None and not p["ok"]]
    if failed and not any(p and p["ok"] for p in payloads):
        raise ConfigurationError(f"the profiling workers failed: {failed[0]['error']}")
    results = [LoopResult.from_payload(p["result"]) for p in payloads if p is not None and p["ok"]]
    return results, wall, interrupted


def _drain(proc: Any) -> dict[str, Any]:
    """Read a stopping worker's report (it finishes its current execution first)."""
    import pickle

    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith(b"D "):
            report = proc.stdout.read(int(line.split()[1]))
            return pickle.loads(report)  # type: ignore[no-any-return]  # noqa: S301 - our worker
    return {"ok": False, "error": "worker process exited"}


def _assemble(
    results: list[LoopResult], *, sql: str, dialect: str, mode: str, concurrency: int, wall_s: float
) -> Profile:
    messages: list[str] = []
    starts, latencies, rows, workers, errors = [], [], [], [], []
    for worker, result in enumerate(results):
        remap = np.array([_index(messages, m) for m in result.messages] or [0], dtype=np.int16)
        err = (
            np.frombuffer(result.errors, dtype=np.int16)
            if result.errors
            else np.empty(0, dtype=np.int16)
        )
        starts.append(np.frombuffer(result.starts, dtype=np.int64))
        latencies.append(np.frombuffer(result.latencies, dtype=np.int64))
        rows.append(
            np.frombuffer(result.rows, dtype=np.dtype(result.rows.typecode)).astype(np.int64)
        )
        workers.append(np.full(len(result.latencies), worker, dtype=np.int16))
        errors.append(np.where(err >= 0, remap[np.maximum(err, 0)], -1).astype(np.int16))
    start_ns = np.concatenate(starts) if starts else np.empty(0, dtype=np.int64)
    order = np.argsort(start_ns, kind="stable")
    origin = start_ns.min() if start_ns.size else 0
    profile = Profile(
        sql=sql,
        dialect=dialect,
        mode=mode,
        concurrency=concurrency,
        start_ms=((start_ns - origin) / 1e6)[order],
        all_latencies_ms=(np.concatenate(latencies) / 1e6)[order] if latencies else np.empty(0),
        rows=np.concatenate(rows)[order] if rows else np.empty(0, dtype=np.int64),
        worker=np.concatenate(workers)[order] if workers else np.empty(0, dtype=np.int16),
        error=np.concatenate(errors)[order] if errors else np.empty(0, dtype=np.int16),
        messages=messages,
        wall_s=wall_s,
        interrupted=any(r.interrupted for r in results),
    )
    return profile


def _index(messages: list[str], message: str) -> int:
    if message not in messages:
        messages.append(message)
    return messages.index(message)


def _run_pgbench(
    session: Session,
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
    from workbench.profiling.pgbench import run_pgbench

    spec = source.pgbench()
    assert spec is not None
    set_lines, defines = spec
    return run_pgbench(
        url=session.engine.url,
        sql=sql,
        set_lines=set_lines,
        defines=defines,
        clients=concurrency,
        runs_per_client=None if duration is not None else max(1, math.ceil(runs / concurrency)),
        duration_s=duration,
        warmup_per_client=max(0, warmup // concurrency),
        timeout_s=timeout_s,
        read_only=not write,
        should_stop=stop,
        stop_at_error=stop_at_error,
        cancel=lambda application: _cancel_backends(session, application),
    )


def _fallback_note(errors: list[tuple[int, str]]) -> str:
    first = errors[0][1] if errors else "an error"
    return (
        f"run with worker processes: pgbench stops a client at its first error ({first}), "
        "the workers record each failed execution and go on"
    )


def _cancel_backends(session: Session, application_name: str) -> None:
    """Cancel what a stopped pgbench's server sessions still run (they end with it)."""
    recipe = ConnectionRecipe.for_engine(
        session.engine, "postgresql", read_only=True, timeout_s=10.0
    )
    # best effort: the statement timeout ends them anyway
    with contextlib.suppress(Exception):
        conn = recipe.open()
        try:
            conn.execute(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                [application_name],
            )
        finally:
            conn.close()


def profile_callable(
    session: Session,
    fn: Callable[[], Any],
    *,
    runs: int = 20,
    warmup: int = 2,
    label: str | None = None,
    progress: bool | None = None,
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
    bar = _progress_bar(progress, runs, None, []) if runs >= 50 else None
    interrupted = False
    try:
        for _ in range(runs):
            with session.capture(stack=False) as cap:
                t0 = time.perf_counter_ns()
                error = -1
                try:
                    fn()
                except Exception as exc:  # recorded, like a failed statement
                    error = _index(messages, f"{type(exc).__name__}: {exc}"[:300])
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
        dialect=session.dialect,
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


def cpu_count() -> int:
    return os.cpu_count() or 1
