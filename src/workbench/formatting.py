"""How numbers and text read, everywhere the workbench writes for people: plan trees, findings,
profiles, charts, reports, the panel and the command line.

One function per kind of value, so a duration reads the same in a finding, a chart legend and
a report (``1.50 s``, never ``1,500`` in one place and ``1.50e+03 ms`` in another):

>>> milliseconds(0.0514), milliseconds(19.44), milliseconds(1500), milliseconds(None)
('0.051 ms', '19.4 ms', '1.50 s', '–')
>>> count(1234567.4), rows(2.5), percent(0.99971), factor(31.4)
('1,234,567', '2.50', '99.97%', '31')
>>> kilobytes(7782), clip("SELECT *\\n  FROM orders", 12)
('7.6 MB', 'SELECT * FR…')
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "UNKNOWN",
    "clip",
    "count",
    "factor",
    "kilobytes",
    "milliseconds",
    "number",
    "p_value",
    "percent",
    "rows",
]

#: what an unknown value (``None``, NaN) reads as
UNKNOWN = "–"


def _unknown(value: Any) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def milliseconds(value: float | None) -> str:
    """A duration given in milliseconds, with three significant digits and the unit a person
    reads: ``0.051 ms``, ``1.23 ms``, ``19.4 ms``, ``123 ms``, ``1.50 s``, ``12.3 s``."""
    if _unknown(value):
        return UNKNOWN
    ms = float(value)  # type: ignore[arg-type]
    if abs(ms) >= 1000:
        seconds = ms / 1000
        if abs(seconds) >= 100:
            return f"{seconds:,.0f} s"
        return f"{seconds:.1f} s" if abs(seconds) >= 10 else f"{seconds:.2f} s"
    if abs(ms) >= 100:
        return f"{ms:.0f} ms"
    if abs(ms) >= 10:
        return f"{ms:.1f} ms"
    if abs(ms) >= 1:
        return f"{ms:.2f} ms"
    return f"{ms:.3f} ms"


def count(value: float | None) -> str:
    """A whole number with thousands separators (``400,000``)."""
    if _unknown(value):
        return UNKNOWN
    return f"{round(float(value)):,}"  # type: ignore[arg-type]


def rows(value: float | None) -> str:
    """A row count: whole above 100, two decimals for a fractional average (``2.50``)."""
    if _unknown(value):
        return UNKNOWN
    number_ = float(value)  # type: ignore[arg-type]
    if number_ and abs(number_ - round(number_)) > 1e-6 and number_ < 100:
        return f"{number_:,.2f}"
    return f"{number_:,.0f}"


def number(value: Any, digits: int = 3) -> str:
    """A plain number in a table: ``digits`` decimals, none from 1,000 on; text as it is."""
    if isinstance(value, str):
        return value
    if _unknown(value):
        return UNKNOWN
    number_ = float(value)
    if digits == 0 or abs(number_) >= 1000:
        return f"{number_:,.0f}"
    return f"{number_:,.{digits}f}"


def percent(share: float | None) -> str:
    """A share as a percentage with the digits that matter: ``99.97%``, never a rounded
    ``100%`` that is not; ``0.04%``, never ``0.0%`` that is not."""
    if _unknown(share):
        return UNKNOWN
    value = float(share)  # type: ignore[arg-type]
    if value >= 1.0:
        return f"{value:.0%}" if value == 1.0 else f"{value:.1%}"
    if value >= 0.999:
        return f"{math.floor(value * 10000) / 100:.2f}%"
    if 0 < value < 0.001:
        return f"{max(value, 0.0001):.2%}"
    return f"{value:.1%}"


def factor(x: float | None) -> str:
    """A speed-up or slow-down factor as people write it: ``1.35``, ``2.8``, ``31``, ``1,200``."""
    if _unknown(x):
        return UNKNOWN
    value = float(x)  # type: ignore[arg-type]
    if not math.isfinite(value):
        return "∞" if value > 0 else UNKNOWN
    if value < 2:
        return f"{value:.2f}"
    if value < 10:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def kilobytes(kb: float | None) -> str:
    """A size given in kB: ``512 kB``, ``7.6 MB``, ``1.2 GB``."""
    if _unknown(kb):
        return UNKNOWN
    value = float(kb)  # type: ignore[arg-type]
    if value >= 1024 * 1024:
        return f"{value / 1024 / 1024:,.1f} GB"
    if value >= 1024:
        return f"{value / 1024:,.1f} MB"
    return f"{value:,.0f} kB"


def p_value(value: float | None) -> str:
    """A p-value: ``< 0.001`` below that, three decimals otherwise."""
    if _unknown(value):
        return UNKNOWN
    p = float(value)  # type: ignore[arg-type]
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def clip(text: str, width: int, *, one_line: bool = True) -> str:
    """``text`` cut to ``width`` characters with an ellipsis; ``one_line`` first folds every
    run of whitespace (line breaks included) into one space."""
    if one_line:
        text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"
