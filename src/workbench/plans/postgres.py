"""PostgreSQL plans (``EXPLAIN (FORMAT JSON)``, or TEXT turned into the same shape) → :class:`Plan`.

PostgreSQL prints per-loop averages: times and rows are multiplied by ``Actual Loops``. Inside a
parallel section (below Gather / Gather Merge, InitPlans and SubPlans excepted) each process
reports its own average and the processes run at the same time, so times are divided by the
number of processes (workers launched + the leader), as PEV2 does; rows stay totals.

Exclusive time follows where PostgreSQL actually spends it:

* a CTE's InitPlan runs inside the CTE Scans that pull its rows: its time is taken from them (in
  proportion to their time when several read it, as PEV2 does), not from the node it hangs
  under;
* an InitPlan computing a parameter runs in the node that first evaluates the parameter (the
  node whose condition mentions ``(InitPlan 1)`` or ``$0``);
* SubPlans run inside the node whose expressions call them (their structural parent).

So the exclusive times of an analysed plan add up to the root's inclusive time, give or take
PostgreSQL's clock overlaps: where a node's children (or the CTE it reads) measured more than the
node itself, its own time is zero and its ancestors keep theirs, as in PEV2 (whose test suite
allows 1%); only the part of a parameter InitPlan's time that its evaluator's clock missed is
taken from the evaluator's parent.
"""

from __future__ import annotations

import re
from typing import Any

from workbench.errors import PlanParseError
from workbench.plans.model import Plan, PlanNode, Spill

__all__ = ["from_postgres_json", "is_postgres_json", "unwrap_postgres_json"]

_CONDITIONS = (
    "Index Cond",
    "Recheck Cond",
    "Filter",
    "Join Filter",
    "Hash Cond",
    "Merge Cond",
    "TID Cond",
    "One-Time Filter",
    "Order By",
    "Cache Key",
)
_BUFFERS = {
    "Shared Hit Blocks": "shared_hit",
    "Shared Read Blocks": "shared_read",
    "Shared Dirtied Blocks": "shared_dirtied",
    "Shared Written Blocks": "shared_written",
    "Local Hit Blocks": "local_hit",
    "Local Read Blocks": "local_read",
    "Local Dirtied Blocks": "local_dirtied",
    "Local Written Blocks": "local_written",
    "Temp Read Blocks": "temp_read",
    "Temp Written Blocks": "temp_written",
    "I/O Read Time": "io_read_ms",
    "I/O Write Time": "io_write_ms",
    "Shared I/O Read Time": "io_read_ms",
    "Shared I/O Write Time": "io_write_ms",
    "Local I/O Read Time": "local_io_read_ms",
    "Local I/O Write Time": "local_io_write_ms",
    "Temp I/O Read Time": "temp_io_read_ms",
    "Temp I/O Write Time": "temp_io_write_ms",
    "WAL Records": "wal_records",
    "WAL FPI": "wal_fpi",
    "WAL Bytes": "wal_bytes",
}
_AGGREGATE_LABELS = {
    "Plain": "Aggregate",
    "Hashed": "HashAggregate",
    "Sorted": "GroupAggregate",
    "Mixed": "MixedAggregate",
}
_TARGETS = ("CTE Name", "Function Name", "Table Function Name", "Tuplestore Name")
_REMOVED = {
    "Rows Removed by Filter": "rows_removed_by_filter",
    "Rows Removed by Join Filter": "rows_removed_by_join_filter",
    "Rows Removed by Index Recheck": "rows_removed_by_index_recheck",
}
_CONDITION_KEYS = frozenset(_CONDITIONS)
_SPILL_KEYS = frozenset(
    {"Sort Space Type", "Hash Batches", "HashAgg Batches", "Disk Usage", "Storage"}
)
_RANK = {key: i for i, key in enumerate((*_CONDITIONS, *_BUFFERS))}
_OPTIONAL = _CONDITION_KEYS | _BUFFERS.keys() | _REMOVED.keys() | set(_TARGETS) | _SPILL_KEYS
_PARALLEL_ROOTS = frozenset({"Gather", "Gather Merge"})
_INITPLAN_PARAMS = re.compile(r"\$\d+")


