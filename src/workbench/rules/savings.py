"""What fixing a finding would save, in milliseconds per execution of the statement (per
captured run for an N+1), estimated from the finding's own numbers, as pgMustard scores its
tips: the findings are ranked by it.

============================  ==========================================================
finding                       time saved
============================  ==========================================================
a scan that throws rows away  its time × the share of the rows read that were thrown away
(missing_index, filter_waste, (reading the rows kept remains)
non_sargable_predicate,
leading_wildcard_like)
a repeated inner side         its time × (1 − 1/loops): the repetitions but one
(nested_loop_blowup, the
inner scan's missing_index)
offset_pagination             the page's time × the share of rows skipped
n_plus_one                    the statements' total × (1 − 1/count): one query left
============================  ==========================================================

Anything else (a misestimate, a spill, stale statistics) gets no estimate: what it costs
depends on the plan the fix leads to, which the numbers at hand do not tell.

>>> from workbench.findings import Finding
>>> f = Finding("missing_index", "high", "t", evidence={"time_ms": 40.0, "rows_read": 1000,
...             "rows_kept": 10})
>>> time_saved(f)
39.6
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.rules.text import number

if TYPE_CHECKING:
    from workbench.findings import Finding

__all__ = ["time_saved"]


def time_saved(f: Finding) -> float | None:
    """The estimate for ``f`` (see the module), or ``None`` when its numbers do not tell."""
    ev = f.evidence
    ms = number(ev.get("time_ms"), -1.0)
    if f.code == "n_plus_one":
        total, count = number(ev.get("total_ms")), number(ev.get("count"))
        return round(total * (1 - 1 / count), 3) if total > 0 and count >= 1 else None
    if f.code == "nested_loop_blowup" or (f.code == "missing_index" and "join_node" in ev):
        loops = number(ev.get("loops"))
        inner = number(ev.get("inner_time_ms"), ms)
        return round(inner * (1 - 1 / loops), 3) if inner > 0 and loops >= 1 else None
    if ms <= 0:
        return None
    read, kept = number(ev.get("rows_read"), -1.0), number(ev.get("rows_kept"), -1.0)
    if read > 0 and kept >= 0:
        return round(ms * max(0.0, 1 - kept / read), 3)
    share = number(ev.get("removed_share"), -1.0)
    if share >= 0:
        return round(ms * share, 3)
    offset, limit = number(ev.get("offset"), -1.0), number(ev.get("limit"), 0.0)
    if f.code == "offset_pagination" and offset > 0:
        return round(ms * offset / (offset + max(limit, 1.0)), 3)
    return None
