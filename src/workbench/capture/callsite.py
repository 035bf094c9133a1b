"""Where in *your* code a statement came from: the first frame outside SQLAlchemy, the
workbench (its demo app excepted: that is app code) and the standard library's plumbing. That
line is where an N+1 hides: ``user.orders`` in a loop."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import FrameType

__all__ = ["call_site"]

# the workbench package (this module is in workbench/capture/)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_SKIP_DIRS: tuple[str, ...] = ()


def _skip_dirs() -> tuple[str, ...]:
    """Library code a call site is never in: SQLAlchemy, the workbench (its demo app excepted:
    that is app code), the standard library's threading and contextlib."""
    global _SKIP_DIRS
    if not _SKIP_DIRS:
        import contextlib

        import sqlalchemy

        _SKIP_DIRS = (
            os.path.dirname(sqlalchemy.__file__) + os.sep,
            _PACKAGE + os.sep,
            os.path.dirname(contextlib.__file__) + os.sep + "contextlib",
            os.path.dirname(contextlib.__file__) + os.sep + "threading",
        )
    return _SKIP_DIRS


def call_site() -> str | None:
    skip = _skip_dirs()
    demo = os.sep + "workbench" + os.sep + "demo" + os.sep
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        app_code = not filename.startswith(skip) or demo in filename
        if app_code and not filename.startswith("<frozen"):
            return f"{_display_path(filename)}:{frame.f_lineno} in {_function(frame)}"
        frame = frame.f_back
    return None


def _function(frame: FrameType) -> str:
    """The function a line belongs to; a comprehension reports the function around it."""
    code = frame.f_code
    outer = frame.f_back
    name = code.co_name
    while (
        name.startswith("<")
        and name.endswith("comp>")
        and outer is not None
        and outer.f_code.co_filename == code.co_filename
    ):
        name = outer.f_code.co_name
        outer = outer.f_back
    return name


def _display_path(filename: str) -> str:
    try:
        return str(Path(filename).relative_to(Path.cwd()))
    except ValueError:
        parts = Path(filename).parts
        return str(Path(*parts[-3:])) if len(parts) > 3 else filename
