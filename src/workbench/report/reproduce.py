"""The reproducibility appendix: how to rerun each step, and the SQL it ran.

A step recorded with ``code=`` (what the widgets and the demo do) keeps its own line; for the
others a line is derived from what was recorded (``s.explain(<sql>, analyze=True)``). Every
value from the database goes into the Python as a ``repr`` literal and into comments with its
line breaks removed, so a query can never turn into code in the appendix.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.report.views import Reproduction

if TYPE_CHECKING:
    from workbench.investigation import Investigation, Step

__all__ = ["reproductions", "setup_code"]

#: step kinds that ran something a person can run again
_RERUNNABLE = (
    "plan",
    "profile",
    "comparison",
    "sweep",
    "capture",
    "evidence",
    "findings",
    "answer",
    "fix",
)


def setup_code(inv: Investigation) -> str:
    """The lines every reproduction starts from (the URL is never recorded: secrets stay out)."""
    env = inv.environment or {}
    what = " ".join(str(env.get(k) or "") for k in ("dialect", "version")).strip()
    lines = ["import os", "", "import workbench as wb", ""]
    if "demo" in str(env.get("label") or "").lower():
        lines.append("s = wb.demo.connect()  # " + _comment(env.get("label") or "demo data"))
    else:
        lines.append(
            's = wb.connect(os.environ["DATABASE_URL"])' + (f"  # {_comment(what)}" if what else "")
        )
    return "\n".join(lines)


def reproductions(inv: Investigation) -> list[Reproduction]:
    out = []
    python: str
    sql: list[tuple[str, str]]
    has_evidence = False  # whether an evidence step above defines ``ev``
    for step in inv.steps:
        if step.code is None and step.kind not in _RERUNNABLE:
            continue
        try:
            python, sql = _derive(step, inv.folder)
        except Exception:  # an unreadable step still gets its recorded line, if any
            python, sql = "", []
        if step.code:
            python = step.code
        if step.kind == "evidence":
            has_evidence = True
        elif step.kind == "answer" and "(ev)" in python and not has_evidence:
            # an answer recorded without its evidence step: the bundle the architect saved
            path = step.data.get("evidence_path")
            source = (
                f"wb.Evidence.load({str(path)!r})"
                if path
                else "s.evidence(sql, plan=plan)  # the evidence the answer was given"
            )
            python = f"ev = {source}\n{python}"
            has_evidence = True
        if not python and not sql:
            continue
        out.append(Reproduction(step.id, step.title, python, tuple(sql), derived=step.code is None))
    return out


def _derive(step: Step, folder: Path) -> tuple[str, list[tuple[str, str]]]:
    data = step.data
    kind = step.kind
    if kind == "plan":
        plan = step.object(folder)
        if not plan.sql:
            return (
                f"plan = wb.parse_plan(pasted_plan, dialect={plan.dialect!r})  # a pasted plan",
                [],
            )
        return (f"plan = s.explain({plan.sql!r}, analyze={plan.analyzed})", [("plan", plan.sql)])
    if kind == "profile":
        return _profile_line(data, "prof")
    if kind == "comparison":
        before = _comment(data.get("baseline") or "the first profile")
        after = _comment(data.get("candidate") or "the second profile")
        return (f"comparison = before.compare(after)  # before: {before}; after: {after}", [])
    if kind == "sweep":
        levels = [int(level.get("concurrency", 1)) for level in data.get("levels") or []]
        sql = str(data.get("sql") or "")
        return (f"sweep = s.sweep({sql!r}, concurrency={levels})", [("sweep", sql)])
    if kind == "capture":
        groups = list(data.get("groups") or [])
        sites = list(dict.fromkeys(site for g in groups for site in g.get("call_sites") or []))
        where = f"  # the code at {_comment(sites[0])}" if sites else ""
        captured = [
            (f"captured ×{g.get('count')}", str(g.get("example") or g.get("sql")))
            for g in groups[:5]
        ]
        return (f"with s.capture() as cap:\n    app_code(){where}\ncap.repeated", captured)
    if kind == "evidence":
        query = str(data.get("sql") or "")
        plans = len(data.get("plans") or [])
        args = [repr(query)] if query else []
        if plans:
            args.append("plan=plan")
        if data.get("profiles"):
            args.append("profile=prof")
        if data.get("captures"):
            args.append("capture=cap")
        return (f"ev = s.evidence({', '.join(args)})", [("evidence", query)] if query else [])
    if kind == "findings":
        return ("findings = wb.analyze(ev)", [])
    if kind == "answer":
        question = data.get("question")
        if question:
            return (f"answer = arch.ask({question!r})", [])
        return ("arch = wb.Architect()\nanswer = arch.analyze(ev)", [])
    if kind == "fix":
        fix, sql = str(data.get("fix") or ""), str(data.get("sql") or "")
        return (f"trial = s.try_fix({fix!r}, sql={sql!r})", [("fix", fix), ("planned", sql)])
    return ("", [])


def _profile_line(data: dict[str, Any], name: str) -> tuple[str, list[tuple[str, str]]]:
    summary = data.get("summary") or {}
    runs = int(summary.get("runs") or 0)
    sql = str(data.get("sql") or "")
    if data.get("mode") == "callable":
        label = _comment(data.get("label") or sql)
        return (f"{name} = s.profile(handler, runs={runs})  # handler: {label}", [])
    args = [repr(sql)]
    concurrency = int(data.get("concurrency") or 1)
    if concurrency > 1:
        args.append(f"concurrency={concurrency}")
    args.append(f"runs={runs}")
    line = f"{name} = s.profile({', '.join(args)})"
    params = data.get("params")
    if params and params != "none":
        line += f"  # params: {_comment(params)}"
    return (line, [("profile", sql)])


def _comment(value: Any, width: int = 120) -> str:
    """Text safe inside a Python comment: one line, bounded."""
    text = " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"
