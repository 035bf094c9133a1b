"""The ``workbench`` command: thin wrappers over the Python API.

    workbench lab                          JupyterLab on the notebooks, embedded database ready
    workbench demo --report PATH           the demo investigation headless, ending in a report
    workbench explain [URL] SQL            a plan as a text tree or as JSON
    workbench profile [URL] SQL            a latency profile (or a load run)
    workbench analyze [URL] SQL            offline findings, or the architect's answer
    workbench report DIR PATH              an investigation folder as a report
    workbench check [URL] SQL --baseline F a latency regression check for CI

The database URL comes before the SQL, from ``--url``, or from ``DATABASE_URL``; ``-`` as
the SQL reads it from standard input, ``@file.sql`` from a file.

Exit codes: 0 success; 1 the check found a regression (``check``) or a finding at the
``--fail-on`` severity (``analyze``); 2 bad usage or an error (printed as ``workbench: ...``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import ConfigurationError, QueryError, WorkbenchError

if TYPE_CHECKING:
    from workbench.profiling.result import Profile
    from workbench.session import Session

__all__ = ["main"]

EXIT_OK, EXIT_FOUND, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT
CHECK_MIN_RUNS = 10
BASELINE_FORMAT = "workbench-baseline"
_SEVERITIES = ("critical", "high", "medium", "low", "info")
_EXIT_CODES = """\
exit codes:
  0  success
  1  {one}
  2  bad usage or an error (printed as "workbench: ...")