def is_postgres_json(doc: Any) -> bool:
    """The shape of PostgreSQL's JSON: ``[{"Plan": {"Node Type": ...}}]`` or the object."""
    try:
        top = unwrap_postgres_json(doc)
    except PlanParseError:
        return False
    return isinstance(top.get("Plan"), dict) and "Node Type" in top["Plan"]


def unwrap_postgres_json(doc: Any) -> dict[str, Any]:
    """The top object of an ``EXPLAIN (FORMAT JSON)`` document."""
    if isinstance(doc, list) and len(doc) == 1:
        doc = doc[0]
    if isinstance(doc, dict) and "QUERY PLAN" in doc:  # a row as some clients export it
        return unwrap_postgres_json(doc["QUERY PLAN"])
    if not isinstance(doc, dict) or not isinstance(doc.get("Plan"), dict):
        raise PlanParseError(
            'not a PostgreSQL JSON plan: expected [{"Plan": {"Node Type": ...}}]',
            hint="paste the output of EXPLAIN (FORMAT JSON) ..., or the TEXT output as psql "
            "prints it",
        )
    return doc


def from_postgres_json(
    doc: Any, *, format: str = "postgresql-json", sql: str | None = None
) -> Plan:
    """Build the model from a PostgreSQL JSON document (a parsed ``EXPLAIN (FORMAT JSON)``)."""
    top = unwrap_postgres_json(doc)
    root_raw = top["Plan"]
    analyzed = "Actual Loops" in root_raw or "Actual Rows" in root_raw
    try:
        nodes = _build(root_raw, analyzed=analyzed)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanParseError(
            f"malformed PostgreSQL plan: {type(exc).__name__}: {exc}",
            hint="is the document complete? a truncated copy loses its closing brackets",
        ) from None
    plan = Plan(
        nodes[0],
        nodes=nodes,
        dialect="postgresql",
        format=format,
        raw=doc,
        analyzed=analyzed,
        planning_time_ms=_float(top.get("Planning Time")),
        execution_time_ms=_float(top.get("Execution Time", top.get("Total Runtime"))),
        jit=top.get("JIT"),
        triggers=list(top.get("Triggers") or []),
        settings={str(k): str(v) for k, v in (top.get("Settings") or {}).items()},
        sql=sql,
    )
    _exclusive_times(plan)
    return plan


def _build(raw: dict[str, Any], *, analyzed: bool) -> list[PlanNode]:
    """All nodes in pre-order, numbered and linked (iterative: plans can be thousands of nodes
    deep)."""
    nodes: list[PlanNode] = []
    stack: list[tuple[dict[str, Any], PlanNode | None, float]] = [(raw, None, 1.0)]
    while stack:
        data, parent, divisor = stack.pop()
        node = _node(data, analyzed, divisor)
        node.id = len(nodes)
        nodes.append(node)
        if parent is not None:
            node.parent = parent
            node.depth = parent.depth + 1
            parent.children.append(node)
        children = data.get("Plans")
        if not children:
            continue
        inside = divisor
        if data["Node Type"] in _PARALLEL_ROOTS:
            launched = data.get("Workers Launched", data.get("Workers Planned"))
            # the leader takes part too (parallel_leader_participation is on by default)
            inside = float(launched or 0) + 1.0
        for child in reversed(children):
            # like PEV2: InitPlans and SubPlans are not part of the parallel section's accounting
            outside = child.get("Parent Relationship") in ("InitPlan", "SubPlan")
            stack.append((child, node, 1.0 if outside else inside))
    return nodes


