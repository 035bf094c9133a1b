"""The tools on the database: its tables, the statements the server counted, its health, the
indexes its workload needs, and the offline rules on what was gathered."""

from __future__ import annotations

from typing import Any

from workbench import formatting as fmt
from workbench import snippets
from workbench.errors import ConfigurationError
from workbench.evidence.payload import schema
from workbench.tools.inputs import integer_input, number, shown_sql
from workbench.tools.model import Outcome, ToolContext

__all__ = ["advise_indexes", "describe_tables", "findings", "health", "top_statements"]


def describe_tables(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.errors import WorkbenchError
    from workbench.introspection import table, tables_in

    names = data.get("tables") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigurationError("tables must be a list of table names")
    sql = data.get("sql")
    if not names and not (isinstance(sql, str) and sql.strip()):
        raise ConfigurationError("give sql (a statement) or tables (a list of names)")
    found, missing = [], []
    if isinstance(sql, str) and sql.strip():
        found = [info.to_dict() for info in tables_in(box.executor, sql)]
    for name in names[:10]:
        try:
            found.append(table(box.executor, name).to_dict())
        except WorkbenchError:
            missing.append(name)
    text = schema(found) if found else "no such tables"
    if missing:
        text += f"\nnot found: {', '.join(missing)}"
    described = ", ".join(t["name"] for t in found) or "none"
    if names:
        code = "tables = [s.table(name) for name in " + repr(names[:10]) + "]"
    else:
        code = f"tables = s.tables_in({sql!r})"
    return Outcome(
        bool(found),
        text,
        f"described {described}" + (f"; not found: {', '.join(missing)}" if missing else ""),
        value={"tables": found, "not_found": missing},
        code=code,
        title="Architect: describe tables",
    )


def top_statements(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.server_stats import top_statements

    limit = integer_input(data, "limit", 10, 1, 20)
    order_by = data.get("order_by") or "total"
    frame = top_statements(box.executor, limit, order_by=order_by)
    if "query" in frame.columns:
        frame["query"] = [fmt.clip(shown_sql(box, str(q)), 400) for q in frame["query"]]
    lines = []
    for row in frame.to_dict("records"):
        facts = ", ".join(
            f"{k}={number(v)}" for k, v in row.items() if k != "query" and v is not None
        )
        lines.append(f"- {facts}\n  {row.get('query', '')}")
    text = "\n".join(lines) or "the server has counted no statements yet"
    return Outcome(
        True,
        text,
        f"{len(frame)} statements by {order_by}",
        value=frame,
        code=f"top = s.top_statements({limit}, order_by={order_by!r})",
        title="Architect: top statements",
    )


def findings(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.evidence import Evidence
    from workbench.evidence import collect as collect_module
    from workbench.rules import analyze

    base = box.evidence
    if base is None and not box.plans and not box.profiles:
        raise ConfigurationError(
            "nothing gathered yet: explain or profile a statement first",
            hint="call explain (or profile) on the statement, then findings",
        )
    if base is not None:
        saved = base.to_dict()
        saved.pop("findings", None)  # judged again, with what was gathered since
        evidence = Evidence.from_dict(saved)
        evidence.plans = [*base.plans, *box.plans]
        evidence.profiles = [*base.profiles, *map(Evidence.profile_summary, box.profiles)]
    else:
        evidence = collect_module.collect(box.executor, plans=box.plans, profiles=box.profiles)
    found = analyze(evidence)
    lines = []
    for finding in found:
        fix = finding.fix
        if fix and finding.fix_kind in ("sql", "ddl", "rewrite"):
            fix = shown_sql(box, fix)
        lines.append(f"- [{finding.severity}] {finding.code}: {finding.title}")
        if fix:
            lines.append(f"  fix: {fix}")
        if finding.expected_effect:
            lines.append(f"  expected: {finding.expected_effect}")
    return Outcome(
        True,
        "\n".join(lines) or "the rules found nothing wrong in what was gathered",
        f"{len(found)} findings" + (f": {', '.join(f.code for f in found[:4])}" if found else ""),
        value=found,
        code=snippets.findings_line(),
        title="Architect: offline findings",
    )


def health(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.health import check

    limit = integer_input(data, "limit", 20, 1, 50)
    report = check(box.executor)
    lines = []
    for finding in list(report)[:limit]:
        lines.append(f"- [{finding.severity}] {finding.code}: {finding.title}")
        if finding.fix:
            lines.append(f"  fix: {finding.fix}")
    if len(report) > limit:
        lines.append(f"… {len(report) - limit} more findings")
    lines += [f"note: {note}" for note in report.notes]
    codes = sorted({f.code for f in report})
    return Outcome(
        True,
        "\n".join(lines) or "the checks found nothing wrong",
        f"{len(report)} health findings" + (f": {', '.join(codes[:4])}" if codes else ""),
        value=list(report),
        code="health = s.health()",
        title="Architect: database health",
    )


def advise_indexes(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.advisor import advise
    from workbench.advisor.advice import advice_text

    queries = data.get("queries") or None
    if queries is not None and (
        not isinstance(queries, list) or not all(isinstance(q, str) for q in queries)
    ):
        raise ConfigurationError("queries must be a list of statements")
    max_indexes = integer_input(data, "max_indexes", 3, 1, 10)
    verify = bool(data.get("verify"))
    hypothetical = True if data.get("hypothetical_only") else None
    advice = advise(
        box.executor,
        queries,
        max_indexes=max_indexes,
        verify=verify,
        hypothetical=hypothetical,
        runs=20,
        time_budget=60.0,
    )
    text = advice_text(advice)
    if box.redact_literals:
        text = redacted_lines(box, text)
    options = ", ".join(
        f"{k}={v!r}"
        for k, v in (
            ("max_indexes", max_indexes),
            ("verify", verify),
            ("hypothetical", hypothetical),
        )
        if v is not None
    )
    args = f"{queries!r}, " if queries else ""
    return Outcome(
        True,
        text,
        f"{len(advice.recommendations)} indexes recommended"
        + (f": {'; '.join(advice.ddl[:2])}" if advice.recommendations else ""),
        value=advice.to_frame(),
        code=f"advice = s.advise({args}{options})",
        title="Architect: index advice",
    )


def redacted_lines(box: ToolContext, text: str) -> str:
    """The advisor's text with the statements it quotes (``   - SELECT ...``) redacted."""
    out = []
    for line in text.splitlines():
        head, _, rest = line.partition("- ")
        if rest and not head.strip():
            line = f"{head}- {shown_sql(box, rest)}"
        out.append(line)
    return "\n".join(out)
