"""The ``workbench`` command: thin wrappers over the Python API.

    workbench lab                     JupyterLab on the notebooks, embedded database ready
    workbench demo --report PATH      the demo investigation without a browser

Exit codes: 0 success, 1 the check failed or the work found a problem, 2 bad usage or an error.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from workbench.errors import WorkbenchError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except WorkbenchError as exc:
        print(f"workbench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="A Jupyter workbench for database and backend performance investigations.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    lab = commands.add_parser("lab", help="start JupyterLab on the notebooks, database ready")
    lab.add_argument(
        "--notebook-dir", default="notebooks", help="folder to open (default: %(default)s)"
    )
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser")
    lab.add_argument("--port", type=int, default=None, help="port for JupyterLab")
    lab.set_defaults(run=_lab)

    demo = commands.add_parser("demo", help="run the demo investigation headless, write a report")
    demo.add_argument("--report", default="reports/demo.html", help="report path (.html or .md)")
    demo.add_argument("--scale", type=float, default=1.0, help="demo data scale (1.0 ≈ 1.7M rows)")
    demo.set_defaults(run=_demo)
    return parser


def _lab(args: argparse.Namespace) -> int:
    import workbench as wb

    session = wb.connect()
    print(f"database ready: {session.label or session.dialect} — {session.url}")
    folder = Path(args.notebook_dir)
    quickstart = folder / "01-quickstart.ipynb"
    command = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={folder.resolve()}"]
    if args.no_browser:
        command.append("--no-browser")
    if args.port:
        command.append(f"--port={args.port}")
    if quickstart.exists():
        command.append(f"--LabApp.default_url=/lab/tree/{quickstart.name}")
    env = dict(os.environ)
    session.close()
    return subprocess.call(command, env=env)


def _demo(args: argparse.Namespace) -> int:
    from workbench.demo_run import run_demo

    return run_demo(report=Path(args.report), scale=args.scale)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
