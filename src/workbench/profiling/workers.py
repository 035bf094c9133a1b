"""Running the timed loop on one connection, in this process, a worker process or a thread.

Worker processes are started with ``spawn`` (safe in a Jupyter kernel, which has threads) and
import only this module, the loop and the driver. Every worker connects and warms up, then all
wait at a barrier so the measured part starts together; each sends back its samples as bytes.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from workbench.connections import ConnectionRecipe, DeadlineMonitor, reopen
from workbench.profiling.loop import LoopResult, describe_error, run_loop

__all__ = ["Job", "run_job", "worker_main"]

#: reconnections per connection and run: a server that keeps dropping us is not measurable
MAX_RECONNECTS = 5
#: how long a worker waits for the server to accept connections again (a restart takes seconds)
RECONNECT_WINDOW_S = 10.0

RECONNECTED = (
    "the connection was lost and reopened: the run went on (the executions that failed are "
    'recorded as "connection lost" errors)'
)
ENDED = "the connection was lost as the run ended (or was stopped)"
WRITE_LOST = (
    "the connection was lost during a write: a write is never retried, so the profile stopped "
    "with what it had measured (nothing was committed: the server rolls back the open "
    "transaction of a lost connection)"
)


@dataclass
class Job:
    """What one worker runs (picklable)."""

    recipe: ConnectionRecipe
    statement: str
    args: list[Any] | None  # driver-ready argument sets, used in turn
    runs: int | None
    duration_s: float | None
    warmup: int
    write: bool
    fetch_rows: bool
    worker: int = 0


def run_job(
    job: Job,
    *,
    connect: Any = None,
    ready: Any = None,
    should_stop: Any = None,
    progress: Any = None,
    monitor: DeadlineMonitor | None = None,
    watch_stop: bool = False,
) -> LoopResult:
    """Connect (or use ``connect()``), warm up, wait at ``ready``, run, close.

    With ``watch_stop``, a thread polls ``should_stop`` and cancels the statement in flight.

    A lost connection never raises: the failed execution is recorded ("connection lost: ..."),
    a read reconnects (waiting up to :data:`RECONNECT_WINDOW_S` for the server) and goes on, a
    write stops (it is never retried). When no connection can be had, the result keeps what
    was measured and says why in ``lost`` and ``notes``.
    """
    opener = connect or job.recipe.open
    result = LoopResult()
    try:
        conn = opener()
    except Exception as exc:  # the server is down or refuses us: nothing to measure here
        reason = describe_error(exc)
        result.lost = f"could not connect: {reason}"
        result.notes.append(f"a connection could not be opened ({reason})")
        if ready is not None:
            ready()  # the others must not wait for this worker
        return result
    watcher = _StopWatcher(should_stop, job.recipe) if should_stop and watch_stop else None
    try:
        if watcher is not None:
            watcher.watch(conn)
        cur, hooks = _prepare(conn, job, monitor)
        if job.warmup and _warm_up(cur, job, hooks, should_stop):
            result.interrupted = True
            return result
        if ready is not None:
            ready()
        deadline = (
            time.perf_counter_ns() + int(job.duration_s * 1e9)
            if job.duration_s is not None
            else None
        )

        def give_up() -> bool:
            past = deadline is not None and time.perf_counter_ns() >= deadline
            return past or bool(should_stop and should_stop())

        reconnects = 0
        while True:
            remaining = None if job.runs is None else job.runs - len(result.latencies)
            if remaining is not None and remaining <= 0:
                break
            faults = _Faults(conn, job.recipe, result)
            done = len(result.latencies)
            run_loop(
                cur,
                job.statement,
                job.args,
                runs=remaining,
                deadline_ns=deadline,
                prepare=job.recipe.prepare,
                fetch_rows=job.fetch_rows,
                on_error=faults.judge,
                should_stop=should_stop,
                progress=_counted_from(done, progress),
                result=result,
                **hooks,
            )
            if not faults.lost or result.interrupted:
                break
            refusal = _no_reconnect(job, reconnects, give_up())
            if refusal:
                result.lost = faults.lost
                result.notes.append(refusal)
                break
            _close(conn)
            conn, reason = reopen(opener, window_s=RECONNECT_WINDOW_S, give_up=give_up)
            if conn is None:
                result.lost = faults.lost
                result.notes.append(
                    ENDED
                    if give_up()
                    else "the connection was lost and could not be reopened within "
                    f"{RECONNECT_WINDOW_S:g} s ({reason}): the profile stopped with what it "
                    "had measured"
                )
                break
            reconnects += 1
            if watcher is not None:
                watcher.watch(conn)
            cur, hooks = _prepare(conn, job, monitor)
        if reconnects:
            result.notes.append(RECONNECTED)
    finally:
        if watcher is not None:
            watcher.done()
        if conn is not None:
            _close(conn)
    return result


def _warm_up(cur: Any, job: Job, hooks: dict[str, Any], should_stop: Any) -> bool:
    """Run the warm-up executions; True when a stop came meanwhile. It ends at the first error:
    the measured run records them anyway (and reconnects when the connection is gone)."""
    warm = run_loop(
        cur,
        job.statement,
        job.args,
        runs=job.warmup,
        deadline_ns=None,
        prepare=job.recipe.prepare,
        fetch_rows=job.fetch_rows,
        on_error=lambda exc: (describe_error(exc), False),
        should_stop=should_stop,
        **hooks,
    )
    return warm.interrupted


def _counted_from(done: int, progress: Any) -> Any:
    """The progress callback of a loop that goes on after ``done`` executions (it counts from
    0 again)."""
    if progress is None or not done:
        return progress
    return lambda count: progress(done + count)


def _no_reconnect(job: Job, reconnects: int, past: bool) -> str:
    """Why a lost connection ends this worker's run ("" when it may reconnect)."""
    if job.write:
        return WRITE_LOST
    if reconnects >= MAX_RECONNECTS:
        return (
            f"the connection was lost {reconnects + 1} times: the profile stopped with what it "
            "had measured"
        )
    return ENDED if past else ""


