"""Each learner's check results in one small JSON file, and the class's progress read from a
folder of them.

Where: ``WORKBENCH_WORKSHOP_DIR`` (a folder the whole class can write, e.g. on a JupyterHub
``/srv/workshop/results`` with mode 1777), else ``workshop/`` in the learner's own workbench
directory (``WORKBENCH_HOME`` or the user data directory), which is writable even when the
notebook folder is not. Who: ``WORKBENCH_LEARNER``, else ``JUPYTERHUB_USER``, else the login
name. A file holds, per scenario, whether it passed, the attempts, when, and the last message.

>>> import tempfile
>>> from workbench.demo.workshop.result import CheckResult
>>> folder = tempfile.mkdtemp()
>>> _ = record(CheckResult("orders_of_a_day", True, right=["same rows"]), directory=folder,
...            learner="ada")
>>> report(folder).to_frame().loc["ada", "orders_of_a_day"]
'✓'
"""

from __future__ import annotations

import getpass
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.paths import workbench_home, writable_dir

if TYPE_CHECKING:
    import pandas as pd

    from workbench.demo.workshop.result import CheckResult

__all__ = ["ClassReport", "learner_name", "progress", "record", "report", "results_dir"]

_SAFE = re.compile(r"[^A-Za-z0-9_.@-]+")


def results_dir() -> Path:
    """Where check results are recorded (see the module's docstring); a class folder that
    cannot be written falls back to the learner's own."""
    override = os.environ.get("WORKBENCH_WORKSHOP_DIR")
    if override:
        return writable_dir(override, fallback="workshop")
    return workbench_home() / "workshop"


def learner_name() -> str:
    """Who is checking: ``WORKBENCH_LEARNER``, ``JUPYTERHUB_USER`` or the login name."""
    for variable in ("WORKBENCH_LEARNER", "JUPYTERHUB_USER"):
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return "learner"


def _file(directory: Path, learner: str) -> Path:
    return directory / f"{_SAFE.sub('_', learner).strip('._') or 'learner'}.json"


def record(
    result: CheckResult, *, directory: str | Path | None = None, learner: str | None = None
) -> Path:
    """Add ``result`` to the learner's file (created on the first check) and return its path.
    The file is replaced atomically, so a report read meanwhile never sees half of it."""
    folder = Path(directory) if directory is not None else results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    who = learner or learner_name()
    path = _file(folder, who)
    data = _read(path) or {"learner": who, "scenarios": {}}
    now = datetime.now().isoformat(timespec="seconds")
    entry = data["scenarios"].setdefault(
        result.scenario, {"passed": False, "attempts": 0, "first_passed_at": None}
    )
    entry["attempts"] += 1
    entry["last_at"] = now
    entry["last"] = result.to_dict()
    if result.passed:
        entry["passed"] = True
        entry["first_passed_at"] = entry["first_passed_at"] or now
    data["updated_at"] = now
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".wb-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=1, default=str)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
    return path


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), dict):
        return None
    return data


@dataclass
class ClassReport:
    """The progress of every learner who recorded a check in a folder.

    ``learners`` maps a learner to their scenarios (passed, attempts, first_passed_at, last).
    """

    directory: Path
    learners: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    scenarios: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One row per learner, one column per scenario: ✓ passed, ✗N failed N times, ·
        not tried; and a ``passed`` count."""
        import pandas as pd

        rows: dict[str, dict[str, object]] = {}
        for learner, entries in sorted(self.learners.items()):
            row: dict[str, object] = {name: _cell(entries.get(name)) for name in self.scenarios}
            row["passed"] = sum(1 for e in entries.values() if e.get("passed"))
            rows[learner] = row
        return pd.DataFrame.from_dict(rows, orient="index", columns=[*self.scenarios, "passed"])

    def summary(self) -> pd.DataFrame:
        """Per scenario: how many learners tried it, passed it, and their attempts."""
        import pandas as pd

        rows = []
        for name in self.scenarios:
            entries = [e[name] for e in self.learners.values() if name in e]
            rows.append(
                {
                    "scenario": name,
                    "tried": len(entries),
                    "passed": sum(1 for e in entries if e.get("passed")),
                    "attempts": sum(int(e.get("attempts", 0)) for e in entries),
                }
            )
        return pd.DataFrame(rows, columns=["scenario", "tried", "passed", "attempts"])

    def to_text(self) -> str:
        """The table as plain text (the command line prints it)."""
        if not self.learners:
            return f"no results in {self.directory} yet"
        frame = self.to_frame()
        frame.columns = [_short(c) for c in frame.columns]
        lines = [f"{len(self.learners)} learner(s) in {self.directory}", frame.to_string()]
        total = len(self.learners)
        lines.append("")
        for row in self.summary().itertuples():
            lines.append(f"{row.scenario:<24} passed {row.passed}/{total}, tried {row.tried}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"directory": str(self.directory), "learners": self.learners}

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        if not self.learners:
            from workbench.safe_html import escape

            return f"<p>No results in {escape(self.directory)} yet.</p>"
        html: str = self.to_frame().to_html(escape=True)
        return html


def _cell(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "·"
    return "✓" if entry.get("passed") else f"✗{entry.get('attempts', 0)}"


def _short(name: str) -> str:
    return name if len(name) <= 12 else name[:11] + "…"


def report(directory: str | Path | None = None) -> ClassReport:
    """The class's progress from the learners' files in ``directory`` (default
    :func:`results_dir`). Files that are not a learner's results are skipped."""
    from workbench.demo.workshop.catalogue import SCENARIOS

    folder = Path(directory) if directory is not None else results_dir()
    learners: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = _read(path)
        if data is not None:
            learners[str(data.get("learner") or path.stem)] = data["scenarios"]
    known = [sc.name for sc in SCENARIOS]
    extra = sorted({n for entries in learners.values() for n in entries} - set(known))
    return ClassReport(folder, learners, known + extra)


def progress(*, directory: str | Path | None = None, learner: str | None = None) -> ClassReport:
    """This learner's own progress (the class report of one)."""
    folder = Path(directory) if directory is not None else results_dir()
    who = learner or learner_name()
    full = report(folder)
    mine = {k: v for k, v in full.learners.items() if k == who}
    return ClassReport(folder, mine, full.scenarios)
