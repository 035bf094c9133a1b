"""The tool on the application's endpoints: an HTTP endpoint profiled with the statements each
request made the database run."""

from __future__ import annotations

from typing import Any

from workbench import formatting as fmt
from workbench.errors import ConfigurationError
from workbench.tools.inputs import integer_input, number, shown_sql, text_input
from workbench.tools.model import Outcome, ToolContext

__all__ = ["MAX_HTTP_CLIENTS", "MAX_HTTP_RUNS", "profile_http"]

#: a model may ask for at most this many requests (and clients) of an endpoint
MAX_HTTP_RUNS = 50
MAX_HTTP_CLIENTS = 8


def profile_http(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.http.probe import profile_http
    from workbench.http.request import HttpRequest

    url = text_input(data, "url")
    if not url.lower().startswith(("http://", "https://")):
        raise ConfigurationError("url must start with http:// or https://")
    method = str(data.get("method") or "GET").upper()
    if method not in ("GET", "HEAD"):
        raise ConfigurationError("only GET and HEAD requests: nothing that could change data")
    runs = integer_input(data, "runs", 20, 3, MAX_HTTP_RUNS)
    concurrency = integer_input(data, "concurrency", 1, 1, MAX_HTTP_CLIENTS)
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
                f"- {number(row.get('calls_per_request'))} calls/request, "
                f"{number(row.get('ms_per_request'))} ms/request, mean "
                f"{number(row.get('mean_ms'))} ms: "
                + " ".join(shown_sql(box, str(row.get("sql", ""))).split())
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
    count = len(box.profiles)
    options = f", runs={runs}" + (f", concurrency={concurrency}" if concurrency > 1 else "")
    options += f", method={method!r}" if method != "GET" else ""
    return Outcome(
        True,
        "\n".join(lines),
        f"{summary['runs']:,} requests: p50 {fmt.milliseconds(summary['p50'])}, "
        f"{len(repeated)} N+1 candidate(s)",
        value=prof,
        code=f"prof_{count} = s.profile_http({shown!r}{options})",
        title="Architect: endpoint profile",
    )
