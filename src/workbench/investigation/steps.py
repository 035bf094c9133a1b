"""The steps of an investigation: what each one recorded (:class:`StepKind`), its data as
saved, and the workbench object it is rebuilt into after a reload."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench import formatting as fmt

__all__ = ["REBUILT", "Step", "StepKind", "default_title", "step_from_dict"]


class StepKind(enum.StrEnum):
    """What a step recorded; the report draws each kind its own way (its value is what
    ``investigation.json`` stores)."""

    PLAN = "plan"
    PROFILE = "profile"
    COMPARISON = "comparison"
    SWEEP = "sweep"
    CAPTURE = "capture"
    EVIDENCE = "evidence"
    FINDINGS = "findings"
    ANSWER = "answer"
    FIX = "fix"
    ADVICE = "advice"
    FIGURE = "figure"
    TABLE = "table"
    NOTE = "note"
    DATA = "data"


REBUILT = frozenset({StepKind.PLAN, StepKind.FIX, StepKind.EVIDENCE})


@dataclass
class Step:
    """One recorded step. ``data`` is JSON; ``artefacts`` are files in the folder."""

    id: int
    kind: StepKind
    title: str
    created_at: str
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    artefacts: list[str] = field(default_factory=list)
    code: str | None = None  # the Python line that reproduces it
    _object: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "created_at": self.created_at,
            "note": self.note,
            "data": self.data,
            "artefacts": self.artefacts,
            "code": self.code,
        }

    def object(self, folder: Path) -> Any:
        """The step as the workbench object it was recorded from (rebuilt after a reload)."""
        if self._object is None:
            self._object = rebuild(self, folder)
        return self._object


def rebuild(step: Step, folder: Path) -> Any:
    data = step.data
    if step.kind is StepKind.PLAN:
        from workbench.plans import from_dict

        return from_dict(data["plan"])
    if step.kind is StepKind.PROFILE:
        return _load_profile(folder, data["samples"], data)
    if step.kind is StepKind.COMPARISON:
        from workbench.profiling.result import Comparison

        base = _load_profile(
            folder, data["baseline_samples"], {"label": data.get("baseline_label")}
        )
        cand = _load_profile(
            folder, data["candidate_samples"], {"label": data.get("candidate_label")}
        )
        return Comparison.between(base, cand)
    if step.kind is StepKind.ANSWER:
        from workbench.architect import Answer

        return Answer.from_dict(data)
    if step.kind is StepKind.EVIDENCE:
        from workbench.evidence import Evidence

        return Evidence.from_dict(data)
    if step.kind is StepKind.FINDINGS:
        from workbench.findings import Finding

        return [Finding.from_dict(f) for f in data.get("findings", [])]
    if step.kind is StepKind.FIX:
        from workbench.fixes import FixTrial
        from workbench.plans import from_dict

        return FixTrial(
            fix=data["fix"],
            sql=data["sql"],
            statements=data.get("statements", []),
            settings=data.get("settings", {}),
            before=from_dict(data["before"]),
            after=from_dict(data["after"]),
            notes=data.get("notes", []),
        )
    if step.kind is StepKind.SWEEP:
        from workbench.profiling.sweep import Sweep

        levels = data.get("levels", [])
        profiles = []
        for name, level in zip(data.get("samples", []), levels, strict=False):
            profile = _load_profile(
                folder,
                name,
                {
                    "sql": data.get("sql"),
                    "mode": level.get("mode"),
                    "concurrency": level.get("concurrency", 1),
                },
            )
            profiles.append(profile)
        return Sweep(data.get("sql", ""), profiles)
    if step.kind is StepKind.ADVICE:
        from workbench.advisor import Advice

        return Advice.from_dict(data)
    if step.kind is StepKind.NOTE:
        return data.get("text", "")
    return data


def _load_profile(folder: Path, name: str, meta: dict[str, Any]) -> Any:
    import numpy as np

    from workbench.profiling.result import Profile
    from workbench.profiling.server_side import ServerStatements

    server = meta.get("server")
    with np.load(folder / name) as arrays:
        extra = {k[len("extra_") :]: arrays[k] for k in arrays.files if k.startswith("extra_")}
        profile = Profile(
            sql=meta.get("sql") or "",
            dialect=meta.get("dialect", ""),
            mode=meta.get("mode", "in-process"),
            concurrency=int(meta.get("concurrency", 1)),
            start_ms=arrays["start_ms"],
            all_latencies_ms=arrays["latency_ms"],
            rows=arrays["rows"],
            worker=arrays["worker"],
            error=arrays["error"],
            messages=list(meta.get("errors", [])),
            params=meta.get("params", "none"),
            label=meta.get("label"),
            extra=extra,
            notes=list(meta.get("notes", [])),
        )
    if isinstance(server, dict):  # an endpoint's profile: the statements the server counted
        profile.server = ServerStatements.from_dict(server)
    return profile


def default_title(kind: StepKind, obj: Any) -> str:

    if kind is StepKind.PLAN:
        return f"Plan: {fmt.clip(obj.sql or obj.root.label, 70)}"
    if kind is StepKind.PROFILE:
        return f"Profile: {obj.label or fmt.clip(obj.sql, 70)}"
    if kind is StepKind.COMPARISON:
        return f"Before/after: {obj.verdict}"
    if kind is StepKind.CAPTURE:
        return f"Capture: {len(obj)} statements"
    if kind is StepKind.ANSWER:
        return "Architect's answer" if not obj.offline else "Offline findings"
    if kind is StepKind.FIX:
        return f"Fix tried: {fmt.clip(obj.fix, 60)}"
    if kind is StepKind.FINDINGS:
        return "Findings"
    if kind is StepKind.ADVICE:
        count = len(obj.recommendations)
        return f"Index advice: {count} index{'es' if count != 1 else ''} recommended"
    if kind is StepKind.FIGURE:
        axes = getattr(obj, "axes", [])
        return axes[0].get_title() if axes and axes[0].get_title() else "Figure"
    return kind.title()


def step_from_dict(data: dict[str, Any]) -> Step:
    """A step read back from ``investigation.json`` (a kind this version does not know is kept
    as data)."""
    fields = {k: v for k, v in data.items() if k in Step.__dataclass_fields__}
    try:
        fields["kind"] = StepKind(str(fields.get("kind")))
    except ValueError:
        fields["kind"] = StepKind.DATA
    return Step(**fields)
