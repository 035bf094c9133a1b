"""A profile's samples and what they say: :class:`Profile` and :class:`Comparison`.

Samples are numpy arrays (one value per execution), never a Python object per execution.
Statistics use numpy and scipy: percentiles by ``numpy.percentile``, confidence intervals by
``scipy.stats.bootstrap``, the difference test by ``scipy.stats.mannwhitneyu``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench import formatting as fmt
from workbench.profiling.power import best_p, runs_needed
from workbench.profiling.server_side import ServerSideViews, ServerStatements
from workbench.profiling.summary import Summary

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["Comparison", "Profile"]

#: bootstrap on at most this many samples per side (the interval of a median of a million
#: samples is no better estimated by resampling all of them, only slower)
BOOTSTRAP_SAMPLES = 20_000
#: ratios within ±10% are "no meaningful difference" by default: two runs of the same statement
#: minutes apart on a shared machine (caches, autovacuum, neighbours, CPU frequency) differ by
#: that much, and a rank test rightly calls such drift significant
NOISE_BAND = 0.10


@dataclass
class Profile(ServerSideViews):
    """Latencies of repeated executions of one statement, Python callable or HTTP request.

    ``start_ms`` is each execution's start relative to the run's start, ``all_latencies_ms`` its
    duration, ``rows`` its row count, ``worker`` the connection (or process) that ran it and
    ``error`` an index into ``messages`` (-1: success). :attr:`latencies_ms` holds the
    successful executions only, which is what statistics are computed on. An HTTP profile's
    ``server`` holds what the database did meanwhile (``statements``, ``repeated``, ``split``).
    """

    sql: str
    dialect: str
    mode: str  # in-process, processes, threads, pgbench, callable, http, locust
    concurrency: int
    start_ms: np.ndarray
    all_latencies_ms: np.ndarray
    rows: np.ndarray
    worker: np.ndarray
    error: np.ndarray
    messages: list[str] = field(default_factory=list)
    params: str = "none"
    warmup: int = 0
    wall_s: float = 0.0
    started_at: datetime = field(default_factory=datetime.now)
    interrupted: bool = False
    label: str | None = None
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # db_ms, round_trips, ...
    notes: list[str] = field(default_factory=list)
    server: ServerStatements | None = None  # HTTP profiles: the statements the requests caused

    # -- samples ----------------------------------------------------------------------------------
    @property
    def ok(self) -> np.ndarray:
        return self.error < 0

    @property
    def latencies_ms(self) -> np.ndarray:
        """Latency of each successful execution, in milliseconds."""
        values: np.ndarray = self.all_latencies_ms[self.ok]
        return values

    @property
    def runs(self) -> int:
        return int(self.all_latencies_ms.size)

    @property
    def errors(self) -> int:
        return int((~self.ok).sum())

    @property
    def qps(self) -> float:
        """Successful executions per second of wall-clock time."""
        if self.wall_s > 0:
            return float(self.ok.sum()) / self.wall_s
        if self.runs:
            span = float((self.start_ms + self.all_latencies_ms).max() - self.start_ms.min())
            return float(self.ok.sum()) / (span / 1000.0) if span > 0 else math.nan
        return math.nan

    # -- statistics -------------------------------------------------------------------------------
    def percentile(self, q: float | list[float]) -> Any:
        """Latency percentile(s), ``numpy.percentile`` semantics (linear interpolation)."""
        values = self.latencies_ms
        if values.size == 0:
            return math.nan if np.isscalar(q) else [math.nan] * len(q)  # type: ignore[arg-type]
        return np.percentile(values, q)

    def summary(self) -> Summary:
        """``p50 p90 p95 p99 max mean std min qps runs errors`` (ms where a time): a dict,
        shown as a table with units."""
        values = self.latencies_ms
        out = Summary()
        if values.size:
            p50, p90, p95, p99 = np.percentile(values, [50, 90, 95, 99])
            out.update(
                p50=float(p50),
                p90=float(p90),
                p95=float(p95),
                p99=float(p99),
                max=float(values.max()),
                mean=float(values.mean()),
                std=float(values.std(ddof=1)) if values.size > 1 else 0.0,
                min=float(values.min()),
            )
        else:
            out.update(
                {k: math.nan for k in ("p50", "p90", "p95", "p99", "max", "mean", "std", "min")}
            )
        out.update(qps=self.qps, runs=self.runs, errors=self.errors)
        return out

    def percentile_ci(
        self, q: float = 50.0, *, confidence: float = 0.95, resamples: int = 2000, seed: int = 0
    ) -> tuple[float, float]:
        """A bootstrap confidence interval (percentile method) for a latency percentile."""
        from scipy import stats

        values = _subsample(self.latencies_ms, seed)
        if values.size < 2:
            return (math.nan, math.nan)
        result = stats.bootstrap(
            (values,),
            lambda x, axis: np.percentile(x, q, axis=axis),
            confidence_level=confidence,
            n_resamples=resamples,
            method="percentile",
            random_state=np.random.default_rng(seed),
            vectorized=True,
        )
        return float(result.confidence_interval.low), float(result.confidence_interval.high)

    def compare(
        self, other: Profile, *, confidence: float = 0.95, noise_band: float = NOISE_BAND
    ) -> Comparison:
        """How ``other`` compares with this profile (the baseline): ratio of medians with its
        bootstrap confidence interval, and a Mann-Whitney U test. A difference counts only when
        the whole interval lies beyond ``±noise_band`` (0.10: ±10%; lower it on a quiet machine
        to see smaller effects).

        >>> before.compare(after).verdict        # doctest: +SKIP
        '2.8× faster (95% CI 2.6–3.0×, p < 0.001)'
        """
        return Comparison.between(self, other, confidence=confidence, noise_band=noise_band)

    # -- views ------------------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per execution: start, latency, rows, worker, error text."""
        import pandas as pd

        messages = np.array([None, *self.messages], dtype=object)
        frame = pd.DataFrame(
            {
                "start_ms": self.start_ms,
                "latency_ms": self.all_latencies_ms,
                "rows": self.rows,
                "worker": self.worker,
                "error": messages[self.error.astype(np.int64) + 1],
            }
        )
        for name, values in self.extra.items():
            frame[name] = values
        return frame

    def describe(self) -> str:
        s = self.summary()
        what = self.label or fmt.clip(self.sql, 60)
        head = f"{what}: {s['runs']:,} runs ({self.mode}, concurrency {self.concurrency}), "
        if self.latencies_ms.size:
            text = head + (
                f"p50 {s['p50']:.3f} ms, p95 {s['p95']:.3f} ms, p99 {s['p99']:.3f} ms, "
                f"max {s['max']:.3f} ms, {s['qps']:,.0f} qps"
            )
        else:
            text = head + "no successful execution"
        if s["errors"]:
            text += f", {s['errors']:,} errors"
        if self.interrupted:
            text += " (stopped early)"
        return text

    def __repr__(self) -> str:
        return f"<Profile {self.describe()}>"

    def _repr_html_(self) -> str:
        import html

        s = self.summary()
        cells = "".join(
            f"<td>{html.escape(fmt.number(s[k]))}</td>"
            for k in ("runs", "errors", "p50", "p90", "p95", "p99", "max", "mean", "qps")
        )
        heads = "".join(
            f"<th>{k}</th>"
            for k in (
                "runs",
                "errors",
                "p50 ms",
                "p90 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "mean ms",
                "qps",
            )
        )
        notes = "".join(f"<div>{html.escape(n)}</div>" for n in self.notes)
        return (
            f"<div class='wb-profile'><b>{html.escape(self.label or fmt.clip(self.sql, 60))}</b> "
            f"<small>{html.escape(self.mode)}, concurrency {self.concurrency}"
            f"{' — stopped early' if self.interrupted else ''}</small>"
            f"<table><tr>{heads}</tr><tr>{cells}</tr></table>{notes}</div>"
        )

    def histogram(self, **kwargs: Any) -> Figure:
        """Latency histogram on a log axis (see :func:`workbench.charts.latency_histogram`)."""
        from workbench.charts import latency_histogram

        return latency_histogram(self, **kwargs)

    def ecdf(self, **kwargs: Any) -> Figure:
        """Percentile by latency (see :func:`workbench.charts.ecdf_chart`)."""
        from workbench.charts import ecdf_chart

        return ecdf_chart(self, **kwargs)

    def timeline(self, **kwargs: Any) -> Figure:
        """Latency over the run, p50/p95 per window (:func:`workbench.charts.timeline_chart`)."""
        from workbench.charts import timeline_chart

        return timeline_chart(self, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Everything, as plain lists (for investigations and reports)."""
        return {
            "sql": self.sql,
            "dialect": self.dialect,
            "mode": self.mode,
            "concurrency": self.concurrency,
            "params": self.params,
            "warmup": self.warmup,
            "wall_s": self.wall_s,
            "started_at": self.started_at.isoformat(),
            "interrupted": self.interrupted,
            "label": self.label,
            "messages": self.messages,
            "notes": self.notes,
            "start_ms": self.start_ms.tolist(),
            "latency_ms": self.all_latencies_ms.tolist(),
            "rows": self.rows.tolist(),
            "worker": self.worker.tolist(),
            "error": self.error.tolist(),
            "extra": {k: v.tolist() for k, v in self.extra.items()},
            "server": self.server.to_dict() if self.server is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        return cls(
            sql=data["sql"],
            dialect=data["dialect"],
            mode=data["mode"],
            concurrency=int(data["concurrency"]),
            start_ms=np.asarray(data["start_ms"], dtype=np.float64),
            all_latencies_ms=np.asarray(data["latency_ms"], dtype=np.float64),
            rows=np.asarray(data["rows"], dtype=np.int64),
            worker=np.asarray(data["worker"], dtype=np.int16),
            error=np.asarray(data["error"], dtype=np.int16),
            messages=list(data.get("messages", [])),
            params=data.get("params", "none"),
            warmup=int(data.get("warmup", 0)),
            wall_s=float(data.get("wall_s", 0.0)),
            started_at=datetime.fromisoformat(data["started_at"])
            if data.get("started_at")
            else datetime.now(),
            interrupted=bool(data.get("interrupted")),
            label=data.get("label"),
            extra={k: np.asarray(v) for k, v in (data.get("extra") or {}).items()},
            notes=list(data.get("notes", [])),
            server=ServerStatements.from_dict(data["server"]) if data.get("server") else None,
        )

    @classmethod
    def from_locust(cls, path: str | Path, *, name: str | None = None) -> Profile:
        """A Locust run as a profile: ``path`` is the ``--csv`` prefix (or its ``_stats.csv``)
        or the per-request logs the workbench's locustfile writes; ``name`` picks one request
        name (see :mod:`workbench.profiling.locust`).

        >>> wb.Profile.from_locust("results/run")            # doctest: +SKIP
        """
        from workbench.profiling.locust import read

        return cls(**read(path, name=name))


@dataclass
class Comparison:
    """``candidate`` against ``baseline``: ``ratio`` = baseline median / candidate median
    (> 1: the candidate is faster), with its confidence interval and a rank test."""

    baseline: Profile
    candidate: Profile
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    confidence: float = 0.95
    noise_band: float = NOISE_BAND

    @classmethod
    def between(
        cls,
        baseline: Profile,
        candidate: Profile,
        *,
        confidence: float = 0.95,
        noise_band: float = NOISE_BAND,
        resamples: int = 2000,
        seed: int = 0,
    ) -> Comparison:
        from scipy import stats

        a = baseline.latencies_ms
        b = candidate.latencies_ms
        if a.size < 2 or b.size < 2:
            return cls(
                baseline, candidate, math.nan, math.nan, math.nan, math.nan, confidence, noise_band
            )
        ratio = float(np.median(a) / np.median(b))
        result = stats.bootstrap(
            (_subsample(a, seed), _subsample(b, seed + 1)),
            lambda x, y, axis: np.median(x, axis=axis) / np.median(y, axis=axis),
            confidence_level=confidence,
            n_resamples=resamples,
            method="percentile",
            random_state=np.random.default_rng(seed),
            vectorized=True,
        )
        test = stats.mannwhitneyu(
            _subsample(a, seed + 2),
            _subsample(b, seed + 3),
            alternative="two-sided",
            method="asymptotic",
        )
        return cls(
            baseline,
            candidate,
            ratio,
            float(result.confidence_interval.low),
            float(result.confidence_interval.high),
            float(test.pvalue),
            confidence,
            noise_band,
        )

    @property
    def significant(self) -> bool:
        """A real difference: the test says so and the whole interval lies beyond the noise
        band."""
        if math.isnan(self.ratio):
            return False
        band = 1 + self.noise_band
        beyond = self.ci_low > band or self.ci_high < 1 / band
        return beyond and self.p_value < 1 - self.confidence

    @property
    def faster(self) -> bool:
        return self.significant and self.ratio > 1

    @property
    def slower(self) -> bool:
        return self.significant and self.ratio < 1

    @property
    def slowdown(self) -> float:
        """How many times slower the candidate's median is (``1 / ratio``; below 1: faster)."""
        if math.isnan(self.ratio):
            return math.nan
        return 1 / self.ratio if self.ratio > 0 else math.inf

    @property
    def delta_ms(self) -> float:
        """The candidate's median minus the baseline's, in milliseconds."""
        summary = self.summary()
        return float(summary["candidate_p50"] - summary["baseline_p50"])

    def regressed(self, *, threshold: float = 1.2, min_delta_ms: float = 0.1) -> bool:
        """A regression a CI check should fail on: significantly slower, by more than
        ``threshold`` (a ratio of medians) and by more than ``min_delta_ms`` in absolute terms
        (a 40 µs statement varies by tens of µs between runs on a shared machine).

        >>> comparison.regressed(threshold=1.2, min_delta_ms=0.1)   # doctest: +SKIP
        False
        """
        return self.slower and self.slowdown > threshold and self.delta_ms > min_delta_ms

    @property
    def verdict(self) -> str:
        """In plain words: ``"2.8× faster (95% CI 2.6–3.0×, p < 0.001)"``."""
        if math.isnan(self.ratio):
            return "not enough successful executions to compare"
        level = f"{self.confidence:.0%}"
        n_a, n_b = self.baseline.latencies_ms.size, self.candidate.latencies_ms.size
        if not self.significant and best_p(n_a, n_b) >= 1 - self.confidence:
            runs = f"{n_a} runs each" if n_a == n_b else f"{n_a} and {n_b} runs"
            return (
                f"{runs} cannot show a difference at {level} (the medians differ "
                f"{fmt.factor(max(self.ratio, 1 / self.ratio))}×, but even if every run of one "
                f"were faster than every run of the other, p would be {best_p(n_a, n_b):.2f}); "
                f"use at least {runs_needed(self.confidence)} runs each"
            )
        p = "p < 0.001" if self.p_value < 0.001 else f"p = {self.p_value:.3f}"
        if self.faster:
            return (
                f"{fmt.factor(self.ratio)}× faster ({level} CI {fmt.factor(self.ci_low)}–"
                f"{fmt.factor(self.ci_high)}×, {p})"
            )
        if self.slower:
            return (
                f"{fmt.factor(1 / self.ratio)}× slower ({level} CI {fmt.factor(1 / self.ci_high)}–"
                f"{fmt.factor(1 / self.ci_low)}×, {p})"
            )
        band = 1 + self.noise_band
        width = f"±{self.noise_band:.0%}"
        inside = self.ci_low >= 1 / band and self.ci_high <= band
        if inside:
            return (
                f"no meaningful difference (ratio {self.ratio:.3f}, {level} CI "
                f"{self.ci_low:.3f}–{self.ci_high:.3f}, within {width})"
            )
        if self.p_value < 1 - self.confidence:  # real, but too close to the noise band to call
            change = abs(1 - self.ratio)
            way = "faster" if self.ratio > 1 else "slower"
            return (
                f"about {change:.0%} {way}, too close to the {width} noise band to call (ratio "
                f"{self.ratio:.3f}, {level} CI {self.ci_low:.3f}–{self.ci_high:.3f}): "
                "run more executions"
            )
        return (
            f"inconclusive: the difference could be noise (ratio {self.ratio:.3f}, {level} CI "
            f"{self.ci_low:.3f}–{self.ci_high:.3f}, {p}): run more executions"
        )

    def summary(self) -> dict[str, Any]:
        return {
            "ratio": self.ratio,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "significant": self.significant,
            "noise_band": self.noise_band,
            "verdict": self.verdict,
            "baseline_p50": float(np.median(self.baseline.latencies_ms))
            if self.baseline.latencies_ms.size
            else math.nan,
            "candidate_p50": float(np.median(self.candidate.latencies_ms))
            if self.candidate.latencies_ms.size
            else math.nan,
        }

    def chart(self, **kwargs: Any) -> Figure:
        """Both latency distributions overlaid."""
        from workbench.charts import compare_chart

        return compare_chart(self.baseline, self.candidate, **kwargs)

    def __repr__(self) -> str:
        return f"<Comparison {self.verdict}>"

    def _repr_html_(self) -> str:
        import html

        return f"<div class='wb-comparison'><b>{html.escape(self.verdict)}</b></div>"


def _subsample(values: np.ndarray, seed: int) -> np.ndarray:
    if values.size <= BOOTSTRAP_SAMPLES:
        return values
    rng = np.random.default_rng(seed)
    return rng.choice(values, size=BOOTSTRAP_SAMPLES, replace=False)
