"""Running the timed loops: in this process, in threads, or in worker processes started
together, with a progress bar; then one :class:`Profile` from what every loop measured."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.connections import ConnectionRecipe, DeadlineMonitor
from workbench.errors import ConfigurationError
from workbench.profiling.loop import LoopResult
from workbench.profiling.result import Profile
from workbench.profiling.workers import Job, run_job

if TYPE_CHECKING:
    from workbench.execution import Executor

__all__ = ["Progress", "assemble", "execute", "message_index", "progress_bar", "unreachable"]

# the folder the workbench package was imported from (this module is workbench/profiling/)
_IMPORT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def execute(
    executor: Executor,
    mode: str,
    jobs: list[Job],
    runs: int,
    duration: float | None,
    progress: Progress,
    stop: Callable[[], bool] | None,
) -> tuple[list[LoopResult], float, bool]:
    total = runs if duration is None else None
    bar = progress_bar(progress, total, duration, jobs)
    try:
        if mode == "in-process":
            return _in_process(executor, jobs[0], bar, stop)
        if mode == "threads":
            return _threads(executor, jobs, bar, stop)
        return _processes(jobs, bar, stop)
    finally:
        if bar is not None:
            bar.close()


#: how a profile reports its progress: a tqdm bar (``None``: once a run lasts a moment),
#: nothing (``False``), or a callable told ``(runs done, runs planned or None)``
Progress = bool | None | Callable[[int, int | None], None]


def progress_bar(
    progress: Progress, total: int | None, duration: float | None, jobs: list[Job]
) -> Any:
    if progress is False:
        return None
    if callable(progress):
        return _Reporter(progress, total)
    from tqdm.auto import tqdm

    # shown only once a run has lasted a moment: quick profiles stay quiet
    return tqdm(total=total, desc="profiling", unit="run", leave=False, delay=1.0)


class _Reporter:
    """A progress "bar" that tells a callable (a panel showing runs done and elapsed time)."""

    def __init__(self, report: Callable[[int, int | None], None], total: int | None) -> None:
        self._report, self._total, self._done = report, total, 0

    def update(self, count: int) -> None:
        self._done += count
        self._report(self._done, self._total)

    def close(self) -> None:
        self._report(self._done, self._total)


class _Openers:
    """Where a run's connections come from, and what is given back when it ends.

    The one connection of an in-process profile is the session's warm one; a load run opens
    its own, which each worker closes when it ends (nothing stays open after the run). An
    in-memory SQLite database is seen only by the session's own connection. DuckDB's are
    duplicates of one pooled connection, held for the whole run: each worker gets its own
    (DuckDB refuses a second call on a busy connection, and closing a pooled connection closes
    its duplicates, so it must not go back to the pool before they are done).
    """

    def __init__(self, executor: Executor, mode: str) -> None:
        self._executor = executor
        self._warm = mode == "in-process"
        self._lock = threading.Lock()
        self._context: Any = None
        self._base: Any = None

    def __call__(self, job: Job) -> Callable[[], Any]:
        executor = self._executor
        if executor.dialect.name == "duckdb":
            return self._duplicate
        if executor.in_memory:
            return lambda: _Borrowed(executor, job.recipe)
        if self._warm:
            return lambda: executor.warm_connections.acquire(job.recipe)
        return job.recipe.open

    def _duplicate(self) -> Any:
        with self._lock:  # one call at a time on the pooled connection
            if self._base is None:
                self._context = self._executor.connection()
                self._base = self._context.__enter__()
            return self._base.duplicate()

    def close(self) -> None:
        if self._context is not None:
            self._context.__exit__(None, None, None)
            self._context = self._base = None


class _Borrowed:
    """The session's own SQLite connection (an in-memory database), configured for the run and
    restored after: ``close()`` resets it instead of closing it."""

    def __init__(self, executor: Executor, recipe: ConnectionRecipe) -> None:
        self._context = executor.connection()
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
    executor: Executor, job: Job, bar: Any, stop: Callable[[], bool] | None
) -> tuple[list[LoopResult], float, bool]:
    monitor = (
        DeadlineMonitor(job.recipe.timeout_s).start()
        if executor.dialect.name in ("sqlite", "duckdb")
        else None
    )
    done = [0]

    def tick(count: int) -> None:
        if bar is not None:
            bar.update(count - done[0])
        done[0] = count

    started = [0.0]
    openers = _Openers(executor, "in-process")
    try:
        result = run_job(
            job,
            connect=openers(job),
            ready=lambda: started.__setitem__(0, time.perf_counter()),
            should_stop=stop,
            progress=tick,
            monitor=monitor,
            watch_stop=True,
        )
    finally:
        openers.close()
        if monitor is not None:
            monitor.stop()
    return [result], time.perf_counter() - started[0], result.interrupted


def _threads(
    executor: Executor, jobs: list[Job], bar: Any, stop: Callable[[], bool] | None
) -> tuple[list[LoopResult], float, bool]:
    monitor = DeadlineMonitor(jobs[0].recipe.timeout_s).start()
    barrier = threading.Barrier(len(jobs) + 1)
    halt = threading.Event()
    results: list[LoopResult | None] = [None] * len(jobs)
    failures: list[BaseException] = []
    lock = threading.Lock()
    counts = [0] * len(jobs)
    openers = _Openers(executor, "threads")

    def work(job: Job) -> None:
        def tick(count: int) -> None:
            with lock:
                if bar is not None:
                    bar.update(count - counts[job.worker])
                counts[job.worker] = count

        try:
            results[job.worker] = run_job(
                job,
                connect=openers(job),
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
        openers.close()
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

    # the workers import the same workbench as this process, wherever it was imported from
    env = dict(os.environ)
    package_root = _IMPORT_ROOT
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


def _joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    """The workers' arrays as one (the only one as it is)."""
    if not parts:
        return np.empty(0, dtype=dtype)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def assemble(
    results: list[LoopResult], *, sql: str, dialect: str, mode: str, concurrency: int, wall_s: float
) -> Profile:
    messages: list[str] = []
    starts, latencies, rows, workers, errors = [], [], [], [], []
    for worker, result in enumerate(results):
        remap = np.array(
            [message_index(messages, m) for m in result.messages] or [0], dtype=np.int16
        )
        err = (
            np.frombuffer(result.errors, dtype=np.int16)
            if result.errors
            else np.empty(0, dtype=np.int16)
        )
        starts.append(np.frombuffer(result.starts, dtype=np.int64))
        latencies.append(np.frombuffer(result.latencies, dtype=np.int64))
        rows.append(
            np.frombuffer(result.rows, dtype=np.dtype(result.rows.typecode)).astype(
                np.int64, copy=False
            )
        )
        workers.append(np.full(len(result.latencies), worker, dtype=np.int16))
        errors.append(np.where(err >= 0, remap[np.maximum(err, 0)], -1).astype(np.int16))
    # a million executions are tens of megabytes per column: no copy that is not needed (one
    # worker's runs are in time order already), arithmetic in place
    start_ns = _joined(starts, np.int64)
    order = np.argsort(start_ns, kind="stable") if len(results) > 1 else None
    origin = start_ns.min() if start_ns.size else 0
    start_ms = start_ns.astype(np.float64)
    start_ms -= origin
    start_ms /= 1e6
    latency_ms = _joined(latencies, np.int64).astype(np.float64)
    latency_ms /= 1e6

    def ordered(values: np.ndarray) -> np.ndarray:
        return values if order is None else values[order]

    profile = Profile(
        sql=sql,
        dialect=dialect,
        mode=mode,
        concurrency=concurrency,
        start_ms=ordered(start_ms),
        all_latencies_ms=ordered(latency_ms),
        rows=ordered(_joined(rows, np.int64)),
        worker=ordered(_joined(workers, np.int16)),
        error=ordered(_joined(errors, np.int16)),
        messages=messages,
        wall_s=wall_s,
        interrupted=any(r.interrupted for r in results),
        notes=_notes(results),
    )
    return profile


def _notes(results: list[LoopResult]) -> list[str]:
    """Each worker's notes once, saying on how many of the connections it happened."""
    counts: dict[str, int] = {}
    for result in results:
        for note in dict.fromkeys(result.notes):
            counts[note] = counts.get(note, 0) + 1
    if len(results) < 2:
        return list(counts)
    return [f"{note} [{count} of {len(results)} connections]" for note, count in counts.items()]


def unreachable(results: list[LoopResult]) -> str:
    """Why the run had no connection to measure on, when not a single execution succeeded
    ("" otherwise: a profile of what was measured is worth more than an error)."""
    if any(min(result.errors, default=0) < 0 for result in results):
        return ""
    return next((result.lost for result in results if result.lost), "")


def message_index(messages: list[str], message: str) -> int:
    if message not in messages:
        messages.append(message)
    return messages.index(message)
