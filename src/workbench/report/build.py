"""An :class:`~workbench.investigation.Investigation` as a :class:`ReportView`: the summary,
the environment, every step in order, the before/after outcomes and the appendix."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.investigation import StepKind
from workbench.report.reproduce import reproductions
from workbench.report.steps import step_blocks
from workbench.report.views import Findings, Outcome, ReportView, StepView, Verdict

if TYPE_CHECKING:
    from workbench.findings import Finding
    from workbench.investigation import Investigation

__all__ = ["build_view"]

_SEVERITY = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
#: environment fields shown, in order, with their labels
_ENVIRONMENT = (
    ("label", "database"),
    ("dialect", "engine"),
    ("version", "version"),
    ("description", "server"),
)


def build_view(inv: Investigation, *, charts: bool = True) -> ReportView:
    """Everything the report shows, as plain blocks."""
    from workbench.version import __version__

    steps = [
        StepView(
            id=step.id,
            kind=step.kind,
            title=step.title,
            created_at=step.created_at,
            note=step.note,
            blocks=step_blocks(step, inv.folder, charts=charts),
        )
        for step in inv.steps
    ]
    env = inv.environment or {}
    environment = tuple((label, str(env[key])) for key, label in _ENVIRONMENT if env.get(key))
    settings = tuple(sorted((str(k), str(v)) for k, v in (env.get("settings") or {}).items()))
    return ReportView(
        title=inv.title,
        created_at=inv.created_at,
        generated_at=datetime.now().isoformat(timespec="seconds"),
        summary=inv.summary,
        environment=environment,
        settings=settings,
        steps=steps,
        findings=_all_findings(steps),
        outcomes=_outcomes(steps),
        reproductions=reproductions(inv),
        folder=str(inv.folder),
        counts=dict(Counter(step.kind for step in inv.steps)),
        version=__version__,
    )


def _all_findings(steps: list[StepView]) -> list[tuple[int, Finding]]:
    """Every finding of the investigation once (the first step that reported it), most severe
    first."""
    seen: set[tuple[str, str, str]] = set()
    found: list[tuple[int, Finding]] = []
    for step in steps:
        for block in _walk(step.blocks):
            if not isinstance(block, Findings):
                continue
            for finding in block.findings:
                key = (finding.code, finding.title, finding.fix or "")
                if key not in seen:
                    seen.add(key)
                    found.append((step.id, finding))
    return sorted(found, key=lambda item: _SEVERITY.get(item[1].severity, 9))


def _outcomes(steps: list[StepView]) -> list[Outcome]:
    """The verdict of every comparison and fix trial."""
    out = []
    for step in steps:
        if step.kind not in (StepKind.COMPARISON, StepKind.FIX):
            continue
        verdict = next((b for b in step.blocks if isinstance(b, Verdict)), None)
        if verdict is not None:
            out.append(Outcome(step.id, step.title, verdict.text, verdict.tone))
    return out


def _walk(blocks: Any) -> Any:
    for block in blocks:
        yield block
        inner = getattr(block, "blocks", None)
        if inner:
            yield from _walk(inner)