"""
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
        epilog=_EXIT_CODES.format(
            one="check found a regression, or analyze --fail-on a finding (see their help)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser._commands = commands  # type: ignore[attr-defined]  # for main()'s usage errors

    lab = _command(
        commands,
        "lab",
        "start JupyterLab on the notebooks, database ready",
        "workbench lab\n  workbench lab --no-browser --port 8899",
    )
    lab.add_argument(
        "--notebook-dir", default="notebooks", help="folder to open (default: %(default)s)"
    )
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser")
    lab.add_argument("--port", type=int, default=None, help="port for JupyterLab")
    lab.set_defaults(run=_lab)

    demo = _command(
        commands,
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
        type=_positive,
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
    demo.set_defaults(run=_demo)

    explain = _command(
        commands,
        "explain",
        "print a statement's plan (text tree or JSON)",
        'workbench explain postgresql://app@db/shop "SELECT * FROM orders WHERE user_id = 42"\n'
        '  DATABASE_URL=sqlite:///shop.db workbench explain --analyze --format json "SELECT 1"',
        description="The plan of one statement, analysed: exclusive time per node, misestimates, "
        "the hot path.\n\n" + _URL_HELP,
    )
    _sql_arguments(explain)
    explain.add_argument("--analyze", action="store_true", help="execute it (EXPLAIN ANALYZE)")
    explain.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: the tree; json: every node with its numbers",
    )
    _allow_writes(explain, "allow --analyze of a write (run inside a rolled-back transaction)")
    explain.set_defaults(run=_explain)

    profile = _command(
        commands,
        "profile",
        "measure a statement's latency (or a load run)",
        'workbench profile --url postgresql://app@db/shop "SELECT 1" --runs 500\n'
        '  workbench profile "$DATABASE_URL" "SELECT * FROM t WHERE id = :id" '
        "--params '{\"id\": 42}' --concurrency 4 --duration 10 --json",
        description="Latency percentiles measured at the driver.\n\n" + _URL_HELP,
    )
    _sql_arguments(profile)
    _allow_writes(profile, "profile a write: each execution is rolled back")
    _profile_arguments(profile)
    profile.add_argument("--concurrency", type=int, default=1, help="clients (a load run if > 1)")
    profile.add_argument(
        "--duration", type=_positive, default=None, help="seconds to run instead of --runs"
    )
    profile.add_argument("--json", action="store_true", help="print JSON")
    profile.set_defaults(run=_profile)

    analyze = _command(
        commands,
        "analyze",
        "findings for a statement: offline rules, or the architect",
        'workbench analyze postgresql://app@db/shop "SELECT * FROM orders WHERE user_id = 42" '
        '--analyze\n  ANTHROPIC_API_KEY=... workbench analyze --architect "SELECT ..."\n'
        '  workbench analyze "SELECT ..." --json --fail-on high',
        description="Explain the statement, bundle the evidence (schema, settings, plan) and "
        "report the offline rules' findings; --architect asks the backend-architect persona "
        "when ANTHROPIC_API_KEY is set.\n\n" + _URL_HELP,
        exit_one=f"a finding at the --fail-on severity or worse ({', '.join(_SEVERITIES)})",
    )
    _sql_arguments(analyze)
    _allow_writes(analyze, "allow --analyze of a write (run inside a rolled-back transaction)")
    analyze.add_argument("--analyze", action="store_true", help="execute it (EXPLAIN ANALYZE)")
    analyze.add_argument(
        "--architect",
        action="store_true",
        help="ask the architect (needs ANTHROPIC_API_KEY; offline otherwise)",
    )
    analyze.add_argument(
        "--fail-on",
        choices=_SEVERITIES,
        default=None,
        help="exit 1 when a finding is this severe or worse",
    )
    analyze.add_argument("--json", action="store_true", help="print JSON")
    analyze.set_defaults(run=_analyze)

    report = _command(
        commands,
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
    report.set_defaults(run=_report)

    check = _command(
        commands,
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
    _sql_arguments(check)
    _allow_writes(check, "check a write: each execution is rolled back")
    check.add_argument(
        "--baseline", type=Path, required=True, metavar="FILE", help="the baseline profile (JSON)"
    )
    check.add_argument(
        "--threshold",
        type=_ratio,
        default=1.2,
        help="slowdown allowed, as a ratio of medians (default: %(default)s)",
    )
    check.add_argument(
        "--min-delta-ms",
        type=_not_negative,
        default=0.1,
        metavar="MS",
        help="ignore slowdowns of the median smaller than this: a 40 µs statement varies by "
        "tens of µs between runs on a shared CI machine (default: %(default)s)",
    )
    _profile_arguments(check)
    check.add_argument(
        "--save-baseline",
        action="store_true",
        help="write the profile as the new baseline and exit 0",
    )
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(run=_check)
    return parser


def _command(
    commands: Any,
    name: str,
    summary: str,
    examples: str,
    *,
    description: str | None = None,
    exit_one: str = "not used by this command",
) -> argparse.ArgumentParser:
    epilog = f"examples:\n  {examples}\n\n" + _EXIT_CODES.format(one=exit_one)
    paragraphs = (description or summary).split("\n\n")
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description="\n\n".join(textwrap.fill(p, 88) for p in paragraphs),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _allow_writes(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--allow-writes", action="store_true", help=help)


def _sql_arguments(parser: argparse.ArgumentParser) -> None:
    # "[URL] SQL" reads better than argparse's "[URL] SQL [[URL] SQL ...]" for nargs="+"
    parser.usage = f"{parser.prog} [options] [URL] SQL"
    parser.add_argument(
        "target",
        nargs="+",
        metavar="[URL] SQL",
        help="the database URL (optional) and the statement",
    )
    parser.add_argument("--url", default=None, help="the database URL (default: $DATABASE_URL)")
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=30.0,
        help="seconds each statement may run (default: %(default)s)",
    )


def _profile_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=200, help="executions (default: %(default)s)")
    parser.add_argument(
        "--warmup", type=int, default=20, help="executions before measuring (default: %(default)s)"
    )
    parser.add_argument(
        "--params",
        type=_params,
        default=None,
        metavar="JSON",
        help="named parameters as a JSON object, e.g. '{\"id\": 42}'",
    )


def _number(text: str) -> float:
    """A finite number (NaN fails every later comparison: it would turn a check off)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


