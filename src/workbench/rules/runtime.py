"""Execution rules: ``sort_spill``, ``hash_spill``, ``lossy_bitmap``, ``high_planning_time``,
``parallel_workers_not_launched``.

sort_spill
    A sort that went to disk (PostgreSQL ``Sort Space Type: Disk`` / external merge, in the
    leader or any worker, incremental sorts included). Fix: ``SET work_mem`` to what the sort
    needs in memory, rounded up to a power of two: at least twice the disk usage (in-memory
    tuples are bigger than the compact on-disk runs), and for narrow rows ~64 bytes of
    bookkeeping per row on top of the row width; or an index that delivers the order.
hash_spill
    A hash join's hash or a hash aggregate that ran in more than one batch (or wrote to disk).
    Fix: ``work_mem`` sized so ``work_mem × hash_mem_multiplier`` holds the whole hash.
lossy_bitmap
    A Bitmap Heap Scan with ``Lossy Heap Blocks`` > 0: the bitmap outgrew ``work_mem`` and
    whole pages are rechecked. Fix: ``work_mem`` ≥ ~64 bytes × (exact + lossy pages), doubled.
high_planning_time
    Planning took ≥ 10 ms and longer than execution. Fix: a prepared statement (plan once,
    execute many); fewer partitions scanned or joins planned at once.
parallel_workers_not_launched
    A Gather / Gather Merge launched fewer workers than planned (the pool,
    ``max_parallel_workers`` / ``max_worker_processes``, was exhausted or too small).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.rules.base import Context, inclusive_share
from workbench.rules.text import (
    finding,
    index_name,
    nice_memory,
    number,
    parse_memory_kb,
)

if TYPE_CHECKING:
    from workbench.findings import Finding
    from workbench.plans.model import Plan, PlanNode

__all__ = [
    "RULES",
    "hash_spill",
    "high_planning_time",
    "lossy_bitmap",
    "parallel_workers_not_launched",
    "sort_spill",
]

PLANNING_MIN_MS = 10.0
BITMAP_BYTES_PER_PAGE = 64  # a PagetableEntry plus its hash slot (tidbitmap.c)
_DEFAULT_HASH_MEM_MULTIPLIER = 2.0  # PostgreSQL 15+


def _work_mem_kb(ctx: Context, plan: Plan) -> float:
    return parse_memory_kb(ctx.setting("work_mem", plan)) or 4096.0


def _severity(ms: float | None, share: float | None) -> str:
    if (ms or 0.0) >= 100 and (share or 0.0) >= 0.3:
        return "high"
    if (share or 0.0) >= 0.1 or (ms or 0.0) >= 10:
        return "medium"
    return "low"


def _float(value: Any) -> float:
    return number(value)


def _setting_int(value: str | None, default: int) -> int:
    try:
        return int(float(value)) if value is not None else default
    except ValueError:
        return default


# -- sort_spill -----------------------------------------------------------------------------------
def _sort_disk_kb(node: PlanNode) -> float | None:
    """The largest on-disk sort among the leader, the workers and incremental sort groups."""
    found: list[float] = []
    if node.spill is not None and node.spill.kind == "sort":
        found.append(node.spill.disk_kb or 0.0)
    for worker in node.raw.get("Workers") or ():
        if isinstance(worker, dict) and worker.get("Sort Space Type") == "Disk":
            found.append(_float(worker.get("Sort Space Used")))
    for key in ("Full-sort Groups", "Pre-sorted Groups"):
        group = node.raw.get(key)
        disk = group.get("Sort Space Disk") if isinstance(group, dict) else None
        if isinstance(disk, dict):
            found.append(_float(disk.get("Peak Sort Space Used")))
    return max(found) if found else None


def _sort_memory_kb(node: PlanNode, disk_kb: float) -> float:
    """Memory an in-memory sort of the node's input needs: at least twice its on-disk runs,
    and per row its width plus ~64 bytes of bookkeeping (a SortTuple and a tuple header),
    which dominates for narrow rows; per process, with a quarter spare."""
    source = node.children[0] if node.children else node
    # each process (or each rescan) sorts its share: work_mem applies to each
    rows = float(source.actual_rows or 0.0) / max(float(source.loops or 1.0), 1.0)
    per_row = float(node.width or 16) + 64.0
    return max(2 * disk_kb, rows * per_row / 1024) * 1.25


def sort_spill(ctx: Context) -> Iterator[Finding]:
    for i, plan, node in ctx.nodes():
        disk = _sort_disk_kb(node)
        if disk is None:
            continue
        work_mem = _work_mem_kb(ctx, plan)
        target = nice_memory(max(_sort_memory_kb(node, disk), 2 * work_mem))
        ms = node.exclusive_time_ms
        rows = node.children[0].actual_rows if node.children else node.actual_rows
        order = _order_index(ctx, node)
        yield finding(
            "sort_spill",
            _severity(ms, plan.share(node)),
            f"{node.operation} of {fmt.count(rows)} rows spilled {fmt.kilobytes(disk)} to disk",
            f"Node #{node.id} sorted {fmt.count(rows)} rows with work_mem = "
            f"{fmt.kilobytes(work_mem)}; they did not fit, so it wrote sorted runs of "
            f"{fmt.kilobytes(disk)} to temporary files and merged them back (external merge). "
            f"Set work_mem for this query (SET LOCAL inside its transaction) rather than for "
            f"the server: every sort and hash of every connection may use that much."
            + (f" An index can also deliver the rows already ordered: {order}." if order else "")
            + (
                f" {target} for one sort is a lot of memory: an index providing the order, or "
                "sorting fewer rows, is the better fix."
                if target.endswith("GB")
                else ""
            ),
            evidence={
                "plan": i,
                "node": node.id,
                "disk_kb": disk,
                "work_mem": ctx.setting("work_mem", plan),
                "sort_key": node.raw.get("Sort Key"),
                "rows": rows,
                "time_ms": ms,
            },
            fix=f"SET work_mem = '{target}'",
            fix_kind="setting",
            expected_effect=f"the sort of {fmt.count(rows)} rows stays in memory (quicksort): no "
            f"{fmt.kilobytes(disk)} written to temporary files, read back and merged"
            + (f" (the sort itself takes {fmt.milliseconds(ms)} now)" if ms else ""),
            node_ids=[node.id],
            tables=_tables_below(node),
        )


def _order_index(ctx: Context, node: PlanNode) -> str | None:
    """``CREATE INDEX`` delivering the sort order, when the keys are columns of one table."""
    keys = node.raw.get("Sort Key")
    relations = _tables_below(node)
    if not isinstance(keys, list) or len(relations) != 1:
        return None
    table = ctx.table(relations[0])
    if table is None:
        return None
    columns = []
    names, directions = [], []
    for key in keys:
        match = re.fullmatch(r"(?:\w+\.)?\"?(\w+)\"?( DESC)?(?: NULLS (?:FIRST|LAST))?", str(key))
        if not match or not table.has_column(match.group(1)):
            return None  # an expression or another table: no simple index
        columns.append(ctx.ident(match.group(1)) + (" DESC" if match.group(2) else ""))
        names.append(match.group(1))
        directions.append("desc" if match.group(2) else "asc")
    if table.serving_index(names, directions) is not None:
        return None  # one exists: the planner preferred sorting, an index would not change it
    name = ctx.ident(ctx.free_name(index_name(table.name, *names)))
    return f"CREATE INDEX {name} ON {ctx.table_ref(table)} ({', '.join(columns)})"


def _tables_below(node: PlanNode) -> list[str]:
    return list(dict.fromkeys(n.relation for n in node.walk() if n.relation))


# -- hash_spill -----------------------------------------------------------------------------------
def _hash_need_kb(node: PlanNode) -> tuple[int, float] | None:
    """(batches, memory the whole hash needs) when a hash or hash aggregate spilled."""
    raw = node.raw
    entries = [raw, *(w for w in raw.get("Workers") or () if isinstance(w, dict))]
    batches, need = 0, 0.0
    for entry in entries:
        hashed = int(_float(entry.get("Hash Batches")))
        agg = int(_float(entry.get("HashAgg Batches")))
        disk = _float(entry.get("Disk Usage"))
        peak = _float(entry.get("Peak Memory Usage"))
        if hashed > 1:
            batches, need = max(batches, hashed), max(need, peak * hashed)
        elif agg > 1 or disk > 0:
            batches, need = max(batches, agg, 2), max(need, peak + 2 * disk)
    spilled = node.spill is not None and node.spill.kind in ("hash", "aggregate")
    if batches <= 1 and not spilled:
        return None
    reported = (node.spill.batches or 0) if node.spill is not None else 0
    return max(batches, reported, 2), need


def hash_spill(ctx: Context) -> Iterator[Finding]:
    for i, plan, node in ctx.nodes():
        spilled = _hash_need_kb(node)
        if spilled is None:
            continue
        batches, need = spilled
        work_mem = _work_mem_kb(ctx, plan)
        multiplier = _float(ctx.setting("hash_mem_multiplier", plan)) or (
            _DEFAULT_HASH_MEM_MULTIPLIER if ctx.is_postgres else 1.0
        )
        target = nice_memory(max(need * 1.25 / multiplier, 2 * work_mem))
        what = "hash aggregate" if "Agg" in node.operation else "hash join's hash table"
        ms = node.exclusive_time_ms
        yield finding(
            "hash_spill",
            _severity(ms, plan.share(node)),
            f"{node.label} ran in {batches} batches: the {what} did not fit in memory",
            f"Node #{node.id} needed about {fmt.kilobytes(need) if need else 'more than'} "
            f"{'of memory' if need else 'work_mem × hash_mem_multiplier allows'} but may use "
            f"work_mem × hash_mem_multiplier = {fmt.kilobytes(work_mem)} × {multiplier:g}; "
            "it split "
            f"its input into {batches} batches written to temporary files and read back. "
            "Raising hash_mem_multiplier instead gives more memory to hashes only.",
            evidence={
                "plan": i,
                "node": node.id,
                "batches": batches,
                "needed_kb": need or None,
                "work_mem": ctx.setting("work_mem", plan),
                "hash_mem_multiplier": multiplier,
                "time_ms": ms,
            },
            fix=f"SET work_mem = '{target}'",
            fix_kind="setting",
            expected_effect=f"one batch in memory instead of {batches}: the input is no longer "
            "written to and re-read from temporary files"
            + (f" (this node takes {fmt.milliseconds(ms)})" if ms else ""),
            node_ids=[node.id],
            tables=_tables_below(node),
        )


# -- lossy_bitmap ---------------------------------------------------------------------------------
def lossy_bitmap(ctx: Context) -> Iterator[Finding]:
    for i, plan, node in ctx.nodes():
        lossy = _float(node.raw.get("Lossy Heap Blocks"))
        if "Bitmap Heap Scan" not in node.operation or lossy <= 0:
            continue
        exact = _float(node.raw.get("Exact Heap Blocks"))
        work_mem = _work_mem_kb(ctx, plan)
        need = (exact + lossy) * BITMAP_BYTES_PER_PAGE / 1024 * 2
        rechecked = node.rows_removed_by_index_recheck
        ms = node.inclusive_time_ms
        share = lossy / (exact + lossy)
        yield finding(
            "lossy_bitmap",
            "medium" if share >= 0.1 or (rechecked or 0) >= 10_000 else "low",
            f"{node.label}: {fmt.count(lossy)} of {fmt.count(exact + lossy)} heap pages went lossy",
            f"The bitmap of matching rows outgrew work_mem ({fmt.kilobytes(work_mem)}), so node "
            f"#{node.id} kept only page numbers for {fmt.count(lossy)} pages and re-tested every "
            f"row on them"
            + (f" ({fmt.count(rechecked)} rows removed by the recheck)" if rechecked else "")
            + ".",
            evidence={
                "plan": i,
                "node": node.id,
                "lossy_heap_blocks": lossy,
                "exact_heap_blocks": exact,
                "rows_removed_by_index_recheck": rechecked,
                "work_mem": ctx.setting("work_mem", plan),
                "time_ms": ms,
            },
            fix=f"SET work_mem = '{nice_memory(max(need, 2 * work_mem))}'",
            fix_kind="setting",
            expected_effect="an exact bitmap: only the matching rows are visited, "
            + (f"{fmt.count(rechecked)} rechecks disappear" if rechecked else "no recheck")
            + (f" (the scan takes {fmt.milliseconds(ms)})" if ms else ""),
            node_ids=[node.id],
            tables=[node.relation] if node.relation else [],
        )


# -- high_planning_time ---------------------------------------------------------------------------
def high_planning_time(ctx: Context) -> Iterator[Finding]:
    for i, plan in enumerate(ctx.plans):
        planning = plan.planning_time_ms
        execution = plan.execution_time_ms
        if execution is None:
            execution = plan.root.inclusive_time_ms
        if not planning or execution is None:
            continue
        if planning < PLANNING_MIN_MS or planning <= execution:
            continue
        yield _planning(ctx, i, plan, planning, execution)


def _planning(ctx: Context, i: int, plan: Plan, planning: float, execution: float) -> Finding:
    scans = [n for n in plan.nodes if n.relation]
    relations = plan.relations
    causes = []
    if len(scans) >= 20 and len(scans) > 2 * len(relations):
        causes.append(
            f"{len(scans)} table scans (partitions?): filter on the partition key so "
            "pruning removes most of them at plan time"
        )
    if len(relations) >= 8:
        causes.append(f"{len(relations)} tables joined: the planner weighs every join order")
    share = planning / (planning + execution)
    fix = (
        "cursor.execute(sql, params, prepare=True)  # psycopg 3: plan once per connection"
        if ctx.is_postgres
        else "use a server-side prepared statement for this query in the driver"
    )
    return finding(
        "high_planning_time",
        "high" if planning >= 100 else "medium",
        f"Planning takes {fmt.milliseconds(planning)}, longer than executing "
        f"({fmt.milliseconds(execution)})",
        f"{share:.0%} of this statement's time goes to choosing a plan. A prepared statement "
        "plans once and reuses the plan (PostgreSQL switches to a generic plan after five "
        "executions when it is not worse)."
        + (" Likely causes: " + "; ".join(causes) + "." if causes else ""),
        evidence={
            "plan": i,
            "planning_time_ms": planning,
            "execution_time_ms": execution,
            "tables": len(relations),
            "scans": len(scans),
        },
        fix=fix,
        fix_kind="code",
        expected_effect="repeated executions skip most of the "
        f"{fmt.milliseconds(planning)} of planning: "
        f"about {fmt.milliseconds(execution)} instead of {fmt.milliseconds(planning + execution)}",
        tables=[],
    )


# -- parallel_workers_not_launched ----------------------------------------------------------------
def parallel_workers_not_launched(ctx: Context) -> Iterator[Finding]:
    for i, plan, node in ctx.nodes():
        planned, launched = node.workers_planned, node.workers_launched
        if planned is None or launched is None or launched >= planned:
            continue
        yield _workers(ctx, i, plan, node, planned, launched)


def _workers(
    ctx: Context, i: int, plan: Plan, node: PlanNode, planned: int, launched: int
) -> Finding:
    pool = _setting_int(ctx.setting("max_parallel_workers", plan), 8)
    processes = _setting_int(ctx.setting("max_worker_processes", plan), 8)
    wanted = max(pool * 2, planned, 8)
    if wanted <= processes:
        fix = f"SET max_parallel_workers = {wanted}"
        how = f"max_parallel_workers is {pool}"
    else:
        fix = f"ALTER SYSTEM SET max_worker_processes = {wanted}"
        how = (
            f"max_worker_processes ({processes}) caps the pool; raising it needs a server "
            f"restart, then max_parallel_workers = {wanted}"
        )
    share = inclusive_share(plan, node)
    return finding(
        "parallel_workers_not_launched",
        "medium" if launched == 0 and (share or 0.0) >= 0.5 else "low",
        f"{node.operation} planned {planned} workers but launched {launched}",
        f"Node #{node.id} was planned to split its work among {planned} worker processes "
        f"plus the leader, but {f'only {launched}' if launched else 'none'} could start: the "
        f"pool of parallel workers was busy with other queries or too small ({how}); the "
        "processes that did start did all the work.",
        evidence={
            "plan": i,
            "node": node.id,
            "workers_planned": planned,
            "workers_launched": launched,
            "max_parallel_workers": ctx.setting("max_parallel_workers", plan),
            "max_worker_processes": ctx.setting("max_worker_processes", plan),
            "time_ms": node.inclusive_time_ms,
        },
        fix=fix,
        fix_kind="setting",
        expected_effect=f"{planned} workers share the work with the leader: this part runs up "
        f"to {(planned + 1) / (launched + 1):g}× faster"
        + (f" ({fmt.milliseconds(node.inclusive_time_ms)} now)" if node.inclusive_time_ms else ""),
        node_ids=[node.id],
        tables=_tables_below(node),
    )


RULES = (sort_spill, hash_spill, lossy_bitmap, high_planning_time, parallel_workers_not_launched)
