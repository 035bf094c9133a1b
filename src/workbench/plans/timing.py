"""Whole-statement timing for engines whose plans carry none per step (SQLite, and DuckDB when
its profiler cannot run a statement)."""

from __future__ import annotations

from workbench.plans.model import Plan

__all__ = ["attach_statement_time"]


def attach_statement_time(plan: Plan, elapsed_ms: float, rows: int | None = None) -> None:
    """Put the statement's measured time (and row count) on the plan's root."""
    root = plan.root
    root.inclusive_time_ms = root.exclusive_time_ms = float(elapsed_ms)
    root.loops = 1.0
    if rows is not None:
        root.actual_rows = float(rows)
    plan.execution_time_ms = float(elapsed_ms)
    plan.analyzed = True
    plan._totals.clear()
    plan.statement_rows = rows
    note = (
        f"{plan.dialect} reports no per-step timing: the statement was run and its time "
        "({elapsed_ms:.3f} ms) is on the root"
    ).format(elapsed_ms=elapsed_ms)
    if note not in plan.notes:
        plan.notes.append(note)
