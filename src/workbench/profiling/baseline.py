"""Baseline files for ``workbench check``: one profile with its samples, saved as JSON, read
back for the next run's comparison."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.errors import ConfigurationError
from workbench.profiling.result import Profile

__all__ = ["BASELINE_FORMAT", "load_baseline", "save_baseline"]

BASELINE_FORMAT = "workbench-baseline"


def load_baseline(path: Path) -> Profile:
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


def save_baseline(path: Path, profile: Profile) -> None:
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
    return value
