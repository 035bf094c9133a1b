"""``workbench profile-http URL`` and ``workbench locustfile URL``: endpoints from the shell.

``profile-http`` prints an endpoint's latency and, given the database the service uses
(``--db URL``, ``DATABASE_URL``, or ``demo``), the statements its requests caused and the
N+1 candidates among them. ``locustfile`` writes a Locust file for the same request. Both
take the request as a URL with ``-X``/``-H``/``--data``, or as a pasted ``--curl`` line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.cli.commands import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, print_json, profile_json
from workbench.cli.options import positive
from workbench.errors import ConfigurationError

if TYPE_CHECKING:
    from workbench.http.request import HttpRequest
    from workbench.profiling.result import Profile
    from workbench.session import Session

__all__ = [
    "add_endpoint_arguments",
    "is_endpoint",
    "locustfile",
    "profile_endpoint",
    "profile_http",
    "request_from",
]


def is_endpoint(text: str) -> bool:
    """An http(s) URL (an endpoint), not a database URL or a statement."""
    return text.startswith(("http://", "https://"))


def add_endpoint_arguments(
    parser: argparse.ArgumentParser, *, url: bool = True, curl: bool = True
) -> None:
    """The request's options: ``URL`` (or ``--curl``), ``-X``, ``-H``, ``--data``."""
    if url:
        parser.add_argument("endpoint", nargs="?", metavar="URL", help="the endpoint (http[s]://)")
    if curl:
        parser.add_argument(
            "--curl", default=None, metavar="LINE", help="a curl command line ('Copy as cURL')"
        )
    parser.add_argument("-X", "--method", default="GET", help="HTTP method (default: GET)")
    parser.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header (repeat for more); secret ones are never printed",
    )
    parser.add_argument("--data", default=None, metavar="BODY", help="the request body")


def request_from(args: argparse.Namespace, endpoint: str | None = None) -> HttpRequest:
    from workbench.http.request import HttpRequest

    headers = []
    for line in args.header:
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ConfigurationError(f"not a header: {line!r}", hint="-H 'Accept: text/html'")
        headers.append((name.strip(), value.strip()))
    return HttpRequest.build(
        endpoint if endpoint is not None else args.endpoint,
        method=args.method,
        headers=headers,
        body=args.data,
        curl=getattr(args, "curl", None),
    )


@contextmanager
def _session(args: argparse.Namespace) -> Iterator[tuple[Session, bool]]:
    """The database the service uses (statements read), or none (latency only)."""
    import workbench as wb

    url = getattr(args, "db", None) or getattr(args, "url", None) or os.environ.get("DATABASE_URL")
    session = wb.connect(
        None if url == "demo" else (url or "sqlite://"), timeout=getattr(args, "timeout", 30.0)
    )
    try:
        yield session, bool(url)
    finally:
        session.close()


def profile_endpoint(args: argparse.Namespace, request: HttpRequest, **options: Any) -> Profile:
    """The profile a command asked for (``options`` override ``args``)."""
    with _session(args) as (session, statements):
        settings = {
            "runs": args.runs,
            "warmup": args.warmup,
            "concurrency": getattr(args, "concurrency", 1),
            "duration": getattr(args, "duration", None),
            "timeout": getattr(args, "timeout", None),
            "statements": statements,
            "progress": False,
        } | options
        return session.profile_http(
            request.url,
            method=request.method,
            headers=list(request.headers),
            body=request.body,
            **settings,
        )


