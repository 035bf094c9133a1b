"""Latency profiles and load runs: the timed loop, pgbench, statistics and comparisons.

>>> prof = s.profile("SELECT * FROM users WHERE id = :id",
...                  params={"id": wb.uniform(1, 100_000)}, runs=1000)   # doctest: +SKIP
>>> prof.summary()["p95"]                                                 # doctest: +SKIP
"""

from __future__ import annotations

from workbench.profiling.params import choice, uniform
from workbench.profiling.result import Comparison, Profile

__all__ = ["Comparison", "Profile", "Sweep", "choice", "uniform"]


def __getattr__(name: str) -> object:
    if name == "Sweep":
        from workbench.profiling.sweep import Sweep

        return Sweep
    raise AttributeError(name)
