"""``workbench demo``: the guided investigation, headless, ending in a report.

The same steps a person takes in the quickstart notebook, recorded in a
:class:`~workbench.investigation.Investigation`:

1. capture ``GET /api/users`` (``wb.demo.app.list_users``): the N+1, with its call sites;
2. profile the handler: database time, round trips, Python time;
3. explain and profile the per-user query, bundle the evidence, run the offline rules, ask
   the architect (the offline rules answer when no API key is set);
4. try the missing-index fix in a rolled-back transaction (``s.try_fix``);
5. profile the handler written without the N+1 and compare before/after;
6. explain, profile and analyse every other planted pathology;

then print the findings and write the report (HTML, Markdown or PDF, by the suffix).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import snippets

if TYPE_CHECKING:
    from workbench.findings import Finding
    from workbench.investigation import Investigation
    from workbench.profiling.result import Profile
    from workbench.session import Session

__all__ = ["run_demo"]

#: seconds of executions each pathology's profile may take (the demo stays under a minute)
PROFILE_BUDGET_S = 1.0
HANDLER_RUNS = 5
STORY = """\
**GET /api/users takes seconds.** The endpoint lists 50 users with their orders. This
investigation captures what it sends to the database, measures it, asks why, tries the fix in
a transaction that is rolled back, and compares the endpoint before and after. Then it visits
every other problem planted in the demo data.
"""


def run_demo(
    *,
    report: Path,
    scale: float = 1.0,
    folder: Path | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """Run the demo investigation against the embedded database and write ``report``."""
    import workbench as wb
    from workbench.report import report_format

    report_format(report)  # a wrong suffix is said now, not after a minute of work
    started = time.perf_counter()
    session = wb.demo.connect(scale=scale)
    try:
        say(f"database: {session.label} ({session.server.description.split(',')[0]})")
        inv = wb.Investigation(
            "Demo: GET /api/users is slow",
            folder=_fresh_folder(folder or report.with_name(f"{report.stem}-investigation")),
            session=session,
        )
        findings, outcomes = _endpoint(session, inv, say)
        findings += _pathologies(session, inv, say)
        inv.summary = _summary(findings, outcomes)
        inv.save()
        _print_findings(findings, say)
        written = inv.export(report)
    finally:
        session.close()
    say(f"report: {written} ({time.perf_counter() - started:.1f} s)")
    say(f"investigation: {inv.folder} (workbench report {inv.folder} other.md)")
    return 0


def _fresh_folder(folder: Path) -> Path:
    """The investigation's folder, emptied if an earlier demo left one there (only then:
    a folder that is not an investigation is never deleted)."""
    if (folder / "investigation.json").is_file():
        shutil.rmtree(folder)
    return folder


# -- GET /api/users -------------------------------------------------------------------------------
def _endpoint(
    session: Session, inv: Investigation, say: Callable[[str], None]
) -> tuple[list[Finding], list[str]]:
    from sqlalchemy.orm import Session as OrmSession

    import workbench as wb
    from workbench.demo import app
    from workbench.demo.pathologies import pathology

    item = pathology("missing_index")
    sql = item.sql_for(session.dialect)
    with session.capture() as cap, OrmSession(session.engine) as db:
        app.list_users(db)
    inv.record(
        cap,
        title="Capture: GET /api/users",
        note="Every statement the handler sent, and the line of app code that sent it.",
        code="with s.capture() as cap, Session(s.engine) as db:\n"
        "    wb.demo.app.list_users(db)\ncap.repeated",
    )
    say(
        f"  GET /api/users              {len(cap):>4} statements, {cap.total_ms:8.1f} ms in "
        f"the database, {len(cap.n_plus_one())} N+1 candidate(s)"
    )
    before = _handler_profile(session, app.list_users, inv)
    plan = session.explain(sql, analyze=True)
    inv.record(
        plan,
        title="Plan: the orders of one user",
        note="The query the handler repeats once per user.",
        code=snippets.explain_line(sql, analyze=True),
    )
    profile = _profile(session, sql, inv, title="Profile: the orders of one user")
    evidence = session.evidence(sql, plan=plan, profile=profile, capture=cap)
    inv.record(
        evidence,
        code=snippets.evidence_line(sql, plan="plan", profile="prof", capture="cap"),
    )
    findings = wb.analyze(evidence)
    inv.record(findings, title="Findings: GET /api/users", code=snippets.findings_line())
    answer = _architect(evidence, say)
    if answer is not None:
        inv.record(answer, code=snippets.ask_line())
    fix = next((f for f in findings if f.code == "missing_index" and f.fix), None)
    fix_text = fix.fix if fix is not None and fix.fix else item.fix
    trial = session.try_fix(fix_text, sql=sql)
    inv.record(trial, code=snippets.try_fix_line(fix_text, sql))
    outcomes = [f"missing index, tried in a rolled-back transaction: {trial.verdict}"]
    say(f"  try_fix {fix_text[:40]:<40} {trial.verdict}")
    after = _handler_profile(session, app.list_users_fixed, inv)
    comparison = before.compare(after)
    inv.record(
        comparison,
        title="Before/after: GET /api/users without the N+1",
        note="`list_users_fixed()` loads the orders of the whole page in one statement.",
        code=snippets.compare_line(),
    )
    outcomes.append(f"GET /api/users without the N+1: {comparison.verdict}")
    say(f"  list_users → list_users_fixed {comparison.verdict}")
    return list(findings), outcomes


def _handler_profile(session: Session, handler: Callable[..., Any], inv: Investigation) -> Profile:
    """Time ``handler`` as a request would run it: a new ORM session each time (a session kept
    across runs would answer the lazy loads from its identity map, hiding the N+1)."""
    from sqlalchemy.orm import Session as OrmSession

    def request() -> Any:
        with OrmSession(session.engine) as db:
            return handler(db)

    name = handler.__name__
    # the capture just ran the slow handler: caches are warm, a warm-up run would only cost time
    warmup = 0 if name == "list_users" else 1
    profile = session.profile(request, runs=HANDLER_RUNS, warmup=warmup, label=name, progress=False)
    inv.record(
        profile,
        title=f"Profile: {name}()",
        code=f"def request():\n    with Session(s.engine) as db:\n        return "
        f"wb.demo.app.{name}(db)\n\nprof = s.profile(request, runs={HANDLER_RUNS}, "
        f"label={name!r})",
    )
    return profile


def _profile(
    session: Session,
    sql: str,
    inv: Investigation,
    note: str | None = None,
    *,
    title: str | None = None,
) -> Profile:
    """A profile sized to the query: about :data:`PROFILE_BUDGET_S` seconds of executions,
    judged from one execution (rows fetched included: a plan's time leaves the fetch out)."""
    each_ms = max(session.execute(sql).elapsed_ms, 0.05)
    runs = int(min(200, max(8, PROFILE_BUDGET_S * 1000 / each_ms)))
    warmup = min(10, max(1, runs // 10))
    profile = session.profile(sql, runs=runs, warmup=warmup, progress=False)
    inv.record(profile, note=note, code=snippets.profile_line(sql, runs=runs, warmup=warmup))
    return profile


def _architect(evidence: Any, say: Callable[[str], None]) -> Any:
    import workbench as wb

    arch = wb.Architect(on_text=lambda _: None)
    try:
        answer = arch.analyze(evidence)
    except wb.WorkbenchError as exc:  # the API failed: the offline findings stand
        say(f"  architect: {exc.message}")
        return None
    say(
        "  architect: offline rules answered (set ANTHROPIC_API_KEY to ask the model)"
        if answer.offline
        else f"  architect: {answer.model} answered with {len(answer.findings)} findings"
    )
    return answer


# -- the other planted pathologies ----------------------------------------------------------------
def _pathologies(session: Session, inv: Investigation, say: Callable[[str], None]) -> list[Finding]:
    import workbench as wb
    from workbench.demo.pathologies import PATHOLOGIES

    found: list[Finding] = []
    for item in PATHOLOGIES:
        if item.name in ("missing_index", "n_plus_one"):  # the endpoint's story covers them
            continue
        sql = item.sql_for(session.dialect)
        settings = dict(item.settings) or None
        try:
            plan = session.explain(sql, analyze=True, settings=settings)
        except wb.WorkbenchError as exc:
            say(f"  {item.name:<28} error: {exc.message}")
            inv.note(f"{item.title}: the plan failed ({exc.message})", title=item.title)
            continue
        inv.record(
            plan,
            title=item.title,
            note=item.story,
            code=snippets.explain_line(sql, analyze=True, settings=settings),
        )
        note = f"profiled with the server's own settings, not {settings}" if settings else None
        profile = _profile(session, sql, inv, note, title=f"Profile: {item.name}")
        findings = wb.analyze(session.evidence(sql, plan=plan, profile=profile))
        inv.record(
            findings,
            title=f"Findings: {item.name}",
            code=snippets.evidence_line(sql, plan="plan", profile="prof")
            + "\n"
            + snippets.findings_line(),
        )
        found.extend(findings)
        codes = [f.code for f in findings]
        mark = "found" if item.code in codes else "NOT found"
        say(
            f"  {item.name:<28} {plan.total_time_ms or 0:8.1f} ms  p50 "
            f"{profile.summary()['p50']:8.2f} ms  {item.code} {mark}"
        )
    return found


# -- the end --------------------------------------------------------------------------------------
def _unique(findings: list[Finding]) -> list[Finding]:
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
    seen: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        seen.setdefault((finding.code, finding.title), finding)
    return sorted(seen.values(), key=lambda f: order.get(f.severity, 9))


def _summary(findings: list[Finding], outcomes: list[str]) -> str:
    codes = list(dict.fromkeys(f.code for f in _unique(findings)))
    lines = [STORY, "**Outcomes**", ""]
    lines += [f"- {outcome}" for outcome in outcomes]
    lines += ["", "**Finding codes:** " + (", ".join(f"`{c}`" for c in codes) or "none")]
    return "\n".join(lines)


def _print_findings(findings: list[Finding], say: Callable[[str], None]) -> None:
    unique = _unique(findings)
    say(f"findings ({len(unique)}):")
    for finding in unique:
        say(f"  [{finding.severity}] {finding.code}: {finding.title}")
