"""The tools themselves: each validates its input, calls one guarded probe, and says what it
found in the evidence's redacted, condensed form."""

from __future__ import annotations

import json
from typing import Any

from workbench import formatting as fmt
from workbench import snippets
from workbench.errors import ConfigurationError
from workbench.evidence.payload import plan_text, schema
from workbench.redaction import redact_params, redact_sql
from workbench.tools.model import Gate, Outcome, Tool, ToolContext

__all__ = ["MAX_HTTP_CLIENTS", "MAX_HTTP_RUNS", "available"]

#: a model may ask for at most this many requests (and clients) of an endpoint
MAX_HTTP_RUNS = 50
MAX_HTTP_CLIENTS = 8

_SQL = {"type": "string", "description": "one SQL statement"}
_PARAMS = {
    "type": ["object", "array", "null"],
    "description": "values for the statement's placeholders (:name → an object, ? or $1 → an "
    "array); leave out when the statement has none",
}


def available() -> dict[str, Tool]:
    """Every tool this installation offers, by name, in the order a model should meet them."""
    tools = [
        Tool(
            name="explain",
            description=(
                "The execution plan of one statement, one node per line (operation, relation, "
                "estimated and actual rows, time, buffers, conditions). analyze=false (the "
                "default) only plans it; analyze=true executes it to measure (needs the "
                "person's approval; a write is refused)."
            ),
            properties={
                "sql": _SQL,
                "analyze": {"type": "boolean", "description": "execute it to measure"},
                "params": _PARAMS,
            },
            required=("sql",),
            run=_explain,
            gate=lambda data: "analyze" if data.get("analyze") else None,
        ),
        Tool(
            name="profile",
            description=(
                "Latency of one read statement over repeated runs: p50, p95, p99, max, mean, "
                "errors. Executes it (needs the person's approval)."
            ),
            properties={
                "sql": _SQL,
                "params": _PARAMS,
                "runs": {"type": "integer", "minimum": 5, "description": "how many runs"},
            },
            required=("sql",),
            run=_profile,
            gate=lambda _data: "analyze",
        ),
        Tool(
            name="describe_tables",
            description=(
                "Columns, indexes, foreign keys, row estimates, sizes and statistics freshness "
                "of the tables a statement touches, or of tables named."
            ),
            properties={
                "sql": {"type": "string", "description": "a statement whose tables to describe"},
                "tables": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
            },
            run=_describe_tables,
        ),
        Tool(
            name="top_statements",
            description=(
                "The statements the server itself counted (PostgreSQL pg_stat_statements, "
                "MySQL/MariaDB performance_schema): calls, total and mean time, rows."
            ),
            properties={
                "limit": {"type": "integer", "minimum": 1, "maximum": 20},
                "order_by": {"type": "string", "enum": ["total", "mean", "calls", "rows", "io"]},
            },
            run=_top_statements,
        ),
        Tool(
            name="findings",
            description=(
                "The workbench's offline rules (missing indexes, misestimates, spills, N+1, "
                "...) applied to everything gathered so far: the evidence and the plans, "
                "profiles and trials of this conversation."
            ),
            properties={},
            run=_findings,
        ),
        Tool(
            name="try_fix",
            description=(
                "Try a fix (CREATE INDEX, CREATE STATISTICS, a SET of a setting, or a rewritten "
                "query) in a transaction that is rolled back: the plans of sql before and after. "
                "Builds something (needs the person's approval); DROP and data changes refused."
            ),
            properties={
                "fix": {"type": "string", "description": "the fix's SQL"},
                "sql": {"type": "string", "description": "the statement it should speed up"},
                "params": _PARAMS,
            },
            required=("fix", "sql"),
            run=_try_fix,
            gate=_sandbox,
        ),
        Tool(
            name="health",
            description=(
                "The database as a whole: unused, duplicate, redundant, invalid and bloated "
                "indexes, foreign keys without one, table bloat and dead rows, autovacuum, "
                "stale statistics, cache hit ratio, connections, sequences near their limit. "
                "Reads the catalogue only."
            ),
            properties={
                "limit": {"type": "integer", "minimum": 1, "maximum": 50},
            },
            run=_health,
        ),
        Tool(
            name="advise_indexes",
            description=(
                "Index recommendations for statements (or the server's top statements), each "
                "judged by the planner across the whole workload. hypothetical_only=true uses "
                "HypoPG and builds nothing; otherwise candidate indexes are built in a "
                "rolled-back transaction, and verify=true also times the statements before and "
                "after (both need the person's approval)."
            ),
            properties={
                "queries": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
                "max_indexes": {"type": "integer", "minimum": 1, "maximum": 10},
                "hypothetical_only": {"type": "boolean"},
                "verify": {"type": "boolean"},
            },
            run=_advise_indexes,
            gate=_advice_gate,
        ),
        Tool(
            name="profile_http",
            description=(
                "Latency of an HTTP endpoint of the application (any language) over repeated "
                "GET or HEAD requests, and the statements each request made the database run "
                "(read from the server's own statistics): calls and time per request, N+1 "
                "candidates, the share of the request spent in the database. Sends real "
                "requests (needs the person's approval)."
            ),
            properties={
                "url": {"type": "string", "description": "http:// or https:// URL"},
                "method": {"type": "string", "enum": ["GET", "HEAD"]},
                "runs": {"type": "integer", "minimum": 3, "maximum": MAX_HTTP_RUNS},
                "concurrency": {"type": "integer", "minimum": 1, "maximum": MAX_HTTP_CLIENTS},
            },
            required=("url",),
            run=_profile_http,
            gate=lambda _data: "http",
        ),
    ]
    return {tool.name: tool for tool in tools}


