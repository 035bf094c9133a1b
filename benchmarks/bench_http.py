"""HTTP load at the service's speed, not the client's: ``s.profile_http(concurrency=8)``
against plain ``wrk`` on the same endpoint, back to back.

Target: the workbench's load run reaches ≥ 0.9× the requests per second of ``wrk -t2 -c8``
(wrk's own defaults, no script) at 8 connections. Pairs alternate (wrk, workbench, wrk, ...)
and the medians are compared, so drift on a shared machine hits both alike. The async httpx
client (what runs where wrk is not installed) is measured too, for information.

Endpoints: the demo shop's API (``wb.demo.serve()``, Starlette over the embedded demo database;
``/health`` and ``/api/users?eager=1&per_page=10``) and, where Node is installed, the tiny
Node service of the tests (``/health``: a server fast enough that a slow load generator shows).
On a machine with two CPUs or more, the load generators run on CPU 0 and the service on CPU 1
(``os.sched_setaffinity``, as ``taskset -c 0`` / ``taskset -c 1`` would pin them), so they do
not take each other's CPU; the output says what was pinned.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path

SECONDS = 3
PAIRS = 3
CONNECTIONS = 8
ROOT = Path(__file__).resolve().parents[1]


def _wrk_rps(url: str) -> float:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s*([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def _pin(service_pid: int | None) -> str:
    """Load generators on CPU 0, the service on CPU 1 (when there are two)."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) < 2 or service_pid is None:
        return "not pinned (one CPU)"
    os.sched_setaffinity(0, {cpus[0]})  # this process and the wrk it starts
    for pid in _tree(service_pid):
        os.sched_setaffinity(pid, {cpus[1]})
    return f"load generators on CPU {cpus[0]}, service on CPU {cpus[1]} (taskset -c)"


def _tree(pid: int) -> list[int]:
    try:
        import psutil

        process = psutil.Process(pid)
        return [pid] + [child.pid for child in process.children(recursive=True)]
    except Exception:
        return [pid]


def _unpin() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))


def compare(session, url: str, name: str, service_pid: int | None) -> dict[str, float]:  # type: ignore[no-untyped-def]
    pinned = _pin(service_pid)
    try:
        session.profile_http(url, runs=200, concurrency=CONNECTIONS, warmup=20, progress=False)
        wrk, ours, async_ = [], [], []
        for _ in range(PAIRS):
            wrk.append(_wrk_rps(url))
            prof = session.profile_http(
                url, duration=SECONDS, concurrency=CONNECTIONS, warmup=0, progress=False
            )
            assert prof.errors == 0, prof.messages
            ours.append(prof.qps)
        fallback = session.profile_http(
            url,
            duration=SECONDS,
            concurrency=CONNECTIONS,
            warmup=0,
            engine="httpx",
            statements=False,
            progress=False,
        )
        async_.append(fallback.qps)
    finally:
        _unpin()
    base, load, client = (statistics.median(v) for v in (wrk, ours, async_))
    ratio = load / base
    print(
        f"{name:<34} wrk {base:8,.0f} req/s   workbench (wrk + log script) {load:8,.0f} req/s"
        f"   ratio {ratio:5.3f} (≥ 0.9)   httpx async {client:7,.0f} req/s ({client / base:4.2f}×)"
        f"\n{'':<34} {pinned}"
    )
    return {f"{name}_ratio": ratio}


def _node_service() -> tuple[subprocess.Popen[str], str] | None:
    node = shutil.which("node")
    if node is None:
        return None
    proc = subprocess.Popen(
        [node, str(ROOT / "tests" / "http_service.js")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline().split()[1])
    return proc, f"http://127.0.0.1:{port}"


def main() -> dict[str, float]:
    import warnings

    import workbench as wb

    if shutil.which("wrk") is None:
        print("wrk is not installed (apt install wrk): nothing to compare with")
        return {}
    results: dict[str, float] = {}
    s = wb.connect()
    try:
        with wb.demo.serve(s) as api:
            time.sleep(0.5)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results |= compare(s, api.endpoint("/health"), "demo API /health", api.proc.pid)
                results |= compare(
                    s,
                    api.endpoint("/api/users?eager=1&per_page=10"),
                    "demo API /api/users?eager=1",
                    api.proc.pid,
                )
        node = _node_service()
        if node is not None:
            proc, base = node
            try:
                results |= compare(s, base + "/health", "Node service /health", proc.pid)
            finally:
                assert proc.stdin is not None
                proc.stdin.close()
                proc.wait(timeout=10)
    finally:
        s.close()
    worst = min(results.values()) if results else float("nan")
    print(f"worst ratio {worst:.3f}: {'PASS' if worst >= 0.9 else 'FAIL'} (≥ 0.9)")
    return results


if __name__ == "__main__":
    main()
