"""Latency against concurrency: the same statement at 1, 2, 4, 8 ... clients."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.profiling.launch import profile
from workbench.profiling.modes import Progress
from workbench.profiling.result import Profile

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from workbench.execution import Executor

__all__ = ["Sweep", "sweep"]


@dataclass
class Sweep:
    """One :class:`Profile` per concurrency level."""

    sql: str
    profiles: list[Profile] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """``concurrency qps p50 p95 p99 errors mode`` per level."""
        import pandas as pd

        rows = []
        for prof in self.profiles:
            s = prof.summary()
            rows.append(
                {
                    "concurrency": prof.concurrency,
                    "qps": s["qps"],
                    "p50": s["p50"],
                    "p95": s["p95"],
                    "p99": s["p99"],
                    "errors": s["errors"],
                    "runs": s["runs"],
                    "mode": prof.mode,
                }
            )
        return pd.DataFrame(rows)

    def chart(self, **kwargs: Any) -> Figure:
        """Throughput against latency, one point per concurrency level."""
        from workbench.charts import sweep_chart

        return sweep_chart(self, **kwargs)

    def __repr__(self) -> str:
        levels = ", ".join(f"{p.concurrency}: {p.qps:,.0f} qps" for p in self.profiles)
        return f"<Sweep {levels}>"

    def _repr_html_(self) -> str:
        return str(self.to_frame().to_html(index=False, float_format=lambda v: f"{v:,.3f}"))


def sweep(
    executor: Executor,
    sql: str,
    concurrency: Sequence[int] = (1, 2, 4, 8),
    *,
    duration: float = 3.0,
    params: Any = None,
    warmup: int = 20,
    allow_writes: bool = False,
    timeout: float | None = None,
    engine: str = "auto",
    progress: Progress = None,
    stop: Callable[[], bool] | None = None,
) -> Sweep:
    """Latency and throughput at several concurrency levels: ``sql`` profiled for
    ``duration`` seconds at each (the options are :meth:`~workbench.Session.profile`'s).

    >>> sw = s.sweep("SELECT * FROM users WHERE id = 1", (1, 2, 4))   # doctest: +SKIP
    >>> sw.chart()                                                      # doctest: +SKIP
    """
    result = Sweep(sql)
    for level in concurrency:
        result.profiles.append(
            profile(
                executor,
                sql,
                concurrency=int(level),
                duration=duration,
                params=params,
                warmup=warmup,
                allow_writes=allow_writes,
                timeout=timeout,
                engine=engine,
                progress=progress,
                stop=stop,
            )
        )
        if stop is not None and stop():
            break
    return result