def _advice_gate(data: dict[str, Any]) -> Gate | None:
    if data.get("hypothetical_only") and not data.get("verify"):
        return None  # HypoPG's hypothetical indexes: nothing is built, nothing executes
    return "sandbox"


def _sandbox(_data: dict[str, Any]) -> Gate:
    return "sandbox"


# -- inputs -------------------------------------------------------------------------------------
def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{key} must be a non-empty string")
    return value


def _params(data: dict[str, Any]) -> Any:
    value = data.get("params")
    if value in (None, {}, []):
        return None
    if not isinstance(value, dict | list):
        raise ConfigurationError("params must be an object or an array")
    return value


def _integer(data: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ConfigurationError(f"{key} must be an integer")
    return max(low, min(int(value), high))


def _shown_sql(box: ToolContext, sql: str) -> str:
    dialect = box.executor.dialect.name
    return redact_sql(sql, dialect) if box.redact_literals else sql


# -- the tools ----------------------------------------------------------------------------------
def _explain(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.explain import explain

    sql, params, analyze = _text(data, "sql"), _params(data), bool(data.get("analyze"))
    plan = explain(box.executor, sql, analyze=analyze, params=params)
    box.plans.append(plan)
    number = len(box.plans)
    text = plan_text(plan, number - 1, box.budget, redact_literals=box.redact_literals)
    headline = plan.root.label
    if plan.total_time_ms is not None:
        headline += f", {fmt.milliseconds(plan.total_time_ms)}"
    return Outcome(
        True,
        f"statement: {_shown_sql(box, sql)}\n{text}",
        f"{'EXPLAIN ANALYZE' if analyze else 'EXPLAIN'}: {len(plan.nodes)} nodes, {headline}",
        value=plan,
        code=snippets.explain_line(
            sql, analyze=analyze, params=params, name=f"plan_{number}" if number > 1 else "plan"
        ),
        title=f"Architect: {'EXPLAIN ANALYZE' if analyze else 'EXPLAIN'}",
    )


def _profile(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.evidence import Evidence
    from workbench.profiling.launch import profile

    sql, params = _text(data, "sql"), _params(data)
    runs = _integer(data, "runs", 50, 5, box.max_profile_runs)
    asked = data.get("runs")
    prof = profile(box.executor, sql, runs=runs, warmup=min(10, runs), params=params)
    box.profiles.append(prof)
    summary = Evidence.profile_summary(prof)
    summary["sql"] = _shown_sql(box, sql)
    summary["params"] = redact_params(summary.get("params")) if box.redact_literals else params
    if box.redact_literals:
        from workbench.redaction import redact_condition

        summary["errors"] = [redact_condition(e) for e in summary.get("errors", [])]
    capped = (
        f"\n(runs capped at {box.max_profile_runs}; {asked} were asked)"
        if isinstance(asked, int) and asked > box.max_profile_runs
        else ""
    )
    s = prof.summary()
    number = len(box.profiles)
    return Outcome(
        True,
        json.dumps(summary, indent=1, default=str) + capped,
        f"{s['runs']:,} runs: p50 {fmt.milliseconds(s['p50'])}, p95 "
        f"{fmt.milliseconds(s['p95'])}, {s['errors']:,} errors",
        value=prof,
        code=snippets.profile_line(
            sql, runs=runs, warmup=min(10, runs), params=params, name=f"prof_{number}"
        ),
        title="Architect: profile",
    )


def _describe_tables(box: ToolContext, data: dict[str, Any]) -> Outcome:
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


def _top_statements(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.server_stats import top_statements

    limit = _integer(data, "limit", 10, 1, 20)
    order_by = data.get("order_by") or "total"
    frame = top_statements(box.executor, limit, order_by=order_by)
    if "query" in frame.columns:
        frame["query"] = [fmt.clip(_shown_sql(box, str(q)), 400) for q in frame["query"]]
    lines = []
    for row in frame.to_dict("records"):
        facts = ", ".join(
            f"{k}={_number(v)}" for k, v in row.items() if k != "query" and v is not None
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


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}"


def _findings(box: ToolContext, data: dict[str, Any]) -> Outcome:
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
            fix = _shown_sql(box, fix)
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


def _try_fix(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.fixes import try_fix

    fix, sql, params = _text(data, "fix"), _text(data, "sql"), _params(data)
    trial = try_fix(box.executor, fix, sql, params=params)
    box.trials.append(trial)
    diff = trial.diff
    lines = [
        f"fix: {_shown_sql(box, fix)}",
        f"verdict: {trial.verdict}",
        *(f"note: {n}" for n in trial.notes),
        "changed: " + ("; ".join(diff.changed_operations) or "no operation changed"),
        "before:",
        plan_text(trial.before, 0, box.budget // 2, redact_literals=box.redact_literals),
        "after:",
        plan_text(trial.after, 1, box.budget // 2, redact_literals=box.redact_literals),
    ]
    return Outcome(
        True,
        "\n".join(lines),
        trial.verdict + (" (hypothetical index)" if trial.hypothetical else ""),
        value=trial,
        code=snippets.try_fix_line(fix, sql, params=params, name=f"trial_{len(box.trials)}"),
        title="Architect: fix tried (rolled back)",
    )


def _health(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.health import check

    limit = _integer(data, "limit", 20, 1, 50)
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


def _advise_indexes(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.advisor import advise
    from workbench.advisor.advice import advice_text

    queries = data.get("queries") or None
    if queries is not None and (
        not isinstance(queries, list) or not all(isinstance(q, str) for q in queries)
    ):
        raise ConfigurationError("queries must be a list of statements")
    max_indexes = _integer(data, "max_indexes", 3, 1, 10)
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
        text = _redacted_lines(box, text)
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


def _redacted_lines(box: ToolContext, text: str) -> str:
    """The advisor's text with the statements it quotes (``   - SELECT ...``) redacted."""
    out = []
    for line in text.splitlines():
        head, _, rest = line.partition("- ")
        if rest and not head.strip():
            line = f"{head}- {_shown_sql(box, rest)}"
        out.append(line)
    return "\n".join(out)


def _profile_http(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.http.probe import profile_http
    from workbench.http.request import HttpRequest

    url = _text(data, "url")
    if not url.lower().startswith(("http://", "https://")):
        raise ConfigurationError("url must start with http:// or https://")
    method = str(data.get("method") or "GET").upper()
    if method not in ("GET", "HEAD"):
        raise ConfigurationError("only GET and HEAD requests: nothing that could change data")
    runs = _integer(data, "runs", 20, 3, MAX_HTTP_RUNS)
    concurrency = _integer(data, "concurrency", 1, 1, MAX_HTTP_CLIENTS)
    prof = profile_http(
        box.executor, url, method=method, runs=runs, warmup=min(3, runs), concurrency=concurrency
    )
    box.profiles.append(prof)
    shown = HttpRequest.build(url, method=method).shown_url
    summary = prof.summary()
    lines = [
        f"{method} {shown}: {summary['runs']:,} requests, {concurrency} client(s), "
        f"p50 {fmt.milliseconds(summary['p50'])}, p95 {fmt.milliseconds(summary['p95'])}, "
        f"max {fmt.milliseconds(summary['max'])}, {summary['errors']:,} errors"
    ]
    lines += [f"error: {m}" for m in prof.messages[:3]]
    statements = prof.statements
    if len(statements):
        lines.append("statements per request (the server's counts):")
        for row in statements.head(10).to_dict("records"):
            lines.append(
                f"- {_number(row.get('calls_per_request'))} calls/request, "
                f"{_number(row.get('ms_per_request'))} ms/request, mean "
                f"{_number(row.get('mean_ms'))} ms: "
                + " ".join(_shown_sql(box, str(row.get("sql", ""))).split())
            )
    repeated = prof.repeated
    if len(repeated):
        lines.append(f"N+1 candidates: {len(repeated)}")
    split = prof.split
    if len(split) and "db_ms" in split:
        lines.append(
            f"median request: {fmt.milliseconds(float(split.latency_ms.median()))}, of which "
            f"{fmt.milliseconds(float(split.db_ms.median()))} in the database"
        )
    lines += [f"note: {n}" for n in prof.notes]
    number = len(box.profiles)
    options = f", runs={runs}" + (f", concurrency={concurrency}" if concurrency > 1 else "")
    options += f", method={method!r}" if method != "GET" else ""
    return Outcome(
        True,
        "\n".join(lines),
        f"{summary['runs']:,} requests: p50 {fmt.milliseconds(summary['p50'])}, "
        f"{len(repeated)} N+1 candidate(s)",
        value=prof,
        code=f"prof_{number} = s.profile_http({shown!r}{options})",
        title="Architect: endpoint profile",
    )
