"""The index advisor on the demo workload: wall time and planner calls.

The demo data (``--scale``, default 1: 1.7 million rows) is loaded into a scratch database,
which runs the demo application's workload into ``pg_stat_statements``; then ``s.advise()``
runs with its defaults. Twice where possible: on PostgreSQL 15 with HypoPG
(``WORKBENCH_TEST_PG_URL``, or 127.0.0.1:5432) and on the embedded PostgreSQL 18 without it
(real indexes in a rolled-back transaction). Printed for each: the advisor's wall time, the
planner calls it made, the candidates it weighed, and for each recommendation the planner's
and the measured improvement, the size and the write overhead.

    python -m benchmarks advisor [--scale 0.2]
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get(
    "WORKBENCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextlib.contextmanager
def _scratch(server_url: str, extensions: tuple[str, ...]) -> Iterator[str]:
    url = make_url(server_url)
    name = f"wbbench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    target = url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = create_engine(target, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for extension in extensions:
                conn.execute(text(f"CREATE EXTENSION {extension}"))
        engine.dispose()
        yield target
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _run(
    label: str, server_url: str, extensions: tuple[str, ...], scale: float
) -> dict[str, float]:
    import workbench as wb
    from workbench import formatting as fmt

    with _scratch(server_url, extensions) as url:
        started = time.perf_counter()
        wb.demo.load(url, scale=scale)
        loaded = time.perf_counter() - started
        with wb.connect(url) as s:
            advice = s.advise()
    print(
        f"{label:<28} load {loaded:5.1f} s   advise {advice.wall_s:5.2f} s   "
        f"{advice.planner_calls} planner calls, {advice.candidates} candidates, "
        f"{len(advice.statements)} statements, method {advice.method}"
    )
    for r in advice.recommendations:
        overhead = r.write_overhead.describe() if r.write_overhead else "not measured"
        print(f"    {r.ddl}")
        print(f"      size {fmt.kilobytes((r.size_bytes or 0) / 1024)}; writes: {overhead}")
        for q in r.queries:
            print(
                f"      {fmt.clip(q.sql, 70)}: planner {fmt.factor(q.improvement)}× cheaper, "
                f"measured {q.verdict or 'not measured'}"
            )
    key = label.split()[0].lower()
    return {f"{key}_advise_s": advice.wall_s, f"{key}_planner_calls": float(advice.planner_calls)}


def main() -> dict[str, float]:
    import workbench as wb

    args = sys.argv[2:]
    scale = float(args[args.index("--scale") + 1]) if "--scale" in args else 1.0
    out: dict[str, float] = {}
    try:
        out.update(
            _run("PostgreSQL-15 with HypoPG", PG_URL, ("pg_stat_statements", "hypopg"), scale)
        )
    except Exception as exc:  # no server here: say so, go on with the embedded one
        print(f"PostgreSQL 15 with HypoPG: skipped ({type(exc).__name__}: {exc})")
    embedded = wb.connect()
    server = embedded.engine.url.render_as_string(hide_password=False)
    embedded.close()
    out.update(_run("Embedded-18 without HypoPG", server, ("pg_stat_statements",), scale))
    return out


if __name__ == "__main__":
    main()