def profile_http(args: argparse.Namespace) -> int:
    request = request_from(args)
    prof = profile_endpoint(args, request)
    failed = EXIT_OK if prof.ok.any() or not prof.runs else EXIT_ERROR
    if prof.interrupted:
        print(
            "workbench: interrupted: the numbers are of the requests done so far", file=sys.stderr
        )
        failed = EXIT_INTERRUPTED
    if failed == EXIT_ERROR:
        first = prof.messages[0] if prof.messages else "no request succeeded"
        print(f"workbench: every request failed: {first}", file=sys.stderr)
    if args.json:
        out = profile_json(prof) | {
            "params": prof.params,
            "statements": prof.statements.to_dict("records"),
            "repeated": prof.repeated.drop(columns=["call_sites"]).to_dict("records"),
        }
        print_json(out)
        return failed
    print(prof.describe())
    summary = prof.summary()
    print(
        "  "
        + "  ".join(
            f"{k} {fmt.milliseconds(summary[k])}" for k in ("p50", "p90", "p95", "p99", "max")
        )
    )
    for note in prof.notes:
        print(f"  note: {note}")
    for message in prof.messages[:5]:
        print(f"  error: {message}")
    if len(prof.statements):
        print("  statements per request (most time first):")
        for row in prof.statements.head(8).to_dict("records"):
            print(
                f"    {row['calls_per_request']:8.1f} × {fmt.milliseconds(row['mean_ms']):>9}  "
                f"{fmt.clip(' '.join(str(row['sql']).split()), 90)}"
            )
    return failed


def locustfile(args: argparse.Namespace) -> int:
    from workbench.http.locustfile import secret_variables, write_locustfile

    request = request_from(args)
    target = Path(args.output)
    if target.exists() and not args.force:
        raise ConfigurationError(f"{target} exists", hint="--force to replace it, or -o OTHER.py")
    written = write_locustfile(request, target)
    print(f"locustfile: {written} ({request.line})")
    for variable, what in secret_variables(request).items():
        print(f"  set {variable} (the {what}) before running it")
    print(
        f"  run:  locust -f {written} --headless -u 50 -r 10 -t 60s --csv results/run\n"
        "  read: wb.Profile.from_locust('.') (every request) or "
        "wb.Profile.from_locust('results/run')"
    )
    return EXIT_OK


def add_commands(subcommands: Any, add_command: Any, url_help: str) -> None:
    """``profile-http`` and ``locustfile`` in the ``workbench`` parser."""
    profile = add_command(
        subcommands,
        "profile-http",
        "measure an endpoint's latency and the database statements it caused",
        "workbench profile-http http://127.0.0.1:8000/api/users --db postgresql://app@db/shop\n"
        "  workbench profile-http --curl \"curl 'https://api.test/users' -H 'Authorization: "
        "Bearer ...'\" --runs 100\n"
        "  workbench profile-http http://127.0.0.1:8000/api/users --concurrency 8 --duration 10",
        description="Requests the endpoint --runs times (or --duration seconds, --concurrency "
        "connections: wrk where installed) and reads what the database did meanwhile "
        "(pg_stat_statements, performance_schema digests) from the database given with --db or "
        "DATABASE_URL (demo: the embedded demo database); without one, latency only.\n\n"
        + url_help,
    )
    add_endpoint_arguments(profile)
    profile.add_argument("--db", default=None, metavar="URL", help="the service's database")
    profile.add_argument("--runs", type=int, default=50, help="requests (default: %(default)s)")
    profile.add_argument("--warmup", type=int, default=5, help="requests before measuring")
    profile.add_argument("--concurrency", type=int, default=1, help="connections (load if > 1)")
    profile.add_argument("--duration", type=positive, default=None, help="seconds instead of runs")
    profile.add_argument(
        "--timeout", type=positive, default=30.0, help="seconds a request may take"
    )
    profile.add_argument("--json", action="store_true", help="print JSON")
    profile.set_defaults(run=profile_http)

    locust = add_command(
        subcommands,
        "locustfile",
        "write a Locust file sending the same request (load beyond one machine)",
        "workbench locustfile http://127.0.0.1:8000/api/users -o locustfile.py\n"
        "  workbench locustfile --curl \"curl 'https://api.test/users' -H 'Cookie: ...'\"",
        description="A Locust file for the request, logging every request for "
        "wb.Profile.from_locust; secret headers and query values are read from environment "
        "variables it names, never written into it.",
    )
    add_endpoint_arguments(locust)
    locust.add_argument("-o", "--output", default="locustfile.py", help="the file to write")
    locust.add_argument("--force", action="store_true", help="replace an existing file")
    locust.set_defaults(run=locustfile)
