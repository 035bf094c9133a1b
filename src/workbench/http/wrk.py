"""HTTP load through ``wrk``: a C load generator, driven with a script that logs every request.

A load generator in Python spends tens of microseconds of CPU per request, which on a small
machine is CPU the service needs: it would measure itself. wrk (the Debian package ``wrk``)
is the standard tool, as pgbench is for PostgreSQL statements. The workbench runs it with
one connection per thread and ``wrk_log.lua`` (beside this module), which times each request
on the monotonic clock and writes ``start latency status`` per request when the run ends;
the log becomes a :class:`~workbench.profiling.result.Profile` as pgbench's does.

The request (headers with their secrets, the body) travels in a file of a private temporary
folder, never on the command line; wrk is given ``scheme://host:port/`` only. A run of a
number of requests ends when every thread has sent its share (the script marks it in its
progress file) and wrk is stopped with SIGINT; a run of a duration ends with wrk's ``-d``.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import numpy as np

from workbench.errors import ConfigurationError
from workbench.http.samples import Samples
from workbench.profiling.modes import Progress, progress_bar

if TYPE_CHECKING:
    from workbench.http.request import HttpRequest

__all__ = ["SCRIPT", "WrkUnreachable", "find_wrk", "raw_request", "run_wrk"]

SCRIPT = Path(__file__).with_name("wrk_log.lua")
_NO_RESPONSE = "no response: the connection failed or was closed before the answer"


class WrkUnreachable(Exception):
    """wrk could not connect to the service before the run (the caller measures another way,
    recording each refused connection)."""


def find_wrk() -> str | None:
    """``wrk`` on the PATH, if it is installed (Debian: ``apt install wrk``)."""
    return shutil.which("wrk")


def raw_request(request: HttpRequest) -> bytes:
    """The request as wrk sends it, byte for byte."""
    parts = urlsplit(request.url)
    host = parts.netloc.rsplit("@", 1)[-1]
    lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}"]
    names = {n.lower() for n, _v in request.headers}
    lines += [f"{name}: {value}" for name, value in request.headers if name.lower() != "host"]
    if request.body is not None and "content-length" not in names:
        lines.append(f"Content-Length: {len(request.body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (request.body or b"")


def run_wrk(
    request: HttpRequest,
    *,
    concurrency: int,
    runs: int,
    duration: float | None,
    timeout_s: float,
    progress: Progress = None,
    stop: Callable[[], bool] | None = None,
    binary: str | None = None,
) -> Samples:
    """``runs`` requests (or ``duration`` seconds) over ``concurrency`` connections."""
    wrk = binary or find_wrk()
    if wrk is None:
        raise ConfigurationError("wrk is not installed", hint="apt install wrk (Debian, Ubuntu)")
    parts = urlsplit(request.url)
    target = f"{parts.scheme}://{parts.hostname}:{parts.port or _port(parts.scheme)}/"
    if parts.hostname and ":" in parts.hostname:
        target = f"{parts.scheme}://[{parts.hostname}]:{parts.port or _port(parts.scheme)}/"
    quota = 0 if duration is not None else math.ceil(runs / concurrency)
    # a run of requests has no duration of its own: wrk's -d only bounds it
    seconds = duration if duration is not None else max(60.0, (quota + 1) * timeout_s)
    with tempfile.TemporaryDirectory(prefix="workbench-wrk-") as folder:
        (Path(folder) / "request").write_bytes(raw_request(request))
        command = [
            wrk,
            "-t",
            str(concurrency),
            "-c",
            str(concurrency),
            "-d",
            f"{max(1, math.ceil(seconds))}s",
            "--timeout",
            f"{max(1, math.ceil(timeout_s))}s",
            "-s",
            str(SCRIPT),
            target,
            "--",
            folder,
            str(quota),
        ]
        samples = Samples("wrk")
        began = time.perf_counter()
        proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        total = None if duration is not None else quota * concurrency
        samples.interrupted = _watch(proc, Path(folder), concurrency, total, progress, stop)
        _, stderr = proc.communicate(timeout=30)
        samples.wall_s = time.perf_counter() - began
        logs = sorted(Path(folder).glob("log.*"))
        if not logs:
            if "unable to connect" in stderr:
                raise WrkUnreachable(request.scrub(stderr.strip()))
            raise ConfigurationError(
                f"wrk failed (exit {proc.returncode}): {request.scrub(stderr.strip())[-300:]}",
                hint="check the URL; run the profile with engine='httpx' to compare",
            )
        _read(samples, logs, Path(folder) / "summary", timeout_s)
    if samples.start_ns:
        # throughput while the connections ran, as wrk's own requests/s counts it: starting
        # wrk and writing its logs are not the service's time
        ends = np.asarray(samples.start_ns) + np.asarray(samples.latency_ns)
        samples.wall_s = max(float(ends.max() - min(samples.start_ns)) / 1e9, 1e-9)
    return samples


def _port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _watch(
    proc: subprocess.Popen[str],
    folder: Path,
    threads: int,
    total: int | None,
    progress: Progress,
    stop: Callable[[], bool] | None,
) -> bool:
    """Follow the threads' progress files until wrk ends, stopping it (SIGINT: it then writes
    the logs) once every thread is done or ``stop()``; True when stopped early."""
    bar = progress_bar(progress, total, None, [])
    shown = 0
    interrupted = False
    try:
        while proc.poll() is None:
            time.sleep(0.05)
            done, finished = _progress(folder)
            if bar is not None and done > shown:
                bar.update(done - shown)
                shown = done
            if total is not None and finished >= threads:
                proc.send_signal(signal.SIGINT)
                break
            if stop is not None and stop():
                interrupted = True
                proc.send_signal(signal.SIGINT)
                break
    except KeyboardInterrupt:
        interrupted = True
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    finally:
        if bar is not None:
            bar.close()
    return interrupted


def _progress(folder: Path) -> tuple[int, int]:
    """(requests done, threads finished) from the script's progress files."""
    done = finished = 0
    for path in folder.glob("progress.*"):
        try:
            words = path.read_text().split()
        except OSError:
            continue
        if words and words[0].isdigit():
            done += int(words[0])
            finished += "done" in words
    return done, finished


def _read(samples: Samples, logs: list[Path], summary: Path, timeout_s: float) -> None:
    for path in logs:
        worker = int(path.suffix[1:]) - 1
        if os.path.getsize(path) == 0:
            continue
        data = np.loadtxt(path, dtype=np.float64, ndmin=2)
        for start, latency, status in data:
            code = int(status)
            failure = None if code else _NO_RESPONSE
            if code and latency > timeout_s * 1e9:  # wrk counts it, and waits for the answer
                failure = f"timeout: no answer within {timeout_s:g} s"
            samples.add(start, latency, code, failure, worker)
    if summary.exists():
        counts = [int(x) for x in summary.read_text().split()]
        if len(counts) >= 7:
            _requests, _duration_us, connect, read, write, _status, timeout = counts[:7]
            samples.notes.append(
                f"measured by wrk, {len(logs)} connections (one per wrk thread), every request "
                "timed by the workbench's wrk script"
            )
            if connect or read or write or timeout:
                samples.notes.append(
                    f"wrk counted socket errors: {connect} connect, {read} read, {write} write, "
                    f"{timeout} timeouts (a timed-out request is recorded with its full time)"
                )
