"""The investigation log: every step, in order, saved on disk as it grows.

``inv = wb.Investigation("slow /api/users")`` creates a folder under ``investigations/``;
``inv.record(obj, note="...")`` appends a step (a plan, a profile, a capture, a comparison,
findings, an architect's answer, a fix trial, a figure, a note) and rewrites
``investigation.json`` at once, large artefacts beside it (profile samples as ``.npz``,
figures as SVG and PNG). After a kernel restart, ``wb.Investigation.load(folder)`` has it all
back; ``inv.export("report.html")`` turns it into a report.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from workbench.errors import ConfigurationError
from workbench.investigation.steps import (
    REBUILT,
    Step,
    StepKind,
    default_title,
    step_from_dict,
)
from workbench.paths import writable_place

if TYPE_CHECKING:
    import pandas as pd

    from workbench.catalog import ServerInfo

__all__ = ["Connected", "Investigation", "ReportPath", "Step", "StepKind"]


class Connected(Protocol):
    """What an investigation records of the database it runs against (a session is one)."""

    @property
    def dialect(self) -> str: ...

    @property
    def server(self) -> ServerInfo: ...

    label: str | None

    def settings(self) -> pd.DataFrame: ...


FORMAT_VERSION = 1
INDEX = "investigation.json"


class Investigation:
    """A titled, ordered, persistent record of an investigation.

    >>> inv = wb.Investigation("slow /api/users")           # doctest: +SKIP
    >>> inv.record(plan, note="the scan of orders dominates") # doctest: +SKIP
    >>> inv.export("report.html")                             # doctest: +SKIP
    """

    def __init__(
        self,
        title: str,
        *,
        folder: str | Path | None = None,
        session: Connected | None = None,
        summary: str | None = None,
        lazy: bool = False,
    ) -> None:
        if not title or not str(title).strip():
            raise ConfigurationError("an investigation needs a title")
        self.title = str(title).strip()
        self.created_at = datetime.now().isoformat(timespec="seconds")
        self.summary = summary
        self.steps: list[Step] = []
        self.environment: dict[str, Any] = {}
        if folder is None:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            # under the notebook's folder, or the user's own when that is read-only (a class
            # on one JupyterHub)
            folder = writable_place(
                Path("investigations") / f"{stamp}-{_slug(self.title)}", fallback="investigations"
            )
        self.folder = Path(folder)
        # lazy: nothing on disk until the first step (a panel opened and left empty leaves no
        # folder behind)
        self._lazy = lazy
        if session is not None:
            self.attach(session)
        self.save()

    # -- recording --------------------------------------------------------------------------------
    def attach(self, session: Connected) -> None:
        """Record which database the investigation runs against (never its credentials)."""
        self.environment = {
            "dialect": session.dialect,
            "version": session.server.version,
            "description": session.server.description,
            "label": session.label,
            "settings": {
                r["name"]: str(r["value"]) + (str(r["unit"]) if isinstance(r["unit"], str) else "")
                for r in session.settings().to_dict("records")
            },
        }
        self.save()

    def record(
        self,
        obj: Any,
        note: str | None = None,
        *,
        title: str | None = None,
        code: str | None = None,
    ) -> Step:
        """Append ``obj`` as a step and save. Anything the workbench returns can be recorded,
        and also a matplotlib figure, a DataFrame, a string (a note) or a dict."""
        kind, data, artefacts = self._serialise(obj, len(self.steps) + 1)
        step = Step(
            id=len(self.steps) + 1,
            kind=kind,
            title=title or default_title(kind, obj),
            created_at=datetime.now().isoformat(timespec="seconds"),
            note=note,
            data=data,
            artefacts=artefacts,
            code=code,
            # what holds plans is read back from what was saved, so an export shows exactly
            # that (a plan's parameter values are left out of the saved copy)
            _object=None if kind in REBUILT else obj,
        )
        self.steps.append(step)
        self.save()
        return step

    def note(self, text: str, *, title: str = "Note") -> Step:
        """A note in the investigation's own words."""
        return self.record(text, title=title)

    def _serialise(self, obj: Any, number: int) -> tuple[StepKind, dict[str, Any], list[str]]:
        from workbench.advisor import Advice
        from workbench.architect import Answer
        from workbench.capture import Capture
        from workbench.evidence import Evidence
        from workbench.findings import Finding
        from workbench.fixes import FixTrial
        from workbench.plans.model import Plan
        from workbench.profiling.result import Comparison, Profile
        from workbench.profiling.sweep import Sweep

        if isinstance(obj, Plan):
            return StepKind.PLAN, {"plan": obj.to_dict(), "summary": obj.summary()}, []
        if isinstance(obj, Profile):
            samples = self._save_samples(obj, f"step{number:03d}-profile")
            data = Evidence.profile_summary(obj) | {"samples": samples}
            return StepKind.PROFILE, data, [samples]
        if isinstance(obj, Comparison):
            first = self._save_samples(obj.baseline, f"step{number:03d}-baseline")
            second = self._save_samples(obj.candidate, f"step{number:03d}-candidate")
            return (
                StepKind.COMPARISON,
                obj.summary()
                | {
                    "baseline_samples": first,
                    "candidate_samples": second,
                    "baseline": obj.baseline.label or obj.baseline.sql,
                    "candidate": obj.candidate.label or obj.candidate.sql,
                    "baseline_label": obj.baseline.label,
                    "candidate_label": obj.candidate.label,
                },
                [first, second],
            )
        if isinstance(obj, Sweep):
            names = [
                self._save_samples(p, f"step{number:03d}-c{p.concurrency}") for p in obj.profiles
            ]
            return (
                StepKind.SWEEP,
                {"sql": obj.sql, "levels": obj.to_frame().to_dict("records"), "samples": names},
                names,
            )
        if isinstance(obj, Capture):
            return StepKind.CAPTURE, obj.to_dict(), []
        if isinstance(obj, Answer):
            return StepKind.ANSWER, obj.to_dict(), []
        if isinstance(obj, Evidence):
            return StepKind.EVIDENCE, obj.to_dict(), []
        if isinstance(obj, FixTrial):
            return StepKind.FIX, obj.to_dict(), []
        if isinstance(obj, Advice):
            return StepKind.ADVICE, json.loads(json.dumps(obj.to_dict(), default=str)), []
        if isinstance(obj, Finding):
            return StepKind.FINDINGS, {"findings": [obj.to_dict()]}, []
        if isinstance(obj, list | tuple) and all(isinstance(f, Finding) for f in obj):
            return StepKind.FINDINGS, {"findings": [f.to_dict() for f in obj]}, []
        if _is_figure(obj):
            return StepKind.FIGURE, {}, self._save_figure(obj, f"step{number:03d}-figure")
        if _is_frame(obj):
            return (
                StepKind.TABLE,
                {"records": json.loads(obj.to_json(orient="split", default_handler=str))},
                [],
            )
        if isinstance(obj, str):
            return StepKind.NOTE, {"text": obj}, []
        if isinstance(obj, dict):
            return StepKind.DATA, json.loads(json.dumps(obj, default=str)), []
        raise ConfigurationError(
            f"cannot record a {type(obj).__name__}",
            hint="record plans, profiles, captures, comparisons, findings, answers, fix trials, "
            "figures, DataFrames, dicts or text",
        )

    def _save_samples(self, profile: Any, stem: str) -> str:
        import numpy as np

        name = f"{stem}.npz"
        np.savez_compressed(
            self.folder / name,
            start_ms=profile.start_ms,
            latency_ms=profile.all_latencies_ms,
            rows=profile.rows,
            worker=profile.worker,
            error=profile.error,
            **{f"extra_{k}": v for k, v in profile.extra.items()},
        )
        return name

    def _save_figure(self, figure: Any, stem: str) -> list[str]:
        names = [f"{stem}.svg", f"{stem}.png"]
        figure.savefig(self.folder / names[0], format="svg")
        figure.savefig(self.folder / names[1], format="png", dpi=110)
        return names

    # -- persistence ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "title": self.title,
            "summary": self.summary,
            "created_at": self.created_at,
            "environment": self.environment,
            "steps": [s.to_dict() for s in self.steps],
        }

    def save(self) -> Path:
        """Rewrite ``investigation.json`` atomically (a crash never leaves half a file)."""
        target = self.folder / INDEX
        if self._lazy and not self.steps:
            return target
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".investigation-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(self.to_dict(), out, indent=1, default=str, ensure_ascii=False)
        os.replace(temporary, target)
        return target

    @classmethod
    def load(cls, folder: str | Path) -> Investigation:
        """An investigation saved earlier (after a kernel restart, on another machine)."""
        path = Path(folder)
        index = path / INDEX if path.is_dir() else path
        if not index.is_file():
            raise ConfigurationError(
                f"no investigation at {folder}", hint=f"pass the folder that holds {INDEX}"
            )
        try:
            data = json.loads(index.read_text(encoding="utf-8"))
            inv = cls.__new__(cls)
            inv.title = str(data["title"])
            inv.summary = data.get("summary")
            inv.created_at = data.get("created_at", "")
            inv.environment = data.get("environment", {})
            inv.folder = index.parent
            inv._lazy = False
            inv.steps = [step_from_dict(s) for s in data.get("steps", [])]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # a hand-edited or truncated file: say which, and that nothing was changed
            raise ConfigurationError(
                f"{index} is not a readable investigation ({type(exc).__name__}: {exc})",
                hint="restore it from a copy (investigations are plain JSON), or start a new one",
            ) from None
        return inv

    # -- reading ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, index: int) -> Step:
        return self.steps[index]

    def objects(self, kind: StepKind | str | None = None) -> list[Any]:
        """The recorded objects (rebuilt after a reload), optionally of one kind."""
        return [s.object(self.folder) for s in self.steps if kind is None or s.kind == kind]

    def export(self, path: str | Path, **options: Any) -> Path:
        """Write the report: ``.html`` (self-contained), ``.md`` (images beside it) or ``.pdf``
        (through headless Chromium, where installed)."""
        from workbench.report import export

        return ReportPath(export(self, Path(path), **options))

    def __repr__(self) -> str:
        kinds = ", ".join(s.kind for s in self.steps[-6:])
        return f"<Investigation {self.title!r}: {len(self.steps)} steps ({kinds}) in {self.folder}>"

    def _repr_html_(self) -> str:
        from workbench.safe_html import escape

        rows = "".join(
            f"<li>{s.id}. <b>{escape(s.kind)}</b> {escape(s.title)}"
            f"{' — ' + escape(s.note) if s.note else ''}</li>"
            for s in self.steps
        )
        return (
            f"<div class='wb-investigation'><b>{escape(self.title)}</b> "
            f"<small>{escape(str(self.folder))}</small><ol>{rows}</ol></div>"
        )


class ReportPath(type(Path())):  # type: ignore[misc]
    """The path of a written report: a ``Path`` in code, a link in a notebook."""

    def link_html(self) -> str:
        """A link that opens the report: relative to the notebook's folder where it can be
        (JupyterLab opens those), a file URL otherwise."""
        import os

        from workbench.safe_html import escape

        try:
            shown = os.path.relpath(self.resolve(), Path.cwd())
        except ValueError:  # another drive
            shown = str(self)
        href = shown if not shown.startswith("..") else self.resolve().as_uri()
        return f"<a href='{escape(href)}' target='_blank' rel='noopener'>{escape(shown)}</a>"

    def _repr_html_(self) -> str:
        return f"Report: {self.link_html()}"


def _is_figure(obj: Any) -> bool:
    from matplotlib.figure import Figure

    return isinstance(obj, Figure)


def _is_frame(obj: Any) -> bool:
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "to_json")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "investigation"
