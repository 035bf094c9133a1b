"""A large, realistic PostgreSQL JSON plan for the parser benchmark (and its test)."""

from __future__ import annotations

import json
import random


def _scan(i: int, rng: random.Random) -> dict[str, object]:
    rows = rng.randint(1, 50_000)
    return {
        "Node Type": "Index Scan" if i % 3 else "Seq Scan",
        "Parent Relationship": "Member",
        "Parallel Aware": False,
        "Async Capable": False,
        "Scan Direction": "Forward",
        "Index Name": f"events_p{i}_created_at_idx",
        "Relation Name": f"events_p{i}",
        "Schema": "public",
        "Alias": f"events_{i}",
        "Startup Cost": 0.29,
        "Total Cost": round(rng.uniform(10, 5000), 2),
        "Plan Rows": rows,
        "Plan Width": 96,
        "Actual Startup Time": round(rng.uniform(0.001, 0.5), 3),
        "Actual Total Time": round(rng.uniform(0.5, 20), 3),
        "Actual Rows": max(0, int(rows * rng.uniform(0.01, 50))),
        "Actual Loops": rng.choice([1, 1, 1, 3, 12]),
        "Index Cond": "((created_at >= '2025-06-01 00:00:00'::timestamp without time zone) AND "
        "(created_at < '2025-07-01 00:00:00'::timestamp without time zone))",
        "Filter": "((type)::text = 'purchase'::text)",
        "Rows Removed by Filter": rng.randint(0, 10_000),
        "Shared Hit Blocks": rng.randint(0, 5000),
        "Shared Read Blocks": rng.randint(0, 500),
        "Shared Dirtied Blocks": 0,
        "Shared Written Blocks": 0,
        "Local Hit Blocks": 0,
        "Local Read Blocks": 0,
        "Local Dirtied Blocks": 0,
        "Local Written Blocks": 0,
        "Temp Read Blocks": 0,
        "Temp Written Blocks": 0,
        "I/O Read Time": round(rng.uniform(0, 3), 3),
        "I/O Write Time": 0.0,
    }


def big_postgres_plan(nodes: int = 10_000, seed: int = 7) -> str:
    """An analysed plan of ``nodes`` nodes: a query over a table partitioned by day (an Append of
    scans under a sort, a hash join and an aggregate), as EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
    prints it."""
    rng = random.Random(seed)
    scans = [_scan(i, rng) for i in range(nodes - 6)]
    append_time = sum(s["Actual Total Time"] * s["Actual Loops"] for s in scans)  # type: ignore[operator]
    append = {
        "Node Type": "Append",
        "Parent Relationship": "Outer",
        "Parallel Aware": False,
        "Startup Cost": 0.29,
        "Total Cost": 1e6,
        "Plan Rows": 10**6,
        "Plan Width": 96,
        "Actual Startup Time": 0.1,
        "Actual Total Time": append_time * 1.01,
        "Actual Rows": 10**6,
        "Actual Loops": 1,
        "Subplans Removed": 0,
        "Plans": scans,
    }
    users = {
        "Node Type": "Seq Scan",
        "Parent Relationship": "Outer",
        "Relation Name": "users",
        "Alias": "u",
        "Startup Cost": 0,
        "Total Cost": 2000,
        "Plan Rows": 100000,
        "Plan Width": 40,
        "Actual Startup Time": 0.01,
        "Actual Total Time": 15.0,
        "Actual Rows": 100000,
        "Actual Loops": 1,
    }
    hashed = {
        "Node Type": "Hash",
        "Parent Relationship": "Inner",
        "Startup Cost": 2000,
        "Total Cost": 2000,
        "Plan Rows": 100000,
        "Plan Width": 40,
        "Actual Startup Time": 25.0,
        "Actual Total Time": 25.0,
        "Actual Rows": 100000,
        "Actual Loops": 1,
        "Hash Buckets": 131072,
        "Hash Batches": 1,
        "Peak Memory Usage": 8000,
        "Plans": [users],
    }
    join = {
        "Node Type": "Hash Join",
        "Parent Relationship": "Outer",
        "Join Type": "Inner",
        "Startup Cost": 2000,
        "Total Cost": 1.1e6,
        "Plan Rows": 10**6,
        "Plan Width": 120,
        "Actual Startup Time": 26.0,
        "Actual Total Time": append_time * 1.01 + 60,
        "Actual Rows": 10**6,
        "Actual Loops": 1,
        "Hash Cond": "(e.user_id = u.id)",
        "Plans": [append, hashed],
    }
    sort = {
        "Node Type": "Sort",
        "Parent Relationship": "Outer",
        "Startup Cost": 1.2e6,
        "Total Cost": 1.3e6,
        "Plan Rows": 10**6,
        "Plan Width": 120,
        "Actual Startup Time": append_time * 1.01 + 200,
        "Actual Total Time": append_time * 1.01 + 250,
        "Actual Rows": 10**6,
        "Actual Loops": 1,
        "Sort Key": ["u.country"],
        "Sort Method": "external merge",
        "Sort Space Used": 120000,
        "Sort Space Type": "Disk",
        "Plans": [join],
    }
    root = {
        "Node Type": "Aggregate",
        "Strategy": "Sorted",
        "Partial Mode": "Simple",
        "Startup Cost": 1.2e6,
        "Total Cost": 1.4e6,
        "Plan Rows": 12,
        "Plan Width": 40,
        "Actual Startup Time": append_time * 1.01 + 260,
        "Actual Total Time": append_time * 1.01 + 300,
        "Actual Rows": 12,
        "Actual Loops": 1,
        "Group Key": ["u.country"],
        "Plans": [sort],
    }
    document = [
        {
            "Plan": root,
            "Planning Time": 40.0,
            "Execution Time": append_time * 1.01 + 301,
            "Triggers": [],
        }
    ]
    return json.dumps(document, indent=2)


def big_text_plan(nodes: int = 10_000) -> str:
    """The same shape as psql prints it (TEXT format): an Append over ``nodes - 1`` scans."""
    lines = [
        f"Append  (cost=0.00..9.00 rows={nodes} width=4) (actual time=0.1..9.0 rows=10 loops=1)"
    ]
    lines += [
        f"  ->  Seq Scan on part_{i} p{i}  (cost=0.00..9.00 rows=1 width=4) "
        f"(actual time=0.010..0.020 rows=1 loops=1)\n        Filter: (x = {i})\n"
        "        Rows Removed by Filter: 9\n        Buffers: shared hit=1"
        for i in range(nodes - 1)
    ]
    return "\n".join(lines)
