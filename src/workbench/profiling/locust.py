"""Reading a Locust run back: ``wb.Profile.from_locust(...)``.

Locust (a distributed load engine) writes its statistics with ``--csv PREFIX``:
``PREFIX_stats.csv`` (per request name: counts, min, max and a percentile table),
``PREFIX_stats_history.csv`` (the run over time) and ``PREFIX_failures.csv``. Those hold no
single request's latency, so a profile read from them is *reconstructed*: as many samples as
the run had requests, spread along its percentile table (exact at each listed percentile,
linear between them), in an order that says nothing about time. The locustfile that
``workbench locustfile`` writes also logs every request (``workbench-requests-*.csv`` beside
it, one file per Locust process); given those files, the profile holds the real latencies.

:func:`read` returns the :class:`~workbench.profiling.result.Profile` fields (the class method
builds the profile: this module does not import it).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import ConfigurationError
from workbench.redaction import redact_secrets

__all__ = ["REQUEST_LOG_COLUMNS", "REQUEST_LOG_GLOB", "read"]

#: the per-request log the written locustfile keeps (one file per Locust process)
REQUEST_LOG_GLOB = "workbench-requests-*.csv"
REQUEST_LOG_COLUMNS = ["start_ms", "method", "name", "latency_ms", "status", "error"]
_PERCENTILES = ("50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%")


def read(path: str | Path, *, name: str | None = None) -> dict[str, Any]:
    """The fields of a profile of one request name of a Locust run (``name=None``: the only
    one, or all of them together). ``path``: the ``--csv`` prefix, its ``_stats.csv``, a
    per-request log, or the folder holding the logs."""
    target = Path(path)
    logs = _logs(target)
    if logs:
        return _from_logs(logs, name)
    stats = _stats_file(target)
    return _from_stats(stats, name)


# -- the per-request logs -------------------------------------------------------------------------
def _logs(target: Path) -> list[Path]:
    """The per-request logs ``target`` names: a folder of them, or one (a ``--csv`` prefix or
    a ``_stats.csv`` names the statistics instead)."""
    if target.is_dir():
        return sorted(target.glob(REQUEST_LOG_GLOB))
    if target.is_file() and target.name.startswith("workbench-requests"):
        return [target]
    return []


def _from_logs(paths: list[Path], name: str | None) -> dict[str, Any]:
    rows: list[dict[str, str]] = []
    for index, path in enumerate(paths):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                row["worker"] = str(index)
                rows.append(row)
    names = sorted({r["name"] for r in rows})
    if name is not None:
        rows = [r for r in rows if r["name"] == name]
        if not rows:
            raise _no_such_name(name, names)
    if not rows:
        raise ConfigurationError(
            f"the Locust request logs hold no request ({', '.join(p.name for p in paths)})",
            hint="run Locust with the written locustfile until it has sent requests",
        )
    rows.sort(key=lambda r: float(r["start_ms"]))
    start = np.array([float(r["start_ms"]) for r in rows])
    latency = np.array([float(r["latency_ms"]) for r in rows])
    messages: list[str] = []
    errors = []
    for row in rows:
        text = row.get("error") or ""
        if text:
            text = redact_secrets(text)[:300]
            if text not in messages:
                messages.append(text)
            errors.append(messages.index(text))
        else:
            errors.append(-1)
    methods = sorted({r["method"] for r in rows})
    shown = name or (names[0] if len(names) == 1 else f"{len(names)} request names")
    wall = float((start + latency).max() - start.min()) / 1000.0
    return {
        "sql": f"{'/'.join(methods)} {shown}",
        "dialect": "",
        "mode": "locust",
        "concurrency": len(paths),
        "start_ms": start - start.min(),
        "all_latencies_ms": latency,
        "rows": np.full(latency.size, -1, dtype=np.int64),
        "worker": np.array([int(r["worker"]) for r in rows], dtype=np.int16),
        "error": np.array(errors, dtype=np.int16),
        "messages": messages,
        "wall_s": wall,
        "extra": {"status": np.array([int(r["status"] or 0) for r in rows], dtype=np.int16)},
        "notes": [
            f"read from Locust's per-request logs ({len(paths)} file(s), one per Locust "
            "process): every request's latency as Locust measured it"
        ],
    }


# -- the statistics CSV ---------------------------------------------------------------------------
def _stats_file(target: Path) -> Path:
    candidates = [target] if target.name.endswith("_stats.csv") else []
    candidates.append(target.with_name(target.name + "_stats.csv"))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ConfigurationError(
        f"no Locust statistics at {target}",
        hint="give the prefix passed to locust --csv (PREFIX_stats.csv must exist), its "
        "_stats.csv, or the folder of the workbench-requests-*.csv logs",
    )


def _from_stats(path: Path, name: str | None) -> dict[str, Any]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    entries = [r for r in rows if r.get("Name") != "Aggregated"]
    total = next((r for r in rows if r.get("Name") == "Aggregated"), None)
    if name is not None:
        row = next((r for r in entries if r.get("Name") == name), None)
        if row is None:
            raise _no_such_name(name, [r["Name"] for r in entries])
    elif len(entries) == 1:
        row = entries[0]
    elif total is not None:
        row = total
    else:
        raise ConfigurationError(f"{path} holds no Locust statistics")
    count = int(float(row["Request Count"] or 0))
    failures = int(float(row["Failure Count"] or 0))
    latency = _spread(row, count - failures)
    history = _history(path, row)
    wall = history[1] if history else (count / float(row["Requests/s"] or math.nan))
    users = history[0] if history else 1
    failed = _failures(path, None if row is total else row.get("Name"), failures)
    messages = list(dict.fromkeys(failed))
    n = latency.size + failures
    order = np.random.default_rng(0).permutation(n)  # the table says nothing about time
    samples = np.concatenate([latency, np.full(failures, math.nan)])[order]
    codes = [messages.index(m) for m in failed]
    error = np.concatenate([np.full(latency.size, -1), codes]).astype(np.int16)[order]
    label = row.get("Name") if row is not total else "all requests"
    return {
        "sql": f"{row.get('Type') or ''} {label}".strip(),
        "dialect": "",
        "mode": "locust",
        "concurrency": int(users),
        "start_ms": np.linspace(0.0, max(wall, 0.0) * 1000.0, n, endpoint=False),
        "all_latencies_ms": samples,
        "rows": np.full(n, -1, dtype=np.int64),
        "worker": np.zeros(n, dtype=np.int16),
        "error": error,
        "messages": messages,
        "wall_s": float(wall) if math.isfinite(wall) else 0.0,
        "notes": [
            f"reconstructed from Locust's statistics ({path.name}): {count:,} requests spread "
            "along its percentile table (exact at 50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99 "
            "and 100%, Locust rounds times above 100 ms to two digits); the order in time is "
            "not known. The written locustfile's per-request logs give the real latencies."
        ],
    }


def _spread(row: dict[str, str], n: int) -> np.ndarray:
    """``n`` latencies whose percentiles are the row's (linear between the listed ones)."""
    if n <= 0:
        return np.empty(0)
    points = [(0.0, float(row.get("Min Response Time") or 0.0))]
    for label in _PERCENTILES:
        value = row.get(label)
        if value not in (None, "", "N/A"):
            points.append((float(label.rstrip("%")), float(value)))
    qs = np.array([q for q, _v in points])
    values = np.maximum.accumulate(np.array([v for _q, v in points]))
    wanted = (np.arange(n) + 0.5) / n * 100.0
    return np.asarray(np.interp(wanted, qs, values), dtype=np.float64)


