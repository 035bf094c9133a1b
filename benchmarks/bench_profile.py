"""The profiler measures the database, not itself. Each number is a ratio measured in one run.

1. Timing overhead against the raw DB-API loop (the same driver call, timed the same way):
   mean latency ratio, SQLite ``SELECT 1`` (target ≤ 1.10) and a PostgreSQL primary-key lookup
   (target ≤ 1.05). Baseline and workbench alternate, several rounds, medians compared.
2. Load throughput against ``pgbench`` at 4 clients on the same PostgreSQL query (≥ 0.9×).
3. A 1-million-sample latency histogram against ``numpy.histogram`` plus one ``ax.bar``
   (≤ 2×).
4. Memory of a 1-million-execution profile (≤ 50 MB).
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROUNDS = 5


BLOCKS = 12  # baseline and workbench alternate in blocks, so drift hits both alike


def _raw_loop(cursor, sql, args, runs: int, prepare: bool = False) -> list[int]:  # type: ignore[no-untyped-def]
    """The baseline: the driver's execute and fetch, timed the same way, nothing else."""
    clock = time.perf_counter_ns
    out = []
    kwargs = {"prepare": True} if prepare else {}
    for i in range(runs):
        if args is None:
            t0 = clock()
            cursor.execute(sql, **kwargs)
            cursor.fetchall()
        else:
            argument = args[i % len(args)]
            t0 = clock()
            cursor.execute(sql, argument, **kwargs)
            cursor.fetchall()
        out.append(clock() - t0)
    return out


def _ratio(raw: list[int], ours: list[float]) -> tuple[float, float, float]:
    raw_mean = statistics.fmean(raw) / 1e6
    our_mean = statistics.fmean(ours)
    return raw_mean, our_mean, our_mean / raw_mean


def timing_overhead() -> dict[str, float]:
    import sqlite3

    import workbench as wb

    results: dict[str, float] = {}
    sqlite = wb.connect("sqlite://")
    conn = sqlite3.connect(":memory:", isolation_level=None)
    cur = conn.cursor()
    raw: list[int] = []
    ours: list[float] = []
    for _ in range(BLOCKS):
        raw += _raw_loop(cur, "SELECT 1", None, 20_000)
        prof = sqlite.profile("SELECT 1", runs=20_000, warmup=100, progress=False)
        ours += prof.latencies_ms.tolist()
    raw_mean, our_mean, ratio = _ratio(raw, ours)
    print(
        f"SQLite SELECT 1        raw {raw_mean * 1000:6.2f} µs   workbench "
        f"{our_mean * 1000:6.2f} µs   mean ratio {ratio:5.3f} (≤ 1.10)"
    )
    results["sqlite_select1_ratio"] = ratio

    import psycopg

    pg = wb.connect()
    ids = [int(i) for i in np.random.default_rng(1).integers(1, 100_000, 2000)]
    args, kwargs = pg.engine.dialect.create_connect_args(pg.engine.url)
    kwargs.pop("context", None)
    pconn = psycopg.connect(*args, autocommit=True, **kwargs)
    pconn.execute("SET statement_timeout = 30000")
    pconn.execute("SET default_transaction_read_only = on")
    pcur = pconn.cursor()
    sql = "SELECT id, email, full_name FROM users WHERE id = %(id)s"
    values = [{"id": i} for i in ids]
    _raw_loop(pcur, sql, values, 50, prepare=True)  # warm up, as the profile does
    raw, ours = [], []
    for _ in range(BLOCKS):
        raw += _raw_loop(pcur, sql, values, 2000, prepare=True)
        prof = pg.profile(
            "SELECT id, email, full_name FROM users WHERE id = :id",
            params=values,
            runs=2000,
            warmup=50,
            progress=False,
        )
        ours += prof.latencies_ms.tolist()
    pconn.close()
    raw_mean, our_mean, ratio = _ratio(raw, ours)
    print(
        f"PostgreSQL PK lookup   raw {raw_mean * 1000:6.1f} µs   workbench "
        f"{our_mean * 1000:6.1f} µs   mean ratio {ratio:5.3f} (≤ 1.05)"
    )
    results["postgres_pk_ratio"] = ratio
    return results


