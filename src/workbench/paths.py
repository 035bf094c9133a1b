"""Where the workbench keeps its files: the embedded server, fallback databases, saved evidence.

``WORKBENCH_HOME`` overrides the user's data directory (a class on one JupyterHub, CI).

>>> import os; os.environ["WORKBENCH_HOME"] = "/tmp/wb-home"
>>> str(workbench_home())
'/tmp/wb-home'
>>> del os.environ["WORKBENCH_HOME"]
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["workbench_home", "writable_dir", "writable_place"]


def workbench_home() -> Path:
    """Where the workbench keeps its embedded server and fallback databases."""
    override = os.environ.get("WORKBENCH_HOME")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("workbench", appauthor=False))


def writable_dir(preferred: str | Path, *, fallback: str) -> Path:
    """``preferred`` when it can be created and written to, else ``fallback`` under
    :func:`workbench_home` (a notebook folder on a JupyterHub is often read-only; the user's
    own data directory is not).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> writable_dir(folder / "results", fallback="workshop") == folder / "results"
    True
    >>> (folder / "file").write_text("not a folder")
    12
    >>> writable_dir(folder / "file" / "results", fallback="workshop").name
    'workshop'
    """
    import tempfile

    path = Path(preferred).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".wb-probe-"):
            pass
    except OSError:
        path = workbench_home() / fallback
        path.mkdir(parents=True, exist_ok=True)
    return path


def writable_place(preferred: str | Path, *, fallback: str) -> Path:
    """Like :func:`writable_dir`, but creates nothing: ``preferred`` when the nearest folder of
    it that exists can be written to, else ``fallback`` under :func:`workbench_home`. For
    folders made only when something is written there (an investigation opened and left empty
    leaves nothing behind).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> writable_place(folder / "investigations" / "a", fallback="investigations").parent.name
    'investigations'
    >>> (folder / "investigations").exists()
    False
    >>> (folder / "file").write_text("not a folder")
    12
    >>> writable_place(folder / "file" / "a", fallback="investigations") == (
    ...     workbench_home() / "investigations" / "a")
    True
    """
    path = Path(preferred).expanduser()
    existing = path.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.is_dir() and os.access(existing, os.W_OK | os.X_OK):
        return path
    return workbench_home() / fallback / path.name
