"""``workbench health`` and ``workbench advise``: the database as a whole, from the command
line (thin wrappers over ``s.health()`` and ``s.advise()``)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.cli.commands import EXIT_FOUND, EXIT_OK, SEVERITIES, print_json
from workbench.cli.options import positive
from workbench.errors import ConfigurationError

if TYPE_CHECKING:
    from workbench.session import Session

__all__ = ["add_commands", "advise", "health"]


def add_commands(subcommands: Any, add_command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register ``health`` and ``advise`` (``add_command`` is the CLI's own maker)."""
    health_parser = add_command(
        subcommands,
        "health",
        "what is wrong with a database as a whole (indexes, bloat, vacuum, limits)",
        "workbench health postgresql://app@db/shop\n"
        '  workbench health demo --json\n  workbench health "$DATABASE_URL" --fail-on high',
        description="Duplicate, redundant, unused and invalid indexes, foreign keys without "
        "one, bloat and dead rows, vacuum and statistics, the cache, connections, sequences "
        "near their limit (what applies to each engine), each with its fix and its risk. "
        "Nothing is changed.",
        exit_one=f"a finding at the --fail-on severity or worse ({', '.join(SEVERITIES)})",
    )
    _add_arguments(health_parser)
    health_parser.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        default=None,
        help="exit 1 when a finding is this severe or worse",
    )
    health_parser.set_defaults(run=health)
    advise_parser = add_command(
        subcommands,
        "advise",
        "index recommendations for a workload, measured in a rolled-back transaction",
        "workbench advise postgresql://app@db/shop\n"
        "  workbench advise demo --top 5 --json\n"
        '  workbench advise "$DATABASE_URL" --query "SELECT ... WHERE user_id = 42" '
        "--query @report.sql --no-verify",
        description="The statements given (--query, repeatable; @file.sql reads a file), or "
        "the server's top statements by total time (pg_stat_statements, performance_schema). "
        "Candidates are judged by the planner across the workload (HypoPG where installed, "
        "else built in a transaction that is rolled back), a greedy search picks the set, and "
        "the set is built and measured before and after (unless --no-verify). Nothing is left "
        "behind.",
    )
    _add_arguments(advise_parser)
    advise_parser.add_argument(
        "--query", action="append", default=[], metavar="SQL", help="a statement of the workload"
    )
    advise_parser.add_argument(
        "--top", type=int, default=10, help="server statements to tune (default: %(default)s)"
    )
    advise_parser.add_argument(
        "--max-indexes", type=int, default=5, help="indexes at most (default: %(default)s)"
    )
    advise_parser.add_argument(
        "--runs", type=int, default=50, help="timed executions per side (default: %(default)s)"
    )
    advise_parser.add_argument(
        "--no-verify", action="store_true", help="the planner's judgement only: build nothing"
    )
    advise_parser.set_defaults(run=advise)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    """``[URL]``, ``--url``, ``--timeout``: what both commands take."""
    parser.add_argument(
        "url_arg", nargs="?", metavar="URL", help="the database URL (or demo; default: --url)"
    )
    parser.add_argument("--url", default=None, help="the database URL (default: $DATABASE_URL)")
    parser.add_argument(
        "--timeout",
        type=positive,
        default=30.0,
        help="seconds each statement may run (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


@contextmanager
def _session(args: argparse.Namespace) -> Iterator[Session]:
    import workbench as wb

    if args.url_arg and args.url:
        raise ConfigurationError("the URL is given twice (positional and --url)")
    url = args.url_arg or args.url or os.environ.get("DATABASE_URL")
    if not url:
        raise ConfigurationError(
            "no database URL",
            hint="pass it as the first argument, with --url, or set DATABASE_URL "
            "(demo: the embedded PostgreSQL with the demo data)",
        )
    session = wb.connect(None if url == "demo" else url, timeout=args.timeout)
    try:
        yield session
    finally:
        session.close()


def health(args: argparse.Namespace) -> int:
    with _session(args) as session:
        report = session.health()
    if args.json:
        print_json(report.to_dict())
    else:
        print(report)
    if args.fail_on:
        worst = SEVERITIES.index(args.fail_on)
        if any(SEVERITIES.index(f.severity) <= worst for f in report):
            return EXIT_FOUND
    return EXIT_OK


def _query(text: str) -> str:
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    if not text.strip():
        raise ConfigurationError("a --query is empty")
    return text.strip()


def advise(args: argparse.Namespace) -> int:
    queries = [_query(q) for q in args.query] if args.query else None
    with _session(args) as session:
        advice = session.advise(
            queries,
            top=args.top,
            max_indexes=args.max_indexes,
            verify=not args.no_verify,
            runs=args.runs,
        )
    if args.json:
        print_json(advice.to_dict())
    else:
        print(advice)
    return EXIT_OK
