"""The ``workbench`` command: thin wrappers over the Python API.

    workbench lab                          JupyterLab on the notebooks, embedded database ready
    workbench demo --report PATH           the demo investigation headless, ending in a report
    workbench explain [URL] SQL            a plan as a text tree or as JSON
    workbench profile [URL] SQL            a latency profile (or a load run)
    workbench analyze [URL] SQL            offline findings, or the architect's answer
    workbench report DIR PATH              an investigation folder as a report
    workbench check [URL] SQL --baseline F a latency regression check for CI (or of an endpoint)
    workbench profile-http URL             an endpoint's latency and the statements it caused
    workbench locustfile URL               a Locust file for the same request
    workbench health [URL]                 what is wrong with the database as a whole
    workbench advise [URL]                 index recommendations for a workload, measured

The database URL comes before the SQL, from ``--url``, or from ``DATABASE_URL``; ``-`` as
the SQL reads it from standard input, ``@file.sql`` from a file.

Exit codes: 0 success; 1 the check found a regression (``check``) or a finding at the
``--fail-on`` severity (``analyze``, ``health``); 2 bad usage or an error (printed as
``workbench: ...``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from workbench.cli import check, commands, whole
from workbench.cli import http as http_commands
from workbench.cli.agents import add_agent_commands, add_persona_argument
from workbench.cli.commands import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, SEVERITIES
from workbench.cli.options import (
    EXIT_CODES,
    add_allow_writes,
    add_command,
    add_profile_arguments,
    add_sql_arguments,
    not_negative,
    positive,
    ratio,
)
from workbench.cli.workshop import add_workshop_commands
from workbench.errors import WorkbenchError

__all__ = ["main"]

_URL_HELP = """\
The database URL is a SQLAlchemy URL (postgresql://user@host/db, mysql://root@host/db,
sqlite:///file.db, duckdb:///file.duckdb), or demo for the embedded PostgreSQL with the demo
data: before the SQL, with --url, or in DATABASE_URL.
SQL "-" reads the statement from standard input, "@file.sql" from a file.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` command."""
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said by the subcommand, so its usage line is the one printed
        command = getattr(args, "command", None)
        choices = parser._commands.choices if command else {}  # type: ignore[attr-defined]
        choices.get(command, parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        return int(args.run(args))
    except WorkbenchError as exc:
        print(f"workbench: {_in_command_words(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `workbench demo | head`: the reader left, nothing to report
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Python flushes stdout at exit
        return EXIT_OK


# hints are written for Python; on the command line the same advice is an option
_COMMAND_WORDS = (
    (re.compile(r"wb\.connect\(url, timeout=(\d+)\)(?: or s\.timeout = \d+)?"), r"--timeout \1"),
    (re.compile(r"(?:pass )?allow_writes=True"), "pass --allow-writes"),
    (re.compile(r"s\.advise\(\['SELECT \.\.\.', \.\.\.\]\)"), '--query "SELECT ..."'),
)


def _in_command_words(exc: WorkbenchError) -> str:
    if not exc.hint:
        return exc.message
    hint = exc.hint
    for pattern, words in _COMMAND_WORDS:
        hint = pattern.sub(words, hint)
    return f"{exc.message}\n→ {hint}"


# -- the parser -----------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    from workbench.version import __version__

    parser = argparse.ArgumentParser(
        prog="workbench",
        description="A Jupyter workbench for database and backend performance investigations.",
        epilog=EXIT_CODES.format(
            one="check found a regression, or analyze --fail-on a finding (see their help)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser._commands = subcommands  # type: ignore[attr-defined]  # for main()'s usage errors

    lab = add_command(
        subcommands,
        "lab",
        "start JupyterLab on the notebooks, database ready",
        "workbench lab\n  workbench lab --no-browser --port 8899",
    )
    lab.add_argument(
        "--notebook-dir", default="notebooks", help="folder to open (default: %(default)s)"
    )
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser")
    lab.add_argument("--port", type=int, default=None, help="port for JupyterLab")
    lab.set_defaults(run=commands.lab)

    demo = add_command(
        subcommands,
        "demo",
        "run the demo investigation headless, print its findings, write a report",
        "workbench demo --report reports/demo.html\n  workbench demo --report demo.md --scale 0.05",
        description="Capture the N+1 of GET /api/users, profile it, explain and profile every "
        "planted pathology, analyse the evidence (offline rules; the architect when "
        "ANTHROPIC_API_KEY is set), try the missing-index fix in a rolled-back transaction, "
        "compare before/after, and write the report (.html, .md or .pdf).",
    )
    demo.add_argument(
        "--report",
        default="reports/demo.html",
        help="report path (.html, .md, .pdf; default: %(default)s)",
    )
    demo.add_argument(
        "--scale",
        type=positive,
        default=1.0,
        help="demo data scale (1 ≈ 1.7M rows; 0.05 is quick)",
    )
    demo.add_argument(
        "--investigation",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the investigation is saved (default: beside the report)",
    )
    demo.set_defaults(run=commands.demo)

    explain = add_command(
        subcommands,
        "explain",
        "print a statement's plan (text tree or JSON)",
        'workbench explain postgresql://app@db/shop "SELECT * FROM orders WHERE user_id = 42"\n'
        '  DATABASE_URL=sqlite:///shop.db workbench explain --analyze --format json "SELECT 1"',
        description="The plan of one statement, analysed: exclusive time per node, misestimates, "
        "the hot path.\n\n" + _URL_HELP,
    )
    add_sql_arguments(explain)
    explain.add_argument("--analyze", action="store_true", help="execute it (EXPLAIN ANALYZE)")
    explain.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: the tree; json: every node with its numbers",
    )
    add_allow_writes(explain, "allow --analyze of a write (run inside a rolled-back transaction)")
    explain.set_defaults(run=commands.explain)

    profile = add_command(
        subcommands,
        "profile",
        "measure a statement's latency (or a load run)",
        'workbench profile --url postgresql://app@db/shop "SELECT 1" --runs 500\n'
        '  workbench profile "$DATABASE_URL" "SELECT * FROM t WHERE id = :id" '
        "--params '{\"id\": 42}' --concurrency 4 --duration 10 --json",
        description="Latency percentiles measured at the driver.\n\n" + _URL_HELP,
    )
    add_sql_arguments(profile)
    add_allow_writes(profile, "profile a write: each execution is rolled back")
    add_profile_arguments(profile)
    profile.add_argument("--concurrency", type=int, default=1, help="clients (a load run if > 1)")
    profile.add_argument(
        "--duration", type=positive, default=None, help="seconds to run instead of --runs"
    )
    profile.add_argument("--json", action="store_true", help="print JSON")
    profile.set_defaults(run=commands.profile)

    analyze = add_command(
        subcommands,
        "analyze",
        "findings for a statement: offline rules, or the architect",
        'workbench analyze postgresql://app@db/shop "SELECT * FROM orders WHERE user_id = 42" '
        '--analyze\n  ANTHROPIC_API_KEY=... workbench analyze --architect "SELECT ..."\n'
        '  workbench analyze "SELECT ..." --json --fail-on high',
        description="Explain the statement, bundle the evidence (schema, settings, plan) and "
        "report the offline rules' findings; --architect asks the backend-architect persona "
        "when ANTHROPIC_API_KEY is set.\n\n" + _URL_HELP,
        exit_one=f"a finding at the --fail-on severity or worse ({', '.join(SEVERITIES)})",
    )
    add_sql_arguments(analyze)
    add_allow_writes(analyze, "allow --analyze of a write (run inside a rolled-back transaction)")
    analyze.add_argument("--analyze", action="store_true", help="execute it (EXPLAIN ANALYZE)")
    analyze.add_argument(
        "--architect",
        action="store_true",
        help="ask the architect (needs ANTHROPIC_API_KEY; offline otherwise)",
    )
    add_persona_argument(analyze)
    analyze.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        default=None,
        help="exit 1 when a finding is this severe or worse",
    )
    analyze.add_argument("--json", action="store_true", help="print JSON")
    analyze.set_defaults(run=commands.analyze)

    report = add_command(
        subcommands,
        "report",
        "write an investigation folder as a report (.html, .md or .pdf)",
        "workbench report investigations/20250601-120000-slow-api-users report.html\n"
        "  workbench report reports/demo-investigation demo.md",
    )
    report.add_argument(
        "investigation",
        type=Path,
        metavar="INVESTIGATION_DIR",
        help="the folder holding investigation.json",
    )
    report.add_argument("path", type=Path, metavar="PATH", help="the report (.html, .md, .pdf)")
    report.add_argument("--no-charts", action="store_true", help="leave the charts out")
    report.set_defaults(run=commands.report)

    check_parser = add_command(
        subcommands,
        "check",
        "fail (exit 1) when a statement got slower than its saved baseline",
        'workbench check "$DATABASE_URL" "SELECT ..." --baseline perf/users.json --save-baseline\n'
        '  workbench check "$DATABASE_URL" "SELECT ..." --baseline perf/users.json --threshold 1.2',
        description="For CI pipelines: profile the statement and compare it with a baseline "
        "saved earlier (--save-baseline writes one: JSON with the samples). The check fails "
        "when the new median is slower by more than --threshold, by more than --min-delta-ms "
        "in absolute terms, and the difference is statistically significant (bootstrap "
        "confidence interval beyond the ±10% noise band, Mann-Whitney p < 0.05).\n\n" + _URL_HELP,
        exit_one="statistically slower than the baseline by more than the threshold",
    )
    add_sql_arguments(check_parser)
    add_allow_writes(check_parser, "check a write: each execution is rolled back")
    check_parser.add_argument(
        "--baseline", type=Path, required=True, metavar="FILE", help="the baseline profile (JSON)"
    )
    check_parser.add_argument(
        "--threshold",
        type=ratio,
        default=1.2,
        help="slowdown allowed, as a ratio of medians (default: %(default)s)",
    )
    check_parser.add_argument(
        "--min-delta-ms",
        type=not_negative,
        default=0.1,
        metavar="MS",
        help="ignore slowdowns of the median smaller than this: a 40 µs statement varies by "
        "tens of µs between runs on a shared CI machine (default: %(default)s)",
    )
    add_profile_arguments(check_parser)
    check_parser.add_argument(
        "--save-baseline",
        action="store_true",
        help="write the profile as the new baseline and exit 0",
    )
    check_parser.add_argument("--json", action="store_true", help="print JSON")
    check_parser.set_defaults(run=check.check)
    http_commands.add_endpoint_arguments(check_parser, url=False, curl=False)
    http_commands.add_commands(subcommands, add_command, _URL_HELP)
    add_agent_commands(subcommands)
    whole.add_commands(subcommands, add_command)
    add_workshop_commands(subcommands, add_command)
    return parser
