"""The commands that put an agent on a database: ``workbench mcp`` (the tools over MCP) and
``workbench investigate`` (the architect with the tools, each executing call approved at the
terminal)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from workbench.cli.options import add_command, positive
from workbench.errors import ConfigurationError

if TYPE_CHECKING:
    from workbench.tools import ToolCall

__all__ = ["add_agent_commands", "investigate", "mcp"]

_URL_NOTE = (
    "URL: a SQLAlchemy URL, DATABASE_URL when it is left out, or 'demo' (the embedded "
    "PostgreSQL with the demo data)."
)


def add_agent_commands(subcommands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    server = add_command(
        subcommands,
        "mcp",
        "serve the workbench's tools over MCP (stdio) for Claude Code or any MCP client",
        'workbench mcp "$DATABASE_URL"\n'
        "  workbench mcp postgresql://app@db/shop --allow-analyze --allow-sandbox\n"
        "  claude mcp add workbench -- workbench mcp postgresql://app@db/shop",
        description="The tools explain, describe_tables, top_statements and findings, read-only "
        "and through the workbench's guard (one statement per call, writes refused, the "
        "statement timeout). --allow-analyze adds EXPLAIN ANALYZE and profile (they execute "
        "statements); --allow-sandbox adds try_fix (builds an index or statistics in a "
        "transaction that is rolled back); --allow-http adds profile_http (GET and HEAD "
        "requests to the application's endpoints). Logs go to standard error; the URL's password "
        "never appears in a result or a log.\n\n" + _URL_NOTE,
    )
    server.add_argument("url", nargs="?", default=None, metavar="URL", help="the database")
    server.add_argument(
        "--allow-analyze",
        action="store_true",
        help="offer tools that execute statements (EXPLAIN ANALYZE, profile)",
    )
    server.add_argument(
        "--allow-sandbox",
        action="store_true",
        help="offer try_fix (builds in a rolled-back transaction)",
    )
    server.add_argument(
        "--allow-http",
        action="store_true",
        help="offer profile_http (GET/HEAD requests to the application's endpoints)",
    )
    _add_timeout(server)
    server.set_defaults(run=mcp)

    agent = add_command(
        subcommands,
        "investigate",
        "let the architect investigate a question with the tools, approving each step",
        'workbench investigate demo "why is this slow?" --sql "SELECT * FROM orders WHERE '
        'user_id = 42"\n'
        '  workbench investigate "$DATABASE_URL" "what should I index?" --approve reads '
        "--persona backend-architect",
        description="The architect (ANTHROPIC_API_KEY) calls the workbench's tools in a loop. "
        "Reads that execute nothing run at once; each call that executes a statement or "
        "builds something is put to you at the terminal (--approve ask, the default), denied "
        "(--approve reads) or allowed (--approve all). Without a key, the offline rules "
        "answer on the statement's plan.\n\n" + _URL_NOTE,
    )
    agent.add_argument("target", nargs="+", metavar="[URL] QUESTION")
    agent.add_argument("--sql", default=None, help="the statement the question is about")
    agent.add_argument("--max-steps", type=int, default=8, help="tool calls at most (8)")
    agent.add_argument(
        "--max-seconds", type=positive, default=300.0, help="wall time at most (300)"
    )
    agent.add_argument(
        "--approve",
        choices=("ask", "reads", "all"),
        default="ask",
        help="calls that execute or build: ask at the terminal, deny, or allow",
    )
    add_persona_argument(agent)
    _add_timeout(agent)
    agent.add_argument("--json", action="store_true", help="print the answer as JSON")
    agent.set_defaults(run=investigate)


def add_persona_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--persona",
        default=None,
        metavar="NAME_OR_PATH",
        help="an agent file, or a name in .claude/agents/ or ~/.claude/agents/ "
        "(default: the shipped backend-architect)",
    )


def _add_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=positive,
        default=30.0,
        help="seconds each statement may run (default: %(default)s)",
    )


def _url(given: str | None) -> str | None:
    url = given or os.environ.get("DATABASE_URL") or "demo"
    return None if url == "demo" else url


def mcp(args: argparse.Namespace) -> int:
    import workbench as wb
    from workbench.mcp import serve

    session = wb.connect(_url(args.url), timeout=args.timeout)
    try:
        serve(
            session,
            allow_analyze=args.allow_analyze,
            allow_sandbox=args.allow_sandbox,
            allow_http=args.allow_http,
        )
    finally:
        session.close()
    return 0


def investigate(args: argparse.Namespace) -> int:
    import workbench as wb
    from workbench.cli.commands import print_json

    given = list(args.target)
    if len(given) > 2:
        raise ConfigurationError(
            f"expected [URL] QUESTION, got {len(given)} arguments",
            hint='quote the question: workbench investigate URL "why is it slow?"',
        )
    question = given[-1]
    session = wb.connect(_url(given[0] if len(given) == 2 else None), timeout=args.timeout)
    try:
        arch = wb.Architect(
            args.persona,
            session=session,
            on_text=(lambda _: None) if args.json else None,
            on_tool=None if args.json else _said,
        )
        if not arch.online:
            print("workbench: no ANTHROPIC_API_KEY: the offline rules answer", file=sys.stderr)
        approve = {"ask": _ask, "reads": None, "all": _allow}[args.approve]
        answer = arch.investigate(
            question,
            sql=args.sql,
            max_steps=args.max_steps,
            max_seconds=args.max_seconds,
            approve=approve,
        )
    finally:
        session.close()
    if args.json:
        print_json(answer.to_dict())
    else:
        if answer.offline:
            print(answer.markdown)  # the offline narrative already lists the findings
        else:
            for finding in answer.findings:
                print(finding)
        for note in answer.notes:
            print(f"note: {note}", file=sys.stderr)
    return 0


def _said(call: ToolCall, phase: str) -> None:
    if phase == "done":
        print(f"\n[{call.name}] {call.summary}", file=sys.stderr)
    elif phase == "denied":
        print(f"\n[{call.name}] denied", file=sys.stderr)


def _ask(call: ToolCall) -> bool:
    from workbench.tools import prompt_approval

    if not sys.stdin.isatty():
        print(f"[{call.name}] denied: no terminal to ask (use --approve all)", file=sys.stderr)
        return False
    return prompt_approval(call)


def _allow(call: ToolCall) -> bool:
    return True
