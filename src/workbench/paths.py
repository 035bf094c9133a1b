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

__all__ = ["workbench_home"]


def workbench_home() -> Path:
    """Where the workbench keeps its embedded server and fallback databases."""
    override = os.environ.get("WORKBENCH_HOME")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("workbench", appauthor=False))