def _node(raw: dict[str, Any], analyzed: bool, divisor: float) -> PlanNode:
    get = raw.get
    loops = get("Actual Loops")
    total = get("Actual Total Time")
    node = PlanNode(
        operation=_operation(raw),
        relation=get("Relation Name"),
        schema=get("Schema"),
        alias=get("Alias"),
        index=get("Index Name"),
        join_type=get("Join Type"),
        startup_cost=get("Startup Cost"),
        total_cost=get("Total Cost"),
        width=get("Plan Width"),
        workers_planned=get("Workers Planned"),
        workers_launched=get("Workers Launched"),
        parent_relationship=get("Parent Relationship"),
        subplan_name=get("Subplan Name"),
        raw=raw,
    )
    plan_rows = get("Plan Rows")
    # one C-level set intersection finds the optional fields a node has (plans are big: a
    # dict lookup per possible field per node would dominate the parse)
    present = raw.keys() & _OPTIONAL
    if analyzed and loops is not None:
        node.loops = loops
        node.never_executed = loops == 0
        scale = float(loops)
        node.actual_rows = float(get("Actual Rows", 0.0)) * scale
        node.estimated_rows = float(plan_rows) * scale if plan_rows is not None else None
        if total is not None:
            node.inclusive_time_ms = float(total) * scale / divisor
            node.startup_time_ms = _float(get("Actual Startup Time"))
        for key in present & _REMOVED.keys():
            setattr(node, _REMOVED[key], float(raw[key]) * scale)
    elif plan_rows is not None:
        node.estimated_rows = float(plan_rows)
    if not present:
        return node
    for key in sorted(present & _CONDITION_KEYS, key=_RANK.__getitem__):  # stable order
        value = raw[key]
        node.conditions[key] = value if isinstance(value, str) else ", ".join(map(str, value))
    for key in sorted(present & _BUFFERS.keys(), key=_RANK.__getitem__):
        value = raw[key]
        if value:
            name = _BUFFERS[key]
            node.buffers[name] = node.buffers.get(name, 0.0) + float(value)
    for key in _TARGETS:
        if key in present:
            node.details["target"] = raw[key]
            break
    if present & _SPILL_KEYS:
        node.spill = _spill(raw)
    return node


def _operation(raw: dict[str, Any]) -> str:
    """The operation as PostgreSQL's TEXT format names it (what people recognise)."""
    node_type: str = raw["Node Type"]
    get = raw.get
    if node_type == "Aggregate":
        label = _AGGREGATE_LABELS.get(get("Strategy", "Plain"), "Aggregate")
        mode = get("Partial Mode")
        if mode in ("Partial", "Finalize"):
            label = f"{mode} {label}"
    elif node_type == "ModifyTable":
        label = get("Operation", node_type)
    elif node_type == "SetOp":
        label = ("HashSetOp" if get("Strategy") == "Hashed" else "SetOp") + (
            f" {get('Command')}" if get("Command") else ""
        )
    elif node_type in ("Hash Join", "Merge Join", "Nested Loop"):
        join = get("Join Type")
        if join and join != "Inner":
            label = (
                f"Nested Loop {join} Join"
                if node_type == "Nested Loop"
                else node_type.replace(" Join", f" {join} Join")
            )
        else:
            label = node_type
    elif node_type == "Custom Scan" and get("Custom Plan Provider"):
        label = f"Custom Scan ({get('Custom Plan Provider')})"
    else:
        label = node_type
    if get("Scan Direction") == "Backward":
        label += " Backward"
    if get("Parallel Aware"):
        label = f"Parallel {label}"
    return label


def _spill(raw: dict[str, Any]) -> Spill | None:
    get = raw.get
    if get("Sort Space Type") == "Disk":
        used = _float(get("Sort Space Used"))
        return Spill(
            "sort",
            f"{get('Sort Method', 'external sort')}, {used or 0:,.0f} kB on disk",
            disk_kb=used,
        )
    batches = get("Hash Batches")
    if batches and int(batches) > 1:
        original = get("Original Hash Batches")
        peak = get("Peak Memory Usage")
        return Spill(
            "hash",
            f"{batches} batches"
            + (f" (planned {original})" if original else "")
            + (f", peak memory {peak} kB" if peak is not None else ""),
            batches=int(batches),
        )
    agg_batches = get("HashAgg Batches")
    disk = _float(get("Disk Usage"))
    if (agg_batches and int(agg_batches) > 1) or (disk and disk > 0):
        return Spill(
            "aggregate",
            f"{agg_batches or '?'} batches, {disk or 0:,.0f} kB on disk",
            disk_kb=disk,
            batches=int(agg_batches) if agg_batches else None,
        )
    if get("Storage") == "Disk":
        used = _float(get("Maximum Storage"))
        return Spill("materialize", f"{used or 0:,.0f} kB on disk", disk_kb=used)
    return None


