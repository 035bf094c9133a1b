"""How numbers read in a report: milliseconds to three decimals, counts with separators,
a dash for what is unknown (``None``, NaN)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["cell", "clip", "count", "num", "p_value"]


def num(value: Any, digits: int = 3) -> str:
    if value is None or isinstance(value, str):
        return "–" if value is None else value
    number = float(value)
    if math.isnan(number):
        return "–"
    if digits == 0 or abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:,.{digits}f}"


def count(value: Any) -> str:
    return "–" if value is None else f"{int(value):,}"


def p_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return "< 0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return num(value)
    return str(value)


def clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
