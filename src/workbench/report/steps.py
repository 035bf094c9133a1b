"""Each recorded step as report blocks: one function per kind of step.

A step is read back as the object it was recorded from (``step.object(folder)``: profiles from
their ``.npz`` samples, plans from the engine's own document), so a report written after a
kernel restart shows the same charts as one written at once. What the rebuilt object lacks
(the statistics of the original run, a comparison's labels) comes from the step's data.

The builders live in :mod:`~workbench.report.measured` (plans, profiles, comparisons, sweeps,
captures) and :mod:`~workbench.report.analysed` (findings, answers, evidence, fix trials);
figures, tables and notes are here. A kind without a builder shows its data as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.investigation import StepKind
from workbench.report import advice, analysed, measured
from workbench.report.measured import stem
from workbench.report.views import Block, Code, ImageFile, Markdown, Table, Text, Verdict, cell

if TYPE_CHECKING:
    from workbench.investigation import Step

__all__ = ["BUILDERS", "step_blocks"]

#: rows of a recorded DataFrame shown in a report (the rest is in the investigation folder)
MAX_TABLE_ROWS = 200


def step_blocks(step: Step, folder: Path, *, charts: bool = True) -> list[Block]:
    """The blocks that show ``step``; a step that cannot be read says so instead of failing
    the whole report."""
    builder = BUILDERS.get(step.kind, _data)
    try:
        return builder(step, folder, charts)
    except Exception as exc:  # one broken step must not lose the rest of the report
        return [
            Verdict(f"this step could not be shown: {type(exc).__name__}: {exc}", "bad"),
            Code(json.dumps(step.data, indent=1, default=str)[:20_000], "json", "Recorded data"),
        ]


# -- figures, tables, notes ------------------------------------------------------------------------
def _figure(step: Step, folder: Path, charts: bool) -> list[Block]:
    files = tuple(
        (name.rsplit(".", 1)[-1].lower(), name)
        for name in step.artefacts
        if name.lower().endswith((".svg", ".png"))
    )
    if not files:
        return [Text("(the figure's image files are missing)", muted=True)]
    return [ImageFile(stem(step, "figure"), step.title, files)]


def _table(step: Step, folder: Path, charts: bool) -> list[Block]:
    records = step.data.get("records") or {}
    columns = tuple(str(c) for c in records.get("columns") or [])
    data = list(records.get("data") or [])
    rows = tuple(tuple(cell(v) for v in row) for row in data[:MAX_TABLE_ROWS])
    note = (
        f"{len(data) - MAX_TABLE_ROWS:,} more rows are in the investigation folder"
        if len(data) > MAX_TABLE_ROWS
        else None
    )
    return [Table(columns, rows, note=note)]


def _note(step: Step, folder: Path, charts: bool) -> list[Block]:
    return [Markdown(str(step.data.get("text") or ""))]


def _data(step: Step, folder: Path, charts: bool) -> list[Block]:
    return [Code(json.dumps(step.data, indent=1, default=str, ensure_ascii=False), "json")]


BUILDERS: dict[StepKind, Callable[[Step, Path, bool], list[Block]]] = {
    StepKind.PLAN: measured.plan,
    StepKind.PROFILE: measured.profile,
    StepKind.COMPARISON: measured.comparison,
    StepKind.SWEEP: measured.sweep,
    StepKind.CAPTURE: measured.capture,
    StepKind.FINDINGS: analysed.findings,
    StepKind.ANSWER: analysed.answer,
    StepKind.EVIDENCE: analysed.evidence,
    StepKind.FIX: analysed.fix,
    StepKind.ADVICE: advice.advice,
    StepKind.FIGURE: _figure,
    StepKind.TABLE: _table,
    StepKind.NOTE: _note,
}