def load_vs_pgbench(clients: int = 4, seconds: int = 4, pairs: int = 5) -> dict[str, float]:
    import workbench as wb
    from workbench.profiling.pgbench import find_pgbench

    s = wb.connect()
    url = s.engine.url
    binary = find_pgbench()
    assert binary is not None
    rates = []
    ours = []
    for _ in range(pairs):  # back to back, pair by pair: a shared 2-core VM drifts
        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / "q.sql"
            script.write_text(
                "\\set id random(1, 100000)\n"
                "SELECT id, email, full_name FROM users WHERE id = :id;\n"
            )
            env = dict(os.environ, PGOPTIONS="-c statement_timeout=30000")
            out = subprocess.run(
                [
                    binary,
                    "-n",
                    "-M",
                    "prepared",
                    "-h",
                    str(url.query["host"]),
                    "-p",
                    str(url.query.get("port", 5432)),
                    "-U",
                    "postgres",
                    "-f",
                    str(script),
                    "-c",
                    str(clients),
                    "-j",
                    str(min(clients, os.cpu_count() or 1)),
                    "-T",
                    str(seconds),
                    str(url.database),
                ],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            tps = float(
                next(line for line in out.stdout.splitlines() if line.startswith("tps"))
                .split("=")[1]
                .split()[0]
            )
            rates.append(tps)
        prof = s.profile(
            "SELECT id, email, full_name FROM users WHERE id = :id",
            params={"id": wb.uniform(1, 100_000)},
            concurrency=clients,
            duration=seconds,
            progress=False,
        )
        ours.append(prof.qps)
    ratio = statistics.median(o / r for o, r in zip(ours, rates, strict=True))
    print(
        f"load, {clients} clients      pgbench {statistics.median(rates):8,.0f} tps   "
        f"workbench {statistics.median(ours):8,.0f} qps   median pair ratio {ratio:5.3f} (≥ 0.9)"
    )
    return {"load_ratio": ratio}


def histogram_speed() -> dict[str, float]:
    from matplotlib.figure import Figure

    from workbench.charts import latency_histogram
    from workbench.profiling.result import Profile

    rng = np.random.default_rng(3)
    values = rng.lognormal(-1.0, 0.7, 1_000_000)
    n = values.size
    prof = Profile(
        sql="SELECT 1",
        dialect="sqlite",
        mode="in-process",
        concurrency=1,
        start_ms=np.cumsum(values),
        all_latencies_ms=values,
        rows=np.ones(n, dtype=np.int64),
        worker=np.zeros(n, dtype=np.int16),
        error=np.full(n, -1, dtype=np.int16),
    )

    def baseline() -> None:
        counts, edges = np.histogram(values, bins=80)
        fig = Figure(figsize=(7.5, 3.6))
        ax = fig.add_subplot()
        ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge")

    def ours() -> None:
        latency_histogram(prof)

    b = statistics.median(_time(baseline) for _ in range(7))
    o = statistics.median(_time(ours) for _ in range(7))
    print(
        f"1M-sample histogram    numpy+bar {b * 1000:6.1f} ms   workbench {o * 1000:6.1f} ms   "
        f"ratio {o / b:5.2f} (≤ 2)"
    )
    return {"histogram_ratio": o / b}


def _time(fn) -> float:  # type: ignore[no-untyped-def]
    gc.collect()
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def profile_memory() -> dict[str, float]:
    import workbench as wb

    s = wb.connect("sqlite://")
    gc.collect()
    tracemalloc.start()
    prof = s.profile("SELECT 1", runs=1_000_000, warmup=0, progress=False)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    arrays = sum(
        a.nbytes for a in (prof.start_ms, prof.all_latencies_ms, prof.rows, prof.worker, prof.error)
    )
    print(
        f"1M-execution profile   arrays {arrays / 1e6:5.1f} MB, retained {current / 1e6:5.1f} MB,"
        f" peak while running {peak / 1e6:5.1f} MB (≤ 50 MB)"
    )
    return {"profile_mb": current / 1e6, "profile_peak_mb": peak / 1e6}


def main() -> dict[str, float]:
    out: dict[str, float] = {}
    wanted = sys.argv[2:] if len(sys.argv) > 2 else ["timing", "load", "histogram", "memory"]
    if "timing" in wanted:
        out.update(timing_overhead())
    if "load" in wanted:
        out.update(load_vs_pgbench())
    if "histogram" in wanted:
        out.update(histogram_speed())
    if "memory" in wanted:
        out.update(profile_memory())
    return out


if __name__ == "__main__":
    main()
