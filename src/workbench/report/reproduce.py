"""The reproducibility appendix: how to rerun each step, and the SQL it ran.

A step recorded with ``code=`` (what the widgets and the demo do) keeps its own line; for the
others a line is derived from what was recorded (``s.explain(<sql>, analyze=True)``). Every
value from the database goes into the Python as a ``repr`` literal and into comments with its
line breaks removed, so a query can never turn into code in the appendix.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import snippets
from workbench.investigation import StepKind
from workbench.report.views import Reproduction

if TYPE_CHECKING:
    from workbench.investigation import Investigation, Step

__all__ = ["reproductions", "setup_code"]

#: step kinds that ran something a person can run again
_RERUNNABLE = (
    StepKind.PLAN,
    StepKind.PROFILE,
    StepKind.COMPARISON,
    StepKind.SWEEP,
    StepKind.CAPTURE,
    StepKind.EVIDENCE,
    StepKind.FINDINGS,
    StepKind.ANSWER,
    StepKind.FIX,
    StepKind.ADVICE,
)


def setup_code(inv: Investigation) -> str:
    """The lines every reproduction starts from (the URL is never recorded: secrets stay out)."""
    env = inv.environment or {}
    what = " ".join(str(env.get(k) or "") for k in ("dialect", "version")).strip()
    lines = ["import os", "", "import workbench as wb", ""]
    if "demo" in str(env.get("label") or "").lower():
        lines.append(snippets.connect_line(demo=True, described=env.get("label") or "demo data"))
    else:
        lines.append(snippets.connect_line(described=what or None))
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
        if step.kind is StepKind.EVIDENCE:
            has_evidence = True
        elif step.kind is StepKind.ANSWER and "(ev)" in python and not has_evidence:
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
    if kind is StepKind.PLAN:
        plan = step.object(folder)
        if not plan.sql:
            return (
                f"plan = wb.parse_plan(pasted_plan, dialect={plan.dialect!r})  # a pasted plan",
                [],
            )
        return (snippets.explain_line(plan.sql, analyze=plan.analyzed), [("plan", plan.sql)])
    if kind is StepKind.PROFILE:
        return _profile_line(data, "prof")
    if kind is StepKind.COMPARISON:
        before = snippets.comment(data.get("baseline") or "the first profile")
        after = snippets.comment(data.get("candidate") or "the second profile")
        return (f"{snippets.compare_line()}  # before: {before}; after: {after}", [])
    if kind is StepKind.SWEEP:
        levels = [int(level.get("concurrency", 1)) for level in data.get("levels") or []]
        sql = str(data.get("sql") or "")
        return (f"sweep = s.sweep({sql!r}, concurrency={levels})", [("sweep", sql)])
    if kind is StepKind.CAPTURE:
        groups = list(data.get("groups") or [])
        sites = list(dict.fromkeys(site for g in groups for site in g.get("call_sites") or []))
        captured = [
            (f"captured ×{g.get('count')}", str(g.get("example") or g.get("sql")))
            for g in groups[:5]
        ]
        return (snippets.capture_lines(where=sites[0] if sites else None), captured)
    if kind is StepKind.EVIDENCE:
        query = str(data.get("sql") or "")
        plans = len(data.get("plans") or [])
        line = snippets.evidence_line(
            query or None,
            plan="plan" if plans else None,
            profile="prof" if data.get("profiles") else None,
            capture="cap" if data.get("captures") else None,
        )
        return (line, [("evidence", query)] if query else [])
    if kind is StepKind.FINDINGS:
        return (snippets.findings_line(), [])
    if kind is StepKind.ANSWER:
        question = data.get("question")
        if question:
            return (snippets.ask_line(question, follow_up=True), [])
        return (snippets.ask_line(), [])
    if kind is StepKind.FIX:
        fix, sql = str(data.get("fix") or ""), str(data.get("sql") or "")
        return (snippets.try_fix_line(fix, sql), [("fix", fix), ("planned", sql)])
    if kind is StepKind.ADVICE:
        statements = [str(q.get("sql") or "") for q in data.get("statements") or []]
        ddl = [("recommended", str(r.get("ddl") or "")) for r in data.get("recommendations") or []]
        if data.get("source") == "given":
            return (f"advice = s.advise({statements!r})", [*ddl])
        return ("advice = s.advise()  # the server's top statements", [*ddl])
    return ("", [])


def _profile_line(data: dict[str, Any], name: str) -> tuple[str, list[tuple[str, str]]]:
    summary = data.get("summary") or {}
    runs = int(summary.get("runs") or 0)
    sql = str(data.get("sql") or "")
    if data.get("mode") == "callable":
        label = snippets.comment(data.get("label") or sql)
        return (f"{name} = s.profile(handler, runs={runs})  # handler: {label}", [])
    concurrency = int(data.get("concurrency") or 1)
    if data.get("mode") == "http":  # sql is the request line: "GET http://..."
        method, _, url = sql.partition(" ")
        line = snippets.profile_http_line(
            url or method,
            method=method if url else "GET",
            runs=runs,
            concurrency=concurrency,
            name=name,
        )
        return (line, [])
    if data.get("mode") == "locust":
        return (f"{name} = wb.Profile.from_locust(stats_csv)  # {snippets.comment(sql)}", [])
    line = snippets.profile_line(sql, runs=runs, concurrency=concurrency, name=name)
    params = data.get("params")
    if params and params != "none":
        line += f"  # params: {snippets.comment(params)}"
    return (line, [("profile", sql)])