def _exclusive_times(plan: Plan) -> None:
    """Exclusive time (analysed plans) and exclusive cost (all plans), in one pass."""
    nodes = plan.nodes
    cte_scans: dict[str, list[PlanNode]] = {}
    for node in nodes:
        if node.raw.get("CTE Name") and node.raw.get("Node Type") == "CTE Scan":
            cte_scans.setdefault(node.raw["CTE Name"], []).append(node)
    timed = plan.root.inclusive_time_ms is not None
    spent = [0.0] * len(nodes)  # child time spent inside each node, by node id
    params = [0.0] * len(nodes)  # of which parameter InitPlans' (not CTEs')
    for node in nodes:
        below_cost = 0.0
        for child in node.children:
            below_cost += child.total_cost or 0.0
            if not timed or not child.inclusive_time_ms:
                continue
            if child.parent_relationship != "InitPlan":
                spent[node.id] += child.inclusive_time_ms
            else:
                is_cte = (child.subplan_name or "").startswith("CTE ")
                for target, share in _attribution(node, child, cte_scans):
                    spent[target.id] += share
                    if not is_cte:
                        params[target.id] += share
        if node.total_cost is not None:
            node.exclusive_cost = max(0.0, node.total_cost - below_cost)
    if not timed:
        return
    # Children first. Where PostgreSQL's clocks put more time under a node than the node shows
    # (a Gather shutting its workers down after its parent's clock stopped, a data-modifying CTE
    # finishing after the main plan), the node's own time is zero and its ancestors keep theirs,
    # as in PEV2. Only a parameter InitPlan's time is taken in full: the part its evaluator's
    # clock missed (its workers' shutdown) was seen by the level above, which keeps less (PEV2
    # lets the evaluator go negative instead: the same sum).
    for node in reversed(nodes):
        if node.inclusive_time_ms is None:
            node.exclusive_time_ms = 0.0 if node.never_executed else None
            continue
        own = node.inclusive_time_ms - spent[node.id]
        if own < 0 and node.parent is not None:
            missed = min(-own, params[node.id])
            spent[node.parent.id] += missed
            params[node.parent.id] += missed
        node.exclusive_time_ms = max(0.0, own)


def _attribution(
    parent: PlanNode, child: PlanNode, cte_scans: dict[str, list[PlanNode]]
) -> list[tuple[PlanNode, float]]:
    """Which nodes a child's inclusive time was spent inside, and how much in each."""
    time = child.inclusive_time_ms or 0.0
    if not time:
        return []
    name = child.subplan_name or ""
    if child.parent_relationship != "InitPlan":
        return [(parent, time)]
    if name.startswith("CTE "):
        scans = cte_scans.get(name[4:], [])
        total = sum(scan.inclusive_time_ms or 0.0 for scan in scans)
        if not total:
            return [(parent, time)]
        return [(scan, time * (scan.inclusive_time_ms or 0.0) / total) for scan in scans]
    return [(_evaluator(parent, child), time)]


def _evaluator(parent: PlanNode, initplan: PlanNode) -> PlanNode:
    """The node that evaluates an InitPlan's parameter: the first in ``parent``'s subtree
    (outside InitPlans) whose conditions or output mention it; else ``parent``."""
    name = initplan.subplan_name or ""
    tokens = []
    match = re.match(r"InitPlan (\d+)", name)
    if match:
        tokens.append(f"(InitPlan {match.group(1)})")  # PostgreSQL 16+: (InitPlan 1).col1
    tokens += _INITPLAN_PARAMS.findall(name.partition("returns")[2])  # older: returns $0
    if not tokens:
        return parent
    stack = [parent]
    while stack:
        node = stack.pop()
        texts = list(node.conditions.values())
        output = node.raw.get("Output")
        if output:
            texts.extend(output if isinstance(output, list) else [str(output)])
        if any(token in text for text in texts for token in tokens if _mentions(text, token)):
            return node
        stack.extend(c for c in reversed(node.children) if c.parent_relationship != "InitPlan")
    return parent


def _mentions(text: str, token: str) -> bool:
    if not token.startswith("$"):
        return True
    return re.search(re.escape(token) + r"(?!\d)", text) is not None  # $1 is not $10


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None
