"""An index advice step as report blocks: how it was judged, each recommendation with its
DDL, the statements it helps (planner cost and measured latency before and after), its size
and write cost, and the chart."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from workbench import formatting as fmt
from workbench.report.measured import stem
from workbench.report.views import Block, Chart, Code, Facts, Table, Text, Verdict

if TYPE_CHECKING:
    from workbench.advisor import Advice
    from workbench.investigation import Step

__all__ = ["advice"]


def advice(step: Step, folder: Path, charts: bool) -> list[Block]:
    from workbench.advisor.advice import size

    recorded: Advice = step.object(folder)
    blocks: list[Block] = [
        Facts(
            (
                ("engine", recorded.dialect),
                ("judged by", recorded.method),
                ("statements", str(len(recorded.statements))),
                ("candidates", str(recorded.candidates)),
                ("planner calls", str(recorded.planner_calls)),
                ("wall time", fmt.milliseconds(recorded.wall_s * 1000)),
                ("measured", "yes, in a rolled-back transaction" if recorded.verified else "no"),
            )
        )
    ]
    if not recorded.recommendations:
        blocks.append(Verdict("No index to add.", "neutral"))
    for number, r in enumerate(recorded.recommendations, start=1):
        saved = (
            f"{fmt.milliseconds(r.measured_saved_ms)} of workload time (measured)"
            if r.measured_saved_ms is not None
            else f"{fmt.milliseconds(r.estimated_saved_ms)} of workload time (planner estimate)"
            if r.estimated_saved_ms is not None
            else f"{fmt.number(r.cost_saved)} planner cost units"
        )
        blocks.append(Code(r.ddl, "sql", f"{number}. {r.spec.label()}"))
        blocks.append(
            Facts(
                (
                    ("saves", saved),
                    ("size", size(r.size_bytes) + (f" ({r.size_source})" if r.size_source else "")),
                    ("writes", r.write_overhead.describe() if r.write_overhead else "not measured"),
                )
            )
        )
        rows = tuple(
            (
                fmt.clip(q.sql, 200),
                fmt.number(q.cost_before),
                fmt.number(q.cost_after),
                q.verdict or "not measured",
            )
            for q in r.queries
        )
        if rows:
            blocks.append(
                Table(
                    ("statement", "planner cost today", "with the index", "measured"),
                    rows,
                    caption="Statements it helps",
                    numeric=frozenset({1, 2}),
                )
            )
        blocks.extend(Text(n, muted=True) for n in r.notes)
    blocks.extend(Text(n, muted=True) for n in recorded.notes)
    if charts and recorded.recommendations:
        blocks.append(
            Chart(stem(step, "advice"), "Each helped statement before and after", recorded.chart)
        )
    return blocks
