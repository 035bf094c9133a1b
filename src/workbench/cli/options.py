r"""The option machinery the command line and the notebook magics share: number types that
refuse NaN and infinity, JSON parameters, and the groups of options several commands take.

The magics parse with :class:`OptionParser`, whose errors are :class:`WorkbenchError`\ s (a
cell shows them) instead of an exit.
"""

from __future__ import annotations

import argparse
import json
import math
import textwrap
from typing import Any, NoReturn

from workbench.errors import ConfigurationError

__all__ = [
    "EXIT_CODES",
    "OptionParser",
    "add_allow_writes",
    "add_command",
    "add_profile_arguments",
    "add_sql_arguments",
    "not_negative",
    "number",
    "params_json",
    "positive",
    "ratio",
]

EXIT_CODES = """\
exit codes:
  0  success
  1  {one}
  2  bad usage or an error (printed as "workbench: ...")
"""


class OptionParser(argparse.ArgumentParser):
    """An argument parser that raises instead of exiting: for the magics, where a bad option
    is a message in the cell, not the end of the kernel."""

    def error(self, message: str) -> NoReturn:
        raise ConfigurationError(message, hint=self.format_usage().strip())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise ConfigurationError(message or "", hint=self.format_usage().strip())


def add_command(
    commands: Any,
    name: str,
    summary: str,
    examples: str,
    *,
    description: str | None = None,
    exit_one: str = "not used by this command",
) -> argparse.ArgumentParser:
    epilog = f"examples:\n  {examples}\n\n" + EXIT_CODES.format(one=exit_one)
    paragraphs = (description or summary).split("\n\n")
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description="\n\n".join(textwrap.fill(p, 88) for p in paragraphs),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def add_sql_arguments(parser: argparse.ArgumentParser) -> None:
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
        type=positive,
        default=30.0,
        help="seconds each statement may run (default: %(default)s)",
    )


def add_allow_writes(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--allow-writes", action="store_true", help=help)


def add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=200, help="executions (default: %(default)s)")
    parser.add_argument(
        "--warmup", type=int, default=20, help="executions before measuring (default: %(default)s)"
    )
    parser.add_argument(
        "--params",
        type=params_json,
        default=None,
        metavar="JSON",
        help="named parameters as a JSON object, e.g. '{\"id\": 42}'",
    )


def number(text: str) -> float:
    """A finite number (NaN fails every later comparison: it would turn a check off)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


def positive(text: str) -> float:
    value = number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def not_negative(text: str) -> float:
    value = number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number of 0 or more, not {text}")
    return value


def ratio(text: str) -> float:
    value = positive(text)
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"a slowdown ratio is at least 1 (1.2 = 20% slower), not {text}"
        )
    return value


def params_json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("a JSON object, e.g. '{\"id\": 42}'")
    return value
