"""How findings read: numbers, durations, memory sizes and percentages written for people;
identifiers and index names written for DDL; the :class:`Finding` a rule returns.

Kept apart from the rules so every finding speaks the same way ("400,000 rows", "19.4 ms",
"7.6 MB", "99.97%") and every ``CREATE INDEX`` names things alike (``orders_user_id_idx``).
"""

from __future__ import annotations

import math
import re
from typing import Any

from workbench import formatting as fmt
from workbench.findings import Finding

__all__ = [
    "finding",
    "index_name",
    "lookup_effect",
    "named_params",
    "nice_memory",
    "number",
    "parse_memory_kb",
    "quote_ident",
    "scan_severity",
]

_SAFE_IDENT = re.compile(r"[a-z_][a-z0-9_]*")
_RESERVED = frozenset(
    re.findall(
        r"\w+",
        "all analyse analyze and any array as asc both case cast check column constraint create "
        "default desc distinct do else end except false fetch for foreign from grant group having "
        "in index into is join key limit not null offset on or order primary references select "
        "table then to true union unique user using when where window with",
    )
)


def scan_severity(read: float, ms: float | None, share: float | None) -> str:
    """How much a wasteful scan matters: by rows read, its time, and its share of the
    statement's time (critical: a second or more and half the statement)."""
    if ms is not None and ms >= 1000 and (share or 0.0) >= 0.5:
        return "critical"
    if (read >= 100_000 and (share is None or share >= 0.3)) or (ms or 0.0) >= 100:
        return "high"
    if read >= 10_000 or (ms or 0.0) >= 10:
        return "medium"
    return "low"


def lookup_effect(read: float, kept: float, ms: float | None, *, what: str = "scan") -> str:
    """An expected effect such as "the scan of 400,000 rows becomes an index lookup of ~111
    rows: from ~19 ms to < 1 ms" (index lookups cost microseconds per row kept)."""
    text = (
        f"the {what} of {fmt.count(read)} rows becomes an index lookup of ~{fmt.count(kept)} rows"
    )
    if ms:
        after = (
            "< 1 ms"
            if kept <= 1_000
            else "a few ms"
            if kept <= 20_000
            else f"a time proportional to the {fmt.count(kept)} rows kept"
        )
        text += f": from ~{fmt.milliseconds(ms)} to {after}"
    return text


# -- formatting -----------------------------------------------------------------------------------
def number(value: Any, default: float = 0.0) -> float:
    """``value`` as a float, ``default`` when it is not a number (evidence read from JSON)."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        return default
    return result if math.isfinite(result) else default


def parse_memory_kb(text: str | None) -> float | None:
    """``"4MB"`` → 4096.0 (kB); PostgreSQL's units, and a bare number of kB."""
    if not text:
        return None
    match = re.fullmatch(r"\s*([\d.]+)\s*([kmgt]?b)?\s*", str(text), re.I)
    if not match:
        return None
    unit = (match.group(2) or "kb").lower()
    factor = {"b": 1 / 1024, "kb": 1.0, "mb": 1024.0, "gb": 1024.0**2, "tb": 1024.0**3}[unit]
    return float(match.group(1)) * factor


def nice_memory(kb: float) -> str:
    """A memory size rounded up to a power of two, as a setting value (``"16MB"``)."""
    mb = max(1.0, kb / 1024)
    power = 2 ** math.ceil(math.log2(mb))
    if power >= 1024:
        return f"{power // 1024}GB"
    return f"{power}MB"


def named_params(sql: str) -> str:
    """Placeholders as the workbench writes them (``:name``): sqlglot writes them
    ``%(name)s`` for PostgreSQL and ``$name`` for DuckDB."""
    sql = re.sub(r"%\((\w+)\)s", r":\1", sql)
    return re.sub(r"\$([A-Za-z_]\w*)", r":\1", sql)


def quote_ident(name: str, dialect: str) -> str:
    """``name`` as it must be written in DDL for ``dialect`` (quoted only when needed)."""
    if _SAFE_IDENT.fullmatch(name) and name not in _RESERVED:
        return name
    quote = "`" if dialect in ("mysql", "mariadb") else '"'
    return quote + name.replace(quote, quote * 2) + quote


def index_name(table: str, *parts: str, suffix: str = "idx") -> str:
    """``orders_user_id_idx``: table, parts, suffix; identifier-safe, at most 63 characters."""
    words = [re.sub(r"[^a-z0-9]+", "_", p.lower()).strip("_") for p in (table, *parts, suffix)]
    name = "_".join(w for w in words if w)
    if len(name) > 63:  # PostgreSQL truncates identifiers at 63 bytes; keep the suffix
        name = name[: 63 - len(suffix) - 1].rstrip("_") + "_" + suffix
    return name


def finding(
    code: str,
    severity: str,
    title: str,
    detail: str,
    *,
    evidence: dict[str, Any] | None = None,
    fix: str | None = None,
    fix_kind: str | None = None,
    expected_effect: str | None = None,
    node_ids: list[int] | None = None,
    tables: list[str] | None = None,
) -> Finding:
    """A rule's :class:`Finding` (source ``"offline"``)."""
    return Finding(
        code=code,
        severity=severity,
        title=title,
        detail=detail,
        evidence=dict(evidence or {}),
        fix=fix,
        fix_kind=fix_kind,
        expected_effect=expected_effect,
        source="offline",
        node_ids=list(node_ids or []),
        tables=list(dict.fromkeys(tables or [])),
    )
