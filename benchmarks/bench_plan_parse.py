"""Parsing and analysing a 10,000-node PostgreSQL JSON plan, against ``json.loads`` of the same
document (time), and the model's memory against the document's size.

Targets (issue 3): time ≤ 3× json.loads, memory ≤ 10× the document. A 10,000-node plan pasted
as psql TEXT is read too (its time against the JSON plan's parse).
"""

from __future__ import annotations

import gc
import json
import statistics
import time
import tracemalloc

from benchmarks.plan_fixtures import big_postgres_plan, big_text_plan

ROUNDS = 7


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    gc.collect()
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _paired(baseline, candidate, rounds: int = ROUNDS) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """Median times of both and the median of their per-round ratios. Each round times the two
    back to back, so a slow spell of a shared machine weighs on both sides of its ratio."""
    base, cand, ratios = [], [], []
    for _ in range(rounds):
        b = _timed(baseline)
        c = _timed(candidate)
        base.append(b)
        cand.append(c)
        ratios.append(c / b)
    return statistics.median(base), statistics.median(cand), statistics.median(ratios)


def main() -> dict[str, float]:
    import workbench as wb

    document = big_postgres_plan(10_000)
    wb.parse_plan(document)  # warm imports
    loads, parse, ratio = _paired(lambda: json.loads(document), lambda: wb.parse_plan(document))
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
        "time_ratio": ratio,
        "model_mb": current / 1e6,
        "memory_ratio": current / size,
    }
    print(f"document        {size / 1e6:7.2f} MB, {len(plan.nodes):,} nodes")
    print(f"json.loads      {loads * 1000:7.1f} ms (median of {ROUNDS})")
    print(
        f"wb.parse_plan   {parse * 1000:7.1f} ms  → {ratio:5.2f}× json.loads "
        "(≤ 3, median of paired rounds)"
    )
    print(f"model in memory {current / 1e6:7.2f} MB  → {current / size:5.2f}× the document (≤ 10)")
    text = big_text_plan(10_000)
    wb.parse_plan(text)
    _, text_parse, text_ratio = _paired(
        lambda: wb.parse_plan(document), lambda: wb.parse_plan(text)
    )
    result |= {"text_parse_ms": text_parse * 1000, "text_vs_json_ratio": text_ratio}
    print(
        f"psql TEXT plan  {text_parse * 1000:7.1f} ms  → {text_ratio:5.2f}× the JSON parse of "
        "the same 10,000 nodes"
    )
    return result


if __name__ == "__main__":
    main()