def _positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _not_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number of 0 or more, not {text}")
    return value


def _ratio(text: str) -> float:
    value = _positive(text)
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"a slowdown ratio is at least 1 (1.2 = 20% slower), not {text}"
        )
    return value


def _params(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("a JSON object, e.g. '{\"id\": 42}'")
    return value


# -- shared -----------------------------------------------------------------------------------
def _target(args: argparse.Namespace) -> tuple[str, str]:
    """(url, sql) from the positionals, --url and DATABASE_URL."""
    given = list(args.target)
    if len(given) > 2:
        raise ConfigurationError(
            f"expected [URL] SQL, got {len(given)} arguments",
            hint='quote the statement: workbench explain URL "SELECT ..."',
        )
    url = given[0] if len(given) == 2 else None
    if url and args.url:
        raise ConfigurationError("the URL is given twice (positional and --url)")
    url = url or args.url or os.environ.get("DATABASE_URL")
    if len(given) == 1 and _looks_like_url(given[0]) and not args.url:
        raise ConfigurationError(
            "the SQL statement is missing", hint='workbench COMMAND URL "SELECT ..."'
        )
    if not url:
        raise ConfigurationError(
            "no database URL",
            hint="pass it before the SQL, with --url, or set DATABASE_URL "
            "(demo: the embedded PostgreSQL with the demo data)",
        )
    return url, _read_sql(given[-1])


_URL_START = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S*$")


def _looks_like_url(text: str) -> bool:
    """A URL, not a statement that happens to contain ``://`` (``SELECT 'http://x'``)."""
    return text == "demo" or bool(_URL_START.match(text.strip()))


def _read_sql(text: str) -> str:
    if text == "-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    if not text.strip():
        raise ConfigurationError("the SQL statement is empty")
    return text.strip()


@contextmanager
def _session(args: argparse.Namespace) -> Iterator[tuple[Session, str]]:
    import workbench as wb

    url, sql = _target(args)
    # "demo": the embedded PostgreSQL with the demo data, as wb.connect() gives it
    session = wb.connect(None if url == "demo" else url, timeout=args.timeout)
    try:
        yield session, sql
    finally:
        session.close()


def _print_json(value: Any) -> None:
    print(json.dumps(_plain(value), indent=2, ensure_ascii=False))


def _plain(value: Any) -> Any:
    """JSON-ready: NaN and infinity become null, numpy numbers Python ones."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _fmt(value: Any, unit: str = " ms") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.3f}{unit}"


# -- commands ---------------------------------------------------------------------------------
def _lab(args: argparse.Namespace) -> int:
    import workbench as wb

    folder = Path(args.notebook_dir)
    if not folder.is_dir():  # said before the database starts, in the command's words
        raise ConfigurationError(
            f"no notebook folder {folder} here",
            hint="run it from the workbench checkout (make lab), or pass --notebook-dir DIR",
        )
    session = wb.connect()
    print(f"database ready: {session.label or session.dialect} — {session.url}")
    quickstart = folder / "01-quickstart.ipynb"
    command = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={folder.resolve()}"]
    if args.no_browser:
        command.append("--no-browser")
    if args.port:
        command.append(f"--port={args.port}")
    if quickstart.exists():
        command.append(f"--LabApp.default_url=/lab/tree/{quickstart.name}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers and CI machines often run as root; Jupyter refuses that without this flag.
        command.append("--allow-root")
    env = dict(os.environ)
    session.close()
    return subprocess.call(command, env=env)


def _demo(args: argparse.Namespace) -> int:
    from workbench.demo.guided import run_demo

    return run_demo(report=Path(args.report), scale=args.scale, folder=args.investigation)


def _explain(args: argparse.Namespace) -> int:
    with _session(args) as (session, sql):
        plan = session.explain(sql, analyze=args.analyze, allow_writes=args.allow_writes)
    if args.format == "text":
        print(plan.to_text())
        return EXIT_OK
    nodes = json.loads(plan.to_frame().to_json(orient="records"))
    _print_json(
        {
            "sql": plan.sql,
            "dialect": plan.dialect,
            "analyzed": plan.analyzed,
            "total_time_ms": plan.total_time_ms,
            "planning_time_ms": plan.planning_time_ms,
            "summary": plan.summary(),
            "notes": plan.notes,
            "nodes": nodes,
        }
    )
    return EXIT_OK


def _profile(args: argparse.Namespace) -> int:
    with _session(args) as (session, sql):
        prof = session.profile(
            sql,
            runs=args.runs,
            warmup=args.warmup,
            concurrency=args.concurrency,
            duration=args.duration,
            params=args.params,
            allow_writes=args.allow_writes,
            progress=False,
        )
    # every execution failed: the numbers are still printed, but the command did not succeed
    failed = EXIT_OK if prof.ok.any() or not prof.runs else EXIT_ERROR
    if prof.interrupted:  # Ctrl-C: what was measured is printed, the run did not complete
        print("workbench: interrupted: the numbers are of the runs done so far", file=sys.stderr)
        failed = EXIT_INTERRUPTED
    if failed:
        first = prof.messages[0] if prof.messages else "no execution succeeded"
        print(f"workbench: every execution failed: {first}", file=sys.stderr)
    if args.json:
        _print_json(_profile_json(prof))
        return failed
    print(prof.describe())
    summary = prof.summary()
    print(
        "  "
        + "  ".join(
            f"{k} {_fmt(summary[k], '')}" for k in ("p50", "p90", "p95", "p99", "max", "mean")
        )
        + "  (ms)"
    )
    for note in prof.notes:
        print(f"  note: {note}")
    for message in prof.messages[:5]:
        print(f"  error: {message}")
    return failed


def _profile_json(prof: Profile) -> dict[str, Any]:
    return {
        "sql": prof.sql,
        "dialect": prof.dialect,
        "mode": prof.mode,
        "concurrency": prof.concurrency,
        "summary": prof.summary(),
        "interrupted": prof.interrupted,
        "notes": prof.notes,
        "errors": prof.messages,
    }


def _analyze(args: argparse.Namespace) -> int:
    import workbench as wb

    with _session(args) as (session, sql):
        plan = session.explain(sql, analyze=args.analyze, allow_writes=args.allow_writes)
        evidence = session.evidence(sql, plan=plan)
    findings = wb.analyze(evidence)
    answer = None
    if args.architect:
        streaming = not args.json
        arch = wb.Architect(on_text=None if streaming else (lambda _: None))
        if not arch.online:
            print("workbench: no ANTHROPIC_API_KEY: the offline rules answer", file=sys.stderr)
        else:
            answer = arch.analyze(evidence)
            findings = answer.findings or findings
    if args.json:
        _print_json(
            {
                "sql": sql,
                "plan": plan.summary(),
                "findings": [f.to_dict() for f in findings],
                "answer": answer.to_dict() if answer is not None else None,
            }
        )
    else:
        print(plan.to_text().splitlines()[0])
        if not findings:
            print("no findings")
        for finding in findings:
            print(finding)
    if args.fail_on:
        worst = _SEVERITIES.index(args.fail_on)
        if any(_SEVERITIES.index(f.severity) <= worst for f in findings):
            return EXIT_FOUND
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from workbench.investigation import Investigation

    inv = Investigation.load(args.investigation)
    target = Path(args.path)
    if target.is_dir():
        raise ConfigurationError(
            f"{target} is a directory", hint="give the report's file name, e.g. report.html"
        )
    try:
        written = inv.export(args.path, charts=not args.no_charts)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write {target}: {exc.strerror or exc}",
            hint="choose a folder that exists and that you can write to",
        ) from None
    print(f"report: {written} ({len(inv)} steps)")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    if args.runs < CHECK_MIN_RUNS:  # fewer cannot tell a regression from noise
        raise ConfigurationError(
            f"check needs --runs {CHECK_MIN_RUNS} or more, not {args.runs}",
            hint="e.g. --runs 200 (the default)",
        )
    with _session(args) as (session, sql):
        baseline = None if args.save_baseline else _load_baseline(args.baseline)
        if baseline is not None and baseline.dialect != session.dialect:
            raise ConfigurationError(
                f"the baseline was measured on {baseline.dialect}, this database is "
                f"{session.dialect}",
                hint="compare like with like: save a baseline on this database (--save-baseline)",
            )
        current = session.profile(
            sql,
            runs=args.runs,
            warmup=args.warmup,
            params=args.params,
            allow_writes=args.allow_writes,
            progress=False,
        )
    if current.interrupted:  # a partial sample is neither a baseline nor a verdict
        print("workbench: interrupted: nothing saved, nothing compared", file=sys.stderr)
        return EXIT_INTERRUPTED
    if current.latencies_ms.size < 2:
        first = current.messages[0] if current.messages else "no execution succeeded"
        raise QueryError(f"the statement failed in every run: {first}")
    if current.errors:
        print(f"workbench: note: {current.errors} of {current.runs} runs failed", file=sys.stderr)
    if args.save_baseline:
        _save_baseline(args.baseline, current)
        summary = current.summary()
        if args.json:
            _print_json({"baseline": str(args.baseline), "saved": True, **_profile_json(current)})
        else:
            print(
                f"baseline saved: {args.baseline} (p50 {_fmt(summary['p50'])}, "
                f"{summary['runs']:,} runs)"
            )
        return EXIT_OK
    assert baseline is not None
    if " ".join(baseline.sql.split()) != " ".join(sql.split()):
        print(
            "workbench: note: the baseline was measured for a different statement", file=sys.stderr
        )
    comparison = baseline.compare(current)
    summary = comparison.summary()
    slowdown = 1 / comparison.ratio if comparison.ratio > 0 else math.inf
    delta_ms = summary["candidate_p50"] - summary["baseline_p50"]
    regressed = comparison.slower and slowdown > args.threshold and delta_ms > args.min_delta_ms
    result = EXIT_FOUND if regressed else EXIT_OK
    if args.json:
        _print_json(
            {
                "regressed": regressed,
                "verdict": comparison.verdict,
                "slowdown": slowdown,
                "threshold": args.threshold,
                "delta_ms": delta_ms,
                "min_delta_ms": args.min_delta_ms,
                **summary,
                "exit_code": result,
            }
        )
    else:
        state = "FAIL" if regressed else "ok"
        print(
            f"{state}: {comparison.verdict} (baseline p50 {_fmt(summary['baseline_p50'])}, "
            f"now {_fmt(summary['candidate_p50'])}, threshold {args.threshold:g}× and "
            f"{args.min_delta_ms:g} ms)"
        )
    return result


def _load_baseline(path: Path) -> Profile:
    from workbench.profiling.result import Profile

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"no baseline at {path}",
            hint="save one first: workbench check URL SQL --baseline FILE --save-baseline",
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"cannot read the baseline {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != BASELINE_FORMAT:
        raise ConfigurationError(
            f"{path} is not a workbench baseline",
            hint="write one with --save-baseline",
        )
    try:
        return Profile.from_dict(data["profile"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"the baseline {path} is damaged: {exc}") from None


def _save_baseline(path: Path, profile: Profile) -> None:
    data = {
        "format": BASELINE_FORMAT,
        "version": 1,
        "saved_at": datetime.now().isoformat(timespec="seconds"),
        "summary": _plain(profile.summary()),
        "profile": profile.to_dict(),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_plain(data), indent=1), encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot write the baseline {path}: {exc.strerror}") from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
