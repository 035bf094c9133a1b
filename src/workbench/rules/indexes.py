"""Index rules: ``missing_index``, ``unindexed_foreign_key``, and the helpers the other index
suggestions share (:mod:`~workbench.rules.waste`, :mod:`~workbench.rules.loops`).

missing_index
    A full scan (PostgreSQL Seq Scan / Parallel Seq Scan, MySQL/MariaDB table scan, SQLite
    SCAN) of a table of ≥ 1,000 rows whose filter is selective (≥ 90% of the rows read are
    removed; without execution numbers, an estimate ≤ 10% of the table), on equality/range
    columns no B-tree index starts with. Also: the inner side of a nested loop scanned again
    for every outer row (loops > 1) with no index on the join key, and SQLite's AUTOMATIC
    indexes (built by the engine for each execution because none exists). The fix is
    ``CREATE INDEX <table>_<cols>_idx ON <table> (<equality columns>, <one range column>)``.
    DuckDB is skipped: its columnar scans use zone maps, not B-trees.
unindexed_foreign_key
    A foreign key whose columns start no index, on a table of ≥ 1,000 rows: joins and lookups
    by the key, and every delete of a parent row, scan the child table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlglot import exp

from workbench import formatting as fmt
from workbench.rules.base import Context, Table, inclusive_share, is_full_scan
from workbench.rules.predicates import Predicate, predicates
from workbench.rules.scans import condition_text, names_of, own_predicates, shown_condition, volume
from workbench.rules.text import (
    finding,
    index_name,
    lookup_effect,
    scan_severity,
)

if TYPE_CHECKING:
    from workbench.findings import Finding
    from workbench.plans.model import Plan, PlanNode

__all__ = [
    "RULES",
    "create_index",
    "index_columns",
    "inner_scan",
    "join_column",
    "missing_index",
    "serving_index",
    "unindexed_foreign_key",
]

MIN_TABLE_ROWS = 1_000
SELECTIVE = 0.9  # share of the rows read that the filter removed
FK_MIN_ROWS = 1_000
_MAX_INDEX_COLUMNS = 4


def index_columns(preds: list[Predicate], table: Table) -> list[str]:
    """Columns for a B-tree serving ``preds``: equality columns first, then one range column
    (a B-tree can only narrow on the first range column it meets)."""
    eq = [p.column for p in preds if p.kind == "eq" and p.column and table.has_column(p.column)]
    ranges = [
        p.column for p in preds if p.kind == "range" and p.column and table.has_column(p.column)
    ]
    eq = list(dict.fromkeys(eq))
    ranges = [c for c in dict.fromkeys(ranges) if c not in eq]
    return (eq[: _MAX_INDEX_COLUMNS - 1] + ranges[:1]) if eq else ranges[:1]


def create_index(ctx: Context, table: Table, columns: list[str]) -> str:
    """The ``CREATE INDEX`` for ``columns``, under a name nothing in the evidence has (callers
    check first that no index already serves them: :meth:`Table.serving_index`)."""
    name = ctx.free_name(index_name(table.name, *columns))
    cols = ", ".join(ctx.ident(c) for c in columns)
    return f"CREATE INDEX {ctx.ident(name)} ON {ctx.table_ref(table)} ({cols})"


def serving_index(table: Table, preds: list[Predicate]) -> str | None:
    """The index the planner could have used for ``preds`` (so none is missing)."""
    eq = [p.column for p in preds if p.kind == "eq" and p.column]
    lead = eq or [p.column for p in preds if p.kind == "range" and p.column][:1]
    for column in lead:
        index = table.leading_index(column)
        if index is not None:
            return str(index.get("name"))
    return None


# -- missing_index --------------------------------------------------------------------------------
def missing_index(ctx: Context) -> Iterator[Finding]:
    if ctx.dialect == "duckdb":
        return
    for i, plan, node in ctx.nodes():
        if is_full_scan(node):
            found = _filtered_scan(ctx, i, plan, node)
        elif _automatic_index(node):
            found = _sqlite_automatic(ctx, i, node)
        else:
            continue
        if found is not None:
            yield found
    for i, plan in enumerate(ctx.plans):
        for loop in _nested_loops(plan):
            yield from _inner_scans(ctx, i, plan, loop)


def _filtered_scan(ctx: Context, i: int, plan: Plan, node: PlanNode) -> Finding | None:
    table = ctx.table_or_stub(node.relation)
    if table is None:
        return None
    vol = volume(ctx, plan, node, table)
    if vol is None or vol.read < MIN_TABLE_ROWS or vol.removed_share < SELECTIVE:
        return None
    preds = own_predicates(ctx, node, table)
    columns = index_columns(preds, table)
    if not columns or serving_index(table, preds):
        return None
    ms = node.inclusive_time_ms
    share = inclusive_share(plan, node)
    filter_text = shown_condition(node, ctx.dialect) or " AND ".join(p.text for p in preds)
    label = f"#{node.id} {node.label}" if node.id >= 0 else node.label
    how = "read" if vol.measured else "is expected to read"
    known = ctx.table(node.relation) is not None
    detail = (
        f"Node {label} {how} {fmt.count(vol.read)} rows and its filter `{filter_text}` kept "
        f"{fmt.count(vol.kept)} ({fmt.percent(vol.removed_share)} thrown away); "
        + (
            f"no index starts with {', '.join(columns)}, so every execution reads the whole table."
            if known
            else f"the schema is not in the evidence: unless an index on {', '.join(columns)} "
            "exists and was not chosen, one would turn the scan into a lookup."
        )
    )
    return finding(
        "missing_index",
        scan_severity(vol.read, ms, share),
        f"{node.operation} on {table.name} reads {fmt.count(vol.read)} rows to keep "
        f"{fmt.count(vol.kept)}: no index on ({', '.join(columns)})",
        detail,
        evidence={
            "plan": i,
            "node": node.id,
            "rows_read": vol.read,
            "rows_kept": vol.kept,
            "removed_share": round(vol.removed_share, 4),
            "measured": vol.measured,
            "filter": ctx.shareable(filter_text),
            "columns": columns,
            "time_ms": ms,
            "table_rows": table.rows,
        },
        fix=create_index(ctx, table, columns),
        fix_kind="ddl",
        expected_effect=lookup_effect(vol.read, vol.kept, ms),
        node_ids=[node.id],
        tables=[table.name],
    )


def _automatic_index(node: PlanNode) -> bool:
    access = str(node.details.get("access") or node.index or "")
    return node.operation == "SEARCH" and "AUTOMATIC" in access.upper()


def _sqlite_automatic(ctx: Context, i: int, node: PlanNode) -> Finding | None:
    """SQLite built a temporary index for this join: it does so on every execution."""
    table = ctx.table(node.relation)
    if table is None:
        return None
    preds = predicates(node.conditions.get("Index Cond"), "sqlite")
    columns = index_columns(preds, table)
    if not columns or table.serving_index(columns) is not None:
        return None
    rows = table.rows or 0.0
    return finding(
        "missing_index",
        "high" if rows >= 100_000 else "medium",
        f"SQLite builds a temporary index on {table.name} ({', '.join(columns)}) on every run",
        f"Step #{node.id} `{node.raw.get('detail', node.label)}`: SQLite found no index for the "
        f"join on {', '.join(columns)} and builds an AUTOMATIC one from all "
        f"{fmt.count(rows)} rows each time the statement runs.",
        evidence={"plan": i, "node": node.id, "columns": columns, "table_rows": table.rows},
        fix=create_index(ctx, table, columns),
        fix_kind="ddl",
        expected_effect=f"no temporary index to build from {fmt.count(rows)} rows per execution; "
        "the join probes a permanent index instead",
        node_ids=[node.id],
        tables=[table.name],
    )


def _nested_loops(plan: Plan) -> Iterator[PlanNode]:
    for node in plan.root.walk():  # MySQL's nested loops are synthetic: walk the tree
        if "nested loop" in node.operation.lower() and len(node.children) >= 2:
            yield node


def inner_scan(node: PlanNode) -> PlanNode | None:
    """The scan under an inner side made of single-child wrappers (Materialize, Memoize)."""
    for _ in range(4):
        if node.relation:
            return node
        if len(node.children) != 1:
            return None
        node = node.children[0]
    return None


def join_column(ctx: Context, loop: PlanNode, scan: PlanNode, table: Table) -> str | None:
    """The inner table's column in the join condition (join filter or the scan's filter)."""
    names = names_of(scan)
    texts = [(loop.conditions.get("Join Filter"), False), (condition_text(scan), True)]
    for text, own_unqualified in texts:
        for p in predicates(text, ctx.dialect):
            if p.kind != "join" or p.other is None:
                continue
            if p.qualifier in names or (own_unqualified and p.qualifier is None):
                column = p.column
            elif p.other[0] in names or (own_unqualified and p.other[0] is None):
                column = p.other[1]
            else:
                continue
            if column and table.has_column(column):
                return column
    return None


def _inner_scans(ctx: Context, i: int, plan: Plan, loop: PlanNode) -> Iterator[Finding]:
    for inner in loop.children[1:]:
        scan = inner_scan(inner)
        if scan is None or not is_full_scan(scan):
            continue
        table = ctx.table(scan.relation)
        if table is None or (table.rows or 0.0) < MIN_TABLE_ROWS:
            continue
        loops = max(float(scan.loops or 1.0), float(inner.loops or 1.0))
        if loops <= 1 and not ctx.is_mysql:  # MySQL's join buffer re-reads it per batch
            continue
        key = join_column(ctx, loop, scan, table)
        if key is None or table.leading_index(key) is not None:
            continue
        others = [c for c in index_columns(own_predicates(ctx, scan, table), table) if c != key]
        columns = [key, *others][:_MAX_INDEX_COLUMNS]
        yield _inner_finding(ctx, i, plan, loop, scan, table, columns, loops)


def _inner_finding(
    ctx: Context,
    i: int,
    plan: Plan,
    loop: PlanNode,
    scan: PlanNode,
    table: Table,
    columns: list[str],
    loops: float,
) -> Finding:
    rows = table.rows or 0.0
    read = rows * loops
    ms = loop.children[-1].inclusive_time_ms if loop.children else None
    per_loop = (loop.actual_rows or 0.0) / loops if loops else 0.0
    return finding(
        "missing_index",
        scan_severity(read, ms, inclusive_share(plan, scan)),
        f"{table.name} is scanned in full {fmt.count(loops)} times by a nested loop: "
        f"no index on {columns[0]}",
        f"The inner side of node #{loop.id} ({loop.label}) is {scan.label}: for each of the "
        f"{fmt.count(loops)} outer rows it reads all {fmt.count(rows)} rows of {table.name} "
        "to find "
        f"the matching {columns[0]} (about {fmt.count(read)} rows read in total).",
        evidence={
            "plan": i,
            "node": scan.id,
            "join_node": loop.id,
            "loops": loops,
            "table_rows": table.rows,
            "columns": columns,
            "time_ms": ms,
        },
        fix=create_index(ctx, table, columns),
        fix_kind="ddl",
        expected_effect=f"{fmt.count(loops)} full scans of {fmt.count(rows)} rows become "
        f"{fmt.count(loops)} index lookups of ~{fmt.count(max(per_loop, 1))} rows each"
        + (f": from ~{fmt.milliseconds(ms)} to a few ms" if ms else ""),
        node_ids=[scan.id, loop.id] if loop.id >= 0 else [scan.id],
        tables=[table.name],
    )


# -- unindexed_foreign_key ------------------------------------------------------------------------
def unindexed_foreign_key(ctx: Context) -> Iterator[Finding]:
    for table in ctx.tables():
        rows = table.rows
        if rows is None or rows < FK_MIN_ROWS:
            continue
        for fk in table.foreign_keys:
            listed = fk.get("columns")
            columns = [str(c) for c in listed if c] if isinstance(listed, list | tuple) else []
            if not columns or table.index_with_prefix(columns) is not None:
                continue
            if not _query_uses_key(ctx, columns, str(fk.get("referenced_table") or "")):
                continue  # a schema fact this query does not touch: no finding
            yield _fk_finding(ctx, table, fk, columns, rows)


def _query_uses_key(ctx: Context, columns: list[str], parent: str) -> bool:
    """Whether the statement looks up, joins or changes rows through the foreign key: it names
    the key column, reads the parent table too, or has no SQL and no plan to tell."""
    if not ctx.ev.sql and not ctx.plans:
        return True
    words = {c.lower() for c in columns}
    tree = ctx.sql_tree
    if tree is not None:
        named = {c.name.lower() for c in tree.find_all(exp.Column)}
        tables = {t.name.lower() for t in tree.find_all(exp.Table)}
        if words & named or parent.split(".")[-1].lower() in tables:
            return True
    text = " ".join(
        condition for _, _, node in ctx.nodes() for condition in node.conditions.values()
    ).lower()
    return any(re.search(rf"\b{re.escape(w)}\b", text) for w in words)


def _fk_finding(
    ctx: Context, table: Table, fk: dict[str, object], columns: list[str], rows: float
) -> Finding:
    parent = str(fk.get("referenced_table") or "its parent table")
    cols = ", ".join(columns)
    return finding(
        "unindexed_foreign_key",
        "medium" if rows >= 100_000 else "low",
        f"Foreign key {table.name}({cols}) → {parent} has no index",
        f"{table.name} ({fmt.count(rows)} rows) references {parent} through {cols}, but no index "
        f"starts with {cols}: finding the {table.name} rows of one {parent} row, joining from "
        f"{parent}, and every DELETE or key UPDATE on {parent} scan the whole table.",
        evidence={"constraint": fk.get("name"), "columns": columns, "table_rows": rows},
        fix=create_index(ctx, table, columns),
        fix_kind="ddl",
        expected_effect=f"lookups by {cols} read a few index entries instead of "
        f"{fmt.count(rows)} rows, and parent deletes stop scanning {table.name}",
        tables=[table.name],
    )


RULES = (missing_index, unindexed_foreign_key)
