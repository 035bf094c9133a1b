"""Parsing and analysing a 10,000-node PostgreSQL JSON plan, against ``json.loads`` of the same
document (time), and the model's memory against the document's size.

Targets (issue 3): time ≤ 3× json.loads, memory ≤ 10× the document.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
import tracemalloc

from benchmarks.plan_fixtures import big_postgres_plan

ROUNDS = 7


def _best(fn, rounds: int = ROUNDS) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        gc.collect()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> dict[str, float]:
    import workbench as wb

    document = big_postgres_plan(10_000)
    wb.parse_plan(document)  # warm imports
    loads = _best(lambda: json.loads(document))
    parse = _best(lambda: wb.parse_plan(document))
    gc.collect()
    tracemalloc.start()
    plan = wb.parse_plan(document)
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = len(document.encode())
    result = {
        "nodes": len(plan.nodes),
        "document_mb": size / 1e6,
        "json_loads_ms": loads * 1000,
        "parse_plan_ms": parse * 1000,
        "time_ratio": parse / loads,
        "model_mb": current / 1e6,
        "memory_ratio": current / size,
    }
    print(f"document        {size / 1e6:7.2f} MB, {len(plan.nodes):,} nodes")
    print(f"json.loads      {loads * 1000:7.1f} ms (median of {ROUNDS})")
    print(f"wb.parse_plan   {parse * 1000:7.1f} ms  → {parse / loads:5.2f}× json.loads (≤ 3)")
    print(f"model in memory {current / 1e6:7.2f} MB  → {current / size:5.2f}× the document (≤ 10)")
    return result


if __name__ == "__main__":
    main()
