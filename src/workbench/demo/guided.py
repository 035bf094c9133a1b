"""``workbench demo``: the guided investigation, headless, ending in a report.

The same steps a person takes in the guided notebook, recorded in a
:class:`~workbench.investigation.Investigation`:

1. start the demo shop's API (``wb.demo.serve``) and profile ``GET /api/users`` from the
   outside (``s.profile_http``): its latency and the statements it made the database run,
   read from ``pg_stat_statements``: the N+1, and the database's share of each request;
2. explain and profile the repeated statement, bundle the evidence, run the offline rules, ask
   the architect (the offline rules answer when no API key is set);
3. try the missing-index fix in a rolled-back transaction (``s.try_fix``);
4. measure the endpoint again with both halves of the fix in place (eager loading, and the
   index on a copy of ``orders`` only the fixed service sees) and compare before/after;
5. explain, profile and analyse every other planted pathology;

then print the findings and write the report (HTML, Markdown or PDF, by the suffix).
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench import snippets

if TYPE_CHECKING:
    from workbench.findings import Finding
    from workbench.investigation import Investigation
    from workbench.profiling.result import Profile
    from workbench.session import Session

__all__ = ["run_demo"]

#: seconds of executions each pathology's profile may take (the demo stays under a minute)
PROFILE_BUDGET_S = 1.0
#: requests per endpoint profile: enough for a verdict (4 each is the least a rank test allows)
ENDPOINT_RUNS = 8
STORY = """\
**GET /api/users takes seconds.** The endpoint lists 50 users with their orders. This
investigation measures it from the outside with the statements it made the database run,
asks why, tries the fix in a transaction that is rolled back, and measures the endpoint again
with the fix in place. Then it visits every other problem planted in the demo data.
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
    """The endpoint first, from the outside: its latency and the statements it caused; then the
    repeated statement's plan, the findings, the fix tried in the sandbox, and the endpoint
    again with both halves of the fix in place (eager loading, and the index on a copy of
    ``orders`` only the fixed service sees)."""
    import workbench as wb
    from workbench.demo.pathologies import pathology

    item = pathology("missing_index")
    sql = item.sql_for(session.dialect)
    inv.note(HYPOTHESIS, title="Hypothesis")
    with wb.demo.serve(session) as api:
        before = _endpoint_profile(session, api.endpoint("/api/users"), AS_SHIPPED, inv)
        statements = before.statements
        inv.record(
            statements[["calls_per_request", "ms_per_request", "mean_ms", "rows", "share", "sql"]],
            title="Statements: what GET /api/users made the database do",
            note="Read from the database's own statistics, one request at a time.",
            code="prof.statements",
        )
        server = before.server
        n_plus_one = server.n_plus_one() if server is not None else []
        say(
            f"  GET /api/users              p50 {fmt.milliseconds(before.summary()['p50'])}, "
            f"{_per_request(before)}, {len(n_plus_one)} N+1 candidate(s)"
        )
        plan = session.explain(sql, analyze=True)
        inv.record(
            plan,
            title="Plan: the orders of one user",
            note="The statement the endpoint repeats once per user.",
            code=snippets.explain_line(sql, analyze=True),
        )
        profile = _profile(session, sql, inv, title="Profile: the orders of one user")
        # the rules read an HTTP profile's statements as they read a capture (same shapes)
        captures = [server] if server is not None else []
        evidence = session.evidence(sql, plan=plan, profile=profile, captures=captures)
        inv.record(
            evidence,
            code=f"ev = s.evidence({sql!r}, plan=plan, profile=prof, captures=[endpoint.server])",
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
        after = _fixed_endpoint(session, api, fix_text, inv)
    comparison = before.compare(after)
    inv.record(
        comparison,
        title="Before/after: GET /api/users, eager loading and the index",
        note="`?eager=1` serves the page with `list_users_fixed()` (the orders of the whole "
        "page in one statement), on a copy of `orders` with the index.",
        code=snippets.compare_line("endpoint", "fixed"),
    )
    outcomes.append(f"GET /api/users with eager loading and the index: {comparison.verdict}")
    say(f"  GET /api/users, fixed       {comparison.verdict}")
    inv.note(_conclusion(before, after, comparison.verdict), title="Conclusion")
    return list(findings), outcomes


HYPOTHESIS = (
    "GET /api/users is slow because it sends one query per user (an N+1), and each of those "
    "scans all of `orders` (no index on `orders.user_id`)."
)
AS_SHIPPED = "GET /api/users (as shipped)"
FIXED = "GET /api/users (eager loading + index)"


def _endpoint_profile(session: Session, url: str, label: str, inv: Investigation) -> Profile:
    profile = session.profile_http(url, runs=ENDPOINT_RUNS, warmup=1, label=label, progress=False)
    path = url.split("/", 3)[-1]
    name = "endpoint" if label == AS_SHIPPED else "fixed"
    api = "api" if label == AS_SHIPPED else "fixed_api"
    inv.record(
        profile,
        title=f"Profile: {label}",
        code=f"{name} = s.profile_http({api}.endpoint({'/' + path!r}), runs={ENDPOINT_RUNS}, "
        f"label={label!r})",
    )
    return profile


def _fixed_endpoint(session: Session, api: Any, fix: str, inv: Investigation) -> Profile:
    """Eager loading, on a copy of the tables with the index (where PostgreSQL allows a copy
    nobody else sees); eager loading alone elsewhere."""
    import workbench as wb

    if session.dialect != "postgresql":
        inv.note(f"{session.dialect}: the index is not applied (a copy needs PostgreSQL)")
        return _endpoint_profile(session, api.endpoint("/api/users?eager=1"), FIXED, inv)
    with wb.demo.fixed_copy(session, fix) as url, wb.demo.serve(url) as fixed_api:
        inv.note(
            f"The fix, in place: `{fix}` on a copy of the tables it changes, served by a second "
            "instance of the API that sees the copy (wb.demo.fixed_copy); other connections "
            "still see the original tables.",
            title="The fix, applied",
        )
        return _endpoint_profile(session, fixed_api.endpoint("/api/users?eager=1"), FIXED, inv)


def _per_request(profile: Profile) -> str:
    server = profile.server
    if server is None:
        return "no server-side statements"
    median = float(profile.summary()["p50"])
    share = server.db_ms_per_request / median if median > 0 else math.nan
    return (
        f"{server.statements_per_request:,.0f} statements and "
        f"{fmt.milliseconds(server.db_ms_per_request)} in the database per request "
        f"({fmt.percent(min(share, 1.0))})"
    )


def _conclusion(before: Profile, after: Profile, verdict: str) -> str:
    return (
        f"Confirmed. As shipped: {_per_request(before)}. With eager loading and the index: "
        f"{_per_request(after)}. The endpoint is {verdict}."
    )


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
