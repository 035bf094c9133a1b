"""How many runs a comparison needs before it can call anything.

A rank test on 3 runs against 3 cannot reach p < 0.05 even when every run of one side is
faster than every run of the other: the smallest p-value two samples of those sizes allow is
about 0.08. :func:`best_p` is that floor, :func:`runs_needed` the smallest equal sizes whose
floor is below the level, so a verdict can say "use at least N" instead of "noise".

>>> round(best_p(3, 3), 3), runs_needed(0.95)
(0.081, 4)
"""

from __future__ import annotations

import math
from functools import lru_cache

__all__ = ["best_p", "runs_needed"]


@lru_cache(maxsize=256)
def best_p(n_a: int, n_b: int) -> float:
    """The smallest two-sided p-value of the Mann-Whitney U test (normal approximation with
    continuity correction, as :class:`~workbench.profiling.result.Comparison` runs it) for
    samples of ``n_a`` and ``n_b``: the p of complete separation."""
    from scipy import stats

    if n_a < 1 or n_b < 1:
        return 1.0
    mean = n_a * n_b / 2
    sd = math.sqrt(n_a * n_b * (n_a + n_b + 1) / 12)
    z = (mean - 0.5) / sd
    return float(min(1.0, 2 * stats.norm.sf(z)))


def runs_needed(confidence: float = 0.95, *, limit: int = 1000) -> int:
    """The fewest runs on each side that can show a difference at ``confidence``."""
    alpha = 1 - confidence
    for n in range(2, limit):
        if best_p(n, n) < alpha:
            return n
    return limit
