"""A profile's headline numbers: a plain dict for code, a table a person reads.

>>> s = Summary(p50=1.0512, p90=2.0, p95=2.5, p99=1050.0, max=1500.0, mean=1.2, std=0.3,
...             min=0.9, qps=812.5, runs=200, errors=0)
>>> s["p99"]
1050.0
>>> print(repr(s).replace(" · ", chr(10)))   # one line, here folded
p50 1.05 ms
p90 2.00 ms
p95 2.50 ms
p99 1.05 s
max 1.50 s
mean 1.20 ms
std 0.300 ms
min 0.900 ms
812 per second
200 runs
0 errors
"""

from __future__ import annotations

import html
from typing import Any

from workbench import formatting as fmt

__all__ = ["Summary"]

_TIMES = ("p50", "p90", "p95", "p99", "max", "mean", "std", "min")


class Summary(dict[str, Any]):
    """What :meth:`Profile.summary` returns: milliseconds under ``p50`` … ``min``, then
    ``qps``, ``runs`` and ``errors``; shown with units instead of 15-digit floats."""

    def _shown(self) -> list[tuple[str, str]]:
        rows = [(key, fmt.milliseconds(self[key])) for key in _TIMES if key in self]
        if "qps" in self:
            rows.append(("throughput", f"{fmt.count(self['qps'])} per second"))
        for key in ("runs", "errors"):
            if key in self:
                rows.append((key, fmt.count(self[key])))
        known = (*_TIMES, "qps", "runs", "errors")
        rows += [(k, str(v)) for k, v in self.items() if k not in known]
        return rows

    def __repr__(self) -> str:
        parts = []
        for key, value in self._shown():
            if key == "throughput":
                parts.append(value)
            elif key in ("runs", "errors"):
                parts.append(f"{value} {key}")
            else:
                parts.append(f"{key} {value}")
        return " · ".join(parts)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:right'>{html.escape(v)}</td></tr>"
            for k, v in self._shown()
        )
        return f"<table class='wb-summary'>{cells}</table>"
