"""Where the panel puts its results: the running notebook's namespace, under the names its
Python lines use."""

from __future__ import annotations

from typing import Any

__all__ = ["notebook_namespace"]


def notebook_namespace() -> dict[str, Any]:
    """The running notebook's namespace (a fresh dict outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}
