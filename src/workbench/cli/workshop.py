"""``workbench workshop`` (set up and tear down a class, write the instructor guide, show the
class's progress) and ``workbench workshop-report DIR``: thin wrappers over
:mod:`workbench.demo.workshop`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.cli.commands import EXIT_ERROR, EXIT_OK, print_json
from workbench.cli.options import positive
from workbench.errors import ConfigurationError

__all__ = ["add_workshop_commands", "guide", "report", "setup", "teardown"]

_SERVER = (
    "URL: the PostgreSQL server, as an account that may create databases (the database in the "
    "URL is only where it connects: postgres will do); DATABASE_URL when left out."
)


def add_workshop_commands(
    subcommands: Any, add_command: Callable[..., argparse.ArgumentParser]
) -> None:
    """Register ``workshop`` (setup, teardown, guide, report) and ``workshop-report``."""
    workshop = add_command(
        subcommands,
        "workshop",
        "run the workshop for a class: learner databases, the instructor guide, progress",
        "workbench workshop setup postgresql://admin@db/postgres --learners 30\n"
        "  workbench workshop setup postgresql://admin@db/postgres --learners ada,grace "
        "--owner workshop\n"
        "  workbench workshop teardown postgresql://admin@db/postgres\n"
        "  workbench workshop guide -o docs/workshop-instructor.md\n"
        "  workbench workshop report /srv/workshop/results",
        description="setup: a database per learner on one PostgreSQL server, cloned from one "
        "template holding the demo data (loaded once: seconds, not thirty loads). teardown: "
        "drop what setup created. guide: the instructor guide (solutions, wrong answers, "
        "timings) as Markdown. report: the class's progress from the learners' result files.",
    )
    workshop.set_defaults(run=_usage(workshop))
    actions = workshop.add_subparsers(dest="action", metavar="ACTION")

    setup_parser = add_command(
        actions,
        "setup",
        "create a database per learner from one template with the demo data",
        "workbench workshop setup postgresql://admin@db/postgres --learners 30 --scale 0.2",
        description="Loads the demo data into <prefix>_template once, then creates "
        "<prefix>_01 ... (or one per name given) with CREATE DATABASE ... TEMPLATE. Existing "
        "learner databases are kept (--replace recreates them). A class stays on one scale: "
        "run again without --scale, it keeps the one it has; a different --scale is refused "
        "while learner databases at the old one would stay (pass --replace to recreate them at "
        "the new scale, losing what learners changed in them, or teardown first). Prints each "
        "learner's WORKBENCH_WORKSHOP_URL, password masked.\n\n" + _SERVER,
    )
    setup_parser.add_argument("url", nargs="?", default=None, metavar="URL")
    setup_parser.add_argument(
        "--learners",
        required=True,
        help="how many (30), or their names, comma-separated (ada,grace,linus)",
    )
    setup_parser.add_argument(
        "--scale",
        type=positive,
        default=None,
        help="demo data scale (default: the class's own when it exists, else 0.2)",
    )
    setup_parser.add_argument("--prefix", default="workshop", help="database name prefix")
    setup_parser.add_argument(
        "--owner", default=None, help="the role learners connect as (owns their databases)"
    )
    setup_parser.add_argument(
        "--replace",
        action="store_true",
        help="drop and recreate existing databases (needed to change a class's scale)",
    )
    setup_parser.add_argument("--json", action="store_true", help="print JSON")
    setup_parser.set_defaults(run=setup)

    teardown_parser = add_command(
        actions,
        "teardown",
        "drop the learner databases and the template setup created",
        "workbench workshop teardown postgresql://admin@db/postgres --prefix workshop",
        description="Drops only the databases setup created for this --prefix (their comment "
        "names the class: another class whose prefix starts the same, workshop_b for "
        "workshop, is left alone); sessions still connected to them are ended.\n\n" + _SERVER,
    )
    teardown_parser.add_argument("url", nargs="?", default=None, metavar="URL")
    teardown_parser.add_argument("--prefix", default="workshop", help="database name prefix")
    teardown_parser.set_defaults(run=teardown)

    guide_parser = add_command(
        actions,
        "guide",
        "write the instructor guide (Markdown)",
        "workbench workshop guide -o docs/workshop-instructor.md",
    )
    guide_parser.add_argument(
        "-o", "--output", type=Path, default=None, help="file to write (default: print)"
    )
    guide_parser.set_defaults(run=guide)

    for parent, name in ((actions, "report"), (subcommands, "workshop-report")):
        report_parser = add_command(
            parent,
            name,
            "the class's progress from a folder of learners' result files",
            f"workbench {'workshop ' if name == 'report' else ''}{name} /srv/workshop/results"
            "\n  workbench workshop-report --json",
            description="One row per learner, one column per scenario: ✓ passed, ✗N failed N "
            "times, · not tried; then per scenario how many passed. DIR defaults to "
            "WORKBENCH_WORKSHOP_DIR, else the workshop folder in your workbench directory.",
        )
        report_parser.add_argument("directory", nargs="?", type=Path, default=None, metavar="DIR")
        report_parser.add_argument("--json", action="store_true", help="print JSON")
        report_parser.set_defaults(run=report)


def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_ERROR

    return run


def _server(args: argparse.Namespace) -> str:
    url = args.url or os.environ.get("DATABASE_URL")
    if not url:
        raise ConfigurationError(
            "no server given", hint="pass the PostgreSQL URL, or set DATABASE_URL"
        )
    return str(url)


def _learners(value: str) -> int | list[str]:
    text = value.strip()
    if text.isdigit():
        return int(text)
    return [name for name in text.split(",") if name.strip()]


def setup(args: argparse.Namespace) -> int:
    from workbench.demo import workshop

    done = workshop.setup(
        _server(args),
        learners=_learners(args.learners),
        scale=args.scale,
        prefix=args.prefix,
        owner=args.owner,
        replace=args.replace,
        progress=not args.json,
    )
    if args.json:
        print_json(done.to_dict())
    else:
        print(done)
    return EXIT_OK


def teardown(args: argparse.Namespace) -> int:
    from workbench.demo import workshop

    dropped = workshop.teardown(_server(args), prefix=args.prefix)
    if not dropped:  # a typo in --prefix looks like success otherwise
        print(
            f"no class '{args.prefix}' on this server: nothing dropped (--prefix must be "
            "exactly the prefix given to setup)"
        )
        return EXIT_OK
    print(f"dropped {len(dropped)} database(s): " + ", ".join(dropped))
    return EXIT_OK


def guide(args: argparse.Namespace) -> int:
    from workbench.demo import workshop

    text = workshop.instructor_guide()
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    return EXIT_OK


def report(args: argparse.Namespace) -> int:
    from workbench.demo import workshop

    progress = workshop.report(args.directory)
    if args.json:
        print_json(progress.to_dict())
    else:
        print(progress.to_text())
    return EXIT_OK