def _history(stats: Path, row: dict[str, str]) -> tuple[int, float] | None:
    """(most users, seconds from the first to the last row) of ``_stats_history.csv``."""
    path = stats.with_name(stats.name.replace("_stats.csv", "_stats_history.csv"))
    if not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("Name") in ("Aggregated", row["Name"])]
    stamps = [float(r["Timestamp"]) for r in rows if r.get("Timestamp")]
    users = [int(float(r.get("User Count") or 0)) for r in rows]
    if len(stamps) < 2:
        return None
    return max(users or [1]), stamps[-1] - stamps[0]


def _failures(stats: Path, name: str | None, count: int) -> list[str]:
    """One message per failed request, as ``_failures.csv`` counts them."""
    path = stats.with_name(stats.name.replace("_stats.csv", "_failures.csv"))
    rows = []
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if name is None or r.get("Name") == name]
    out: list[str] = []
    for row in rows:
        text = redact_secrets(row.get("Error") or "failed")[:300]
        out += [text] * int(float(row.get("Occurrences") or 0))
    unnamed = "failed (Locust's failures file names no error)"
    return (out + [unnamed] * count)[:count]


def _no_such_name(name: str, names: list[str]) -> ConfigurationError:
    return ConfigurationError(
        f"the Locust run has no request named {name!r}",
        hint=f"its names: {', '.join(sorted(set(names))) or 'none'}",
    )
