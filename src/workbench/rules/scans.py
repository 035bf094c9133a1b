"""What a scan node did: which table, which of its conditions are about that table, how many
rows it read and kept. Shared by the index and sargability rules.

Engines differ in what they show. PostgreSQL and MariaDB put the filter on the scan and count
the rows it removed; MySQL's TREE format puts the filter on a ``Filter`` node above the scan;
SQLite shows no filter at all, so the statement's WHERE clause stands in for it and the rows
the statement returned for what the scan kept (when the statement reads one table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.rules.predicates import (
    ColumnTypes,
    Predicate,
    classify,
    conjuncts,
    display,
    parse_condition,
    sql_scopes,
)

if TYPE_CHECKING:
    from workbench.plans.model import Plan, PlanNode
    from workbench.rules.base import (
        Context,
        Table,
    )

__all__ = ["Volume", "condition_text", "names_of", "own_predicates", "shown_condition", "volume"]

#: condition kinds that filter rows after they are read (not index conditions)
FILTERS = ("Filter",)


@dataclass(frozen=True)
class Volume:
    """Rows a scan read and kept; ``measured`` when they come from execution, not estimates."""

    read: float
    kept: float
    measured: bool

    @property
    def removed_share(self) -> float:
        return 0.0 if self.read <= 0 else max(0.0, min(1.0, 1.0 - self.kept / self.read))


def names_of(node: PlanNode) -> set[str]:
    """How conditions qualify the node's columns: its alias when it has one (in a self-join
    the table name alone would match both sides), else its table name."""
    name = node.alias or node.relation
    return {name.lower()} if name else set()


def condition_text(node: PlanNode, kind: str = "Filter") -> str | None:
    """A condition of the node; for MySQL's TREE format, the ``Filter`` node right above."""
    text = node.conditions.get(kind)
    if text:
        return text
    parent = node.parent
    if kind == "Filter" and parent is not None and parent.operation == "Filter":
        return parent.conditions.get("Filter")
    return None


def shown_condition(node: PlanNode, dialect: str, kind: str = "Filter") -> str | None:
    """A condition as a person would write it (PostgreSQL's casts removed)."""
    text = condition_text(node, kind)
    parsed = parse_condition(text, dialect)
    return display(parsed) if parsed is not None else text


def own_predicates(
    ctx: Context,
    node: PlanNode,
    table: Table | None,
    kinds: tuple[str, ...] = FILTERS,
    *,
    from_sql: bool = True,
) -> list[Predicate]:
    """The predicates of ``node``'s conditions that are about its own table (or, when the
    engine shows no conditions, those of the statement's WHERE clause)."""
    names = names_of(node)
    types = _types(table)
    found: list[Predicate] = []
    shown = False
    for kind in kinds:
        text = condition_text(node, kind)
        if not text:
            continue
        shown = True
        for conjunct in conjuncts(parse_condition(text, ctx.dialect)):
            predicate = classify(conjunct, types)
            if predicate.column and _owned(predicate, names, table):
                found.append(predicate)
    if not shown and from_sql and ctx.dialect == "sqlite":
        found.extend(sql_predicates(ctx, node))
    return found


def sql_predicates(ctx: Context, node: PlanNode) -> list[Predicate]:
    """The WHERE/ON predicates of the statement about the node's table."""
    names = names_of(node)
    found = []
    for scope in sql_scopes(ctx):
        if not names & set(scope.sources):
            continue
        for predicate in scope.predicates:
            owner = scope.table_of(predicate, ctx)
            if owner is not None and owner.name.lower() == (node.relation or "").lower():
                found.append(predicate)
    return found


def _owned(predicate: Predicate, names: set[str], table: Table | None) -> bool:
    if predicate.qualifier is not None:
        return predicate.qualifier in names
    return table is None or table.has_column(predicate.column or "")


def _types(table: Table | None) -> ColumnTypes | None:
    if table is None:
        return None
    return lambda _qualifier, column: table.column_type(column)


def volume(ctx: Context, plan: Plan, node: PlanNode, table: Table | None) -> Volume | None:
    """Rows read and kept by a scan, measured when the plan was executed."""
    if node.actual_rows is not None and not node.never_executed:
        kept = float(node.actual_rows)
        if node.rows_removed_by_filter is not None:
            return Volume(kept + float(node.rows_removed_by_filter), kept, True)
        parent = node.parent
        if parent is not None and parent.operation == "Filter" and parent.actual_rows is not None:
            return Volume(kept, float(parent.actual_rows), True)  # MySQL TREE
        scanned = node.details.get("rows_scanned")
        if isinstance(scanned, int | float):
            return Volume(float(scanned), kept, True)  # DuckDB
        if ctx.dialect != "sqlite":
            return Volume(kept, kept, True)
    if ctx.dialect == "sqlite":
        return _sqlite_volume(plan, node, table)
    rows = table.rows if table else None
    if rows is None and table is not None and ctx.is_postgres:
        rows = _rows_from_size(table, node)
    if rows is None or node.estimated_rows is None:
        return None
    return Volume(rows, float(node.estimated_rows), False)


def _rows_from_size(table: Table, node: PlanNode) -> float | None:
    """A never-analysed table's rows guessed from its size and the plan's row width (heap
    tuples carry ~28 bytes of header and item pointer), as the planner itself guesses."""
    size = table.data.get("size_bytes")
    if not isinstance(size, int | float) or size <= 0:
        return None
    return float(size) / (float(node.width or 32) + 28.0)


def _sqlite_volume(plan: Plan, node: PlanNode, table: Table | None) -> Volume | None:
    """SQLite measures the statement, not the steps: a lone scan kept what it returned."""
    rows = table.rows if table else None
    if rows is None:
        return None
    scans = [n for n in plan.nodes if n.relation]
    returned = plan.statement_rows
    if returned is None and plan.root.actual_rows is not None:
        returned = int(plan.root.actual_rows)
    if len(scans) == 1 and returned is not None:
        return Volume(rows, float(returned), True)
    return None
