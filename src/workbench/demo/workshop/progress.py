"""Each learner's check results in one small JSON file, and the class's progress read from a
folder of them.

Where: ``WORKBENCH_WORKSHOP_DIR`` (a folder the whole class can write, e.g. on a JupyterHub
``/srv/workshop/results`` with mode 1777), else ``workshop/`` in the learner's own workbench
directory (``WORKBENCH_HOME`` or the user data directory), which is writable even when the
notebook folder is not. Who: ``WORKBENCH_LEARNER``, else ``JUPYTERHUB_USER``, else the login
name. A file holds, per scenario, whether it passed, the attempts, when, and the last message.

Nothing is lost without a word: a class folder that cannot be written is warned about (once)
when results go to the learner's own instead; a learner's file that cannot be read is moved
aside (``ada.json.unreadable-<time>``) with a warning before a new one is started; the report
names the files it could not read.

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

from workbench.errors import ConfigurationError, warn
from workbench.paths import workbench_home

if TYPE_CHECKING:
    import pandas as pd

    from workbench.demo.workshop.result import CheckResult

__all__ = ["ClassReport", "learner_name", "progress", "record", "report", "results_dir"]

_SAFE = re.compile(r"[^A-Za-z0-9_.@-]+")
DIR_ENV = "WORKBENCH_WORKSHOP_DIR"
#: the class folders this process has warned it cannot write (said once, not at every check)
_warned: set[str] = set()


def results_dir() -> Path:
    """Where check results are recorded (see the module's docstring); a class folder that
    cannot be written falls back to the learner's own."""
    return _results_dir()[0]


def _results_dir() -> tuple[Path, str | None]:
    """The folder, and why the configured class folder is not it (None when it is, or when
    none is configured)."""
    own = workbench_home() / "workshop"
    configured = os.environ.get(DIR_ENV)
    if not configured:
        return own, None
    path = Path(configured).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".wb-probe-"):
            pass
    except OSError as exc:
        return own, f"{exc.strerror or type(exc).__name__}: {exc.filename or path}"
    return path, None


