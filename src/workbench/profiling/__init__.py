"""Latency profiles and load runs: the timed loop, pgbench, statistics and comparisons.

>>> prof = s.profile("SELECT * FROM users WHERE id = :id",
...                  params={"id": wb.uniform(1, 100)}, runs=100)
>>> prof.summary()["runs"], prof.summary()["errors"]
(100, 0)
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