class _Faults:
    """Judges the failed executions on one connection: the text recorded, and whether the loop
    goes on (not when the connection itself is gone)."""

    def __init__(self, conn: Any, recipe: ConnectionRecipe, result: LoopResult) -> None:
        self._conn, self._recipe, self._result = conn, recipe, result
        self.lost = ""  # the driver's reason, once the connection is gone

    def judge(self, exc: BaseException) -> tuple[str, bool]:
        text = describe_error(exc)
        if self._recipe.lost(self._conn, exc):
            self.lost = text
            return f"connection lost: {text}"[:300], False
        annotated, hint = self._recipe.annotate(exc, text)
        if hint and hint not in self._result.notes:
            self._result.notes.append(hint)
        return annotated[:300], True


class _StopWatcher:
    """Cancels the statement in flight when ``should_stop`` turns true, so a Stop does not wait
    for a slow statement to finish (the loop then sees the flag and ends)."""

    def __init__(self, should_stop: Any, recipe: ConnectionRecipe) -> None:
        self._should_stop, self._recipe = should_stop, recipe
        self._conn: Any = None
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name="workbench-stop", daemon=True)
        self._thread.start()

    def watch(self, conn: Any) -> None:
        self._conn = conn

    def done(self) -> None:
        self._finished.set()

    def _run(self) -> None:
        while not self._finished.wait(0.1):
            if self._should_stop():
                # again every half second: a cancel landing between two statements is lost
                with contextlib.suppress(Exception):
                    cancel_statement(self._conn, self._recipe)
                self._finished.wait(0.4)


def cancel_statement(conn: Any, recipe: ConnectionRecipe) -> None:
    """Cancel what ``conn`` is running, from another thread, in the driver's own way."""
    conn = getattr(conn, "conn", conn)  # a pooled lease
    if hasattr(conn, "cancel_safe"):  # psycopg 3.2+
        conn.cancel_safe(timeout=5)
    elif hasattr(conn, "pgconn"):  # older psycopg 3
        conn.cancel()
    elif hasattr(conn, "interrupt"):  # sqlite3, duckdb
        conn.interrupt()
    elif hasattr(conn, "thread_id"):  # PyMySQL: KILL QUERY from a second connection
        killer = recipe.open()
        try:
            with killer.cursor() as cur:
                cur.execute(f"KILL QUERY {int(conn.thread_id())}")
        finally:
            killer.close()


def _prepare(conn: Any, job: Job, monitor: DeadlineMonitor | None) -> tuple[Any, dict[str, Any]]:
    cur = conn.cursor()
    hooks: dict[str, Any] = {}
    arm = disarm = None
    if monitor is not None:
        arm, disarm = monitor.register(conn)
        hooks["arm"] = arm
    if job.write:
        begin = job.recipe.begin
        execute = cur.execute
        hooks["before"] = lambda: execute(begin)

        def after() -> None:
            if disarm is not None:
                disarm()
            # the failed statement may have ended the transaction already
            with contextlib.suppress(Exception):
                execute("ROLLBACK")

        hooks["after"] = after
    elif disarm is not None:
        hooks["after"] = disarm
    return cur, hooks


def _close(conn: Any) -> None:
    # closing a broken connection can fail: it is gone either way
    with contextlib.suppress(Exception):
        conn.close()


# -- worker processes --------------------------------------------------------------------------
# A worker is ``python -m workbench.profiling.workers``: no multiprocessing, so nothing of the
# notebook's (or a script's) ``__main__`` is re-imported. The protocol, on the worker's stdin
# and stdout: the parent writes one pickled Job; the worker connects, warms up and writes
# ``R``; the parent writes ``G`` to all at once; the worker writes ``P <count>`` progress
# lines, then ``D <size>`` and its pickled result. SIGUSR1 asks it to stop early.


def worker_main() -> None:
    """Entry point of a worker process."""
    import pickle
    import sys

    stop = [False]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGUSR1, lambda *_: stop.__setitem__(0, True))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    size = int(stdin.readline())
    job: Job = pickle.loads(stdin.read(size))  # noqa: S301 - sent by our own parent process
    last = [0.0]

    def ready() -> None:
        stdout.write(b"R\n")
        stdout.flush()
        stdin.readline()  # "G": everyone starts together

    def progress(done: int) -> None:
        now = time.monotonic()
        if now - last[0] > 0.2:
            last[0] = now
            stdout.write(f"P {done}\n".encode())
            stdout.flush()

    try:
        result = run_job(job, ready=ready, should_stop=lambda: stop[0], progress=progress)
        payload = pickle.dumps({"ok": True, "result": result.to_payload()})
    except BaseException as exc:  # report to the parent, never hang it
        payload = pickle.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        stdout.write(b"R\n")  # release a parent waiting for readiness
    stdout.write(f"D {len(payload)}\n".encode())
    stdout.write(payload)
    stdout.flush()


if __name__ == "__main__":
    worker_main()