def _class_folder() -> Path:
    """The folder a class report reads by default: the configured class folder as it is (the
    instructor need not be able to write it), else the learner's own."""
    configured = os.environ.get(DIR_ENV)
    return Path(configured).expanduser() if configured else workbench_home() / "workshop"


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
    The file is replaced atomically, so a report read meanwhile never sees half of it; a file
    that cannot be read is moved aside first (never overwritten), with a warning."""
    if directory is not None:
        folder = Path(directory)
    else:
        folder, why = _results_dir()
        if why is not None:
            _warn_fallback(os.environ[DIR_ENV], folder, why)
    folder.mkdir(parents=True, exist_ok=True)
    who = learner or learner_name()
    path = _file(folder, who)
    data, unreadable = _read(path)
    if unreadable is not None:
        aside = _move_aside(path)
        warn(
            f"{path} could not be read ({unreadable}): moved it to {aside.name} and started a "
            "new file; the checks it held are not in the class report until it is mended"
        )
    data = data or {"learner": who, "scenarios": {}}
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


def _warn_fallback(configured: str, folder: Path, why: str) -> None:
    if configured in _warned:
        return
    _warned.add(configured)
    warn(
        f"the class folder {DIR_ENV}={configured} cannot be written ({why}), so your results "
        f"go to {folder} instead, where the instructor's report does not see them; tell your "
        "instructor"
    )


def _read(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The learner's results in ``path`` (None when there is no such file), or why they
    cannot be read. Errors reading the file itself (permissions) are raised."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, None
    try:
        data = json.loads(raw)
    except ValueError as exc:  # UnicodeDecodeError included
        return None, f"not JSON: {exc}"
    scenarios = data.get("scenarios") if isinstance(data, dict) else None
    if not isinstance(scenarios, dict) or not all(isinstance(e, dict) for e in scenarios.values()):
        return None, "not a learner's results"
    return data, None


def _move_aside(path: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.unreadable-{stamp}")
    number = 1
    while aside.exists():
        number += 1
        aside = path.with_name(f"{path.name}.unreadable-{stamp}-{number}")
    os.replace(path, aside)
    return aside


@dataclass
class ClassReport:
    """The progress of every learner who recorded a check in a folder.

    ``learners`` maps a learner to their scenarios (passed, attempts, first_passed_at, last);
    ``unreadable`` maps each ``.json`` file left out to why (not JSON, not a learner's results).
    """

    directory: Path
    learners: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    scenarios: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)

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
            return "\n".join([f"no results in {self.directory} yet", *self._skipped()])
        frame = self.to_frame()
        frame.columns = [_short(c) for c in frame.columns]
        lines = [f"{len(self.learners)} learner(s) in {self.directory}", frame.to_string()]
        total = len(self.learners)
        lines.append("")
        for row in self.summary().itertuples():
            lines.append(f"{row.scenario:<24} passed {row.passed}/{total}, tried {row.tried}")
        return "\n".join([*lines, *self._skipped()])

    def _skipped(self) -> list[str]:
        if not self.unreadable:
            return []
        return [
            f"warning: {len(self.unreadable)} file(s) could not be read and are left out:",
            *(f"  {name}: {why}" for name, why in sorted(self.unreadable.items())),
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "learners": self.learners,
            "unreadable": self.unreadable,
        }

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        from workbench.safe_html import escape

        skipped = "".join(f"<p>{escape(line)}</p>" for line in self._skipped())
        if not self.learners:
            return f"<p>No results in {escape(self.directory)} yet.</p>{skipped}"
        html: str = self.to_frame().to_html(escape=True)
        return html + skipped


def _cell(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "·"
    return "✓" if entry.get("passed") else f"✗{entry.get('attempts', 0)}"


def _short(name: str) -> str:
    return name if len(name) <= 12 else name[:11] + "…"


def report(directory: str | Path | None = None) -> ClassReport:
    """The class's progress from the learners' files in ``directory`` (default
    ``WORKBENCH_WORKSHOP_DIR``, else the learner's own folder). A folder that does not exist
    raises ``ConfigurationError`` (a typo must not look like a class with no results); files
    that cannot be read are left out and named in ``unreadable``."""
    folder = Path(directory).expanduser() if directory is not None else _class_folder()
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ConfigurationError(
            f"the results folder {folder} {what}",
            hint="pass the folder the learners' results go to (their WORKBENCH_WORKSHOP_DIR), "
            "e.g. workbench workshop-report /srv/workshop/results",
        )
    return _read_folder(folder)


def _read_folder(folder: Path) -> ClassReport:
    from workbench.demo.workshop.catalogue import SCENARIOS

    learners: dict[str, dict[str, dict[str, Any]]] = {}
    unreadable: dict[str, str] = {}
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    for path in paths:
        if path.name.startswith("."):  # a file being written (record's temporary file)
            continue
        try:
            data, why = _read(path)
        except OSError as exc:
            data, why = None, exc.strerror or type(exc).__name__
        if data is not None:
            learners[str(data.get("learner") or path.stem)] = data["scenarios"]
        elif why is not None:
            unreadable[path.name] = why
    known = [sc.name for sc in SCENARIOS]
    extra = sorted({n for entries in learners.values() for n in entries} - set(known))
    return ClassReport(folder, learners, known + extra, unreadable)


def progress(*, directory: str | Path | None = None, learner: str | None = None) -> ClassReport:
    """This learner's own progress (the class report of one; empty before the first check)."""
    folder = Path(directory) if directory is not None else results_dir()
    who = learner or learner_name()
    full = _read_folder(folder)
    mine = {k: v for k, v in full.learners.items() if k == who}
    unreadable = {k: v for k, v in full.unreadable.items() if k == _file(folder, who).name}
    return ClassReport(folder, mine, full.scenarios, unreadable)
