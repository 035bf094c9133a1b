"""The commands of ``workbench``, each a thin wrapper over the Python API, and what they
share: reading ``[URL] SQL``, opening the session, printing JSON."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.errors import ConfigurationError

if TYPE_CHECKING:
    from workbench.profiling.result import Profile
    from workbench.session import Session

__all__ = [
    "analyze",
    "demo",
    "explain",
    "lab",
    "plain",
    "print_json",
    "profile",
    "profile_json",
    "report",
    "session_for",
]

EXIT_OK, EXIT_FOUND, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT
SEVERITIES = ("critical", "high", "medium", "low", "info")


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
def session_for(args: argparse.Namespace) -> Iterator[tuple[Session, str]]:
    import workbench as wb

    url, sql = _target(args)
    # "demo": the embedded PostgreSQL with the demo data, as wb.connect() gives it
    session = wb.connect(None if url == "demo" else url, timeout=args.timeout)
    try:
        yield session, sql
    finally:
        session.close()


def print_json(value: Any) -> None:
    print(json.dumps(plain(value), indent=2, ensure_ascii=False))


def plain(value: Any) -> Any:
    """JSON-ready: NaN and infinity become null, numpy numbers Python ones."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def lab(args: argparse.Namespace) -> int:
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


def demo(args: argparse.Namespace) -> int:
    from workbench.demo.guided import run_demo

    return run_demo(report=Path(args.report), scale=args.scale, folder=args.investigation)


def explain(args: argparse.Namespace) -> int:
    with session_for(args) as (session, sql):
        plan = session.explain(sql, analyze=args.analyze, allow_writes=args.allow_writes)
    if args.format == "text":
        print(plan.to_text())
        return EXIT_OK
    nodes = json.loads(plan.to_frame().to_json(orient="records"))
    print_json(
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


def profile(args: argparse.Namespace) -> int:
    with session_for(args) as (session, sql):
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
        print_json(profile_json(prof))
        return failed
    print(prof.describe())
    summary = prof.summary()
    print(
        "  "
        + "  ".join(
            f"{k} {fmt.milliseconds(summary[k])}"
            for k in ("p50", "p90", "p95", "p99", "max", "mean")
        )
    )
    for note in prof.notes:
        print(f"  note: {note}")
    for message in prof.messages[:5]:
        print(f"  error: {message}")
    return failed


def profile_json(prof: Profile) -> dict[str, Any]:
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


def analyze(args: argparse.Namespace) -> int:
    import workbench as wb

    with session_for(args) as (session, sql):
        plan = session.explain(sql, analyze=args.analyze, allow_writes=args.allow_writes)
        evidence = session.evidence(sql, plan=plan)
    findings = wb.analyze(evidence)
    answer = None
    if args.architect:
        streaming = not args.json
        arch = wb.Architect(args.persona, on_text=None if streaming else (lambda _: None))
        if not arch.online:
            print("workbench: no ANTHROPIC_API_KEY: the offline rules answer", file=sys.stderr)
        else:
            answer = arch.analyze(evidence)
            findings = answer.findings or findings
    if args.json:
        print_json(
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
        worst = SEVERITIES.index(args.fail_on)
        if any(SEVERITIES.index(f.severity) <= worst for f in findings):
            return EXIT_FOUND
    return EXIT_OK


def report(args: argparse.Namespace) -> int:
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
