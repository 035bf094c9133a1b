"""Charts of profiles and plans, as matplotlib figures (returned, never just shown).

Every chart bins before it draws: a million samples become a hundred bars or a thousand points,
so drawing costs the same for ten samples or ten million. Figures are built with
``matplotlib.figure.Figure`` directly (no pyplot state), which Jupyter displays inline and a
report embeds as SVG or PNG.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench import formatting as fmt
from workbench.errors import ConfigurationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from workbench.plans.model import Plan
    from workbench.profiling.result import Profile
    from workbench.profiling.sweep import Sweep

__all__ = [
    "compare_chart",
    "ecdf_chart",
    "latency_histogram",
    "plan_chart",
    "split_chart",
    "sweep_chart",
    "timeline_chart",
]

COLORS = {
    "main": "#2f6fdf",
    "other": "#e2711d",
    "hot": "#cf222e",
    "muted": "#8c959f",
    "p50": "#1a7f37",
    "p95": "#bf8700",
    "p99": "#cf222e",
}


def _figure(width: float = 7.5, height: float = 3.6) -> tuple[Figure, Axes]:
    fig = _figure_class()(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


@functools.lru_cache(maxsize=1)
def _figure_class() -> type[Figure]:
    """A Figure that displays itself in any notebook front end (a PNG), without pyplot: the
    charts never touch pyplot's global state or need ``%matplotlib inline``."""
    from matplotlib.figure import Figure

    class WorkbenchFigure(Figure):
        def _repr_png_(self) -> bytes:
            import io

            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=100)
            return buffer.getvalue()

    return WorkbenchFigure


def _title(profile: Profile) -> str:

    what = profile.label or fmt.clip(profile.sql, 60)
    return f"{what} — {profile.runs:,} runs, concurrency {profile.concurrency}"


def _text(text: str, width: int = 78) -> str:
    """Untrusted text for a chart: ``$`` would start matplotlib's math mode ($1 in a query),
    and a long line would be cut at the figure's edge."""
    import textwrap

    return "\n".join(textwrap.wrap(text.replace("$", r"\$"), width)) or text


def _log_histogram(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Counts in ``bins`` bins of equal width on a log scale: equal bins of the logarithms (the
    fast path of ``np.histogram``: a million values in ~10 ms, against ~50 ms searching
    geometric edges), the edges taken back to milliseconds. Non-positive values have no place
    on a log axis and are left out, as geometric edges from the smallest positive one would."""
    positive = values[values > 0]
    if positive.size == 0:
        edges = np.linspace(0, 1, bins + 1)
        return np.histogram(values, bins=edges)[0], edges
    logs = np.log(positive)
    low, high = float(logs.min()), float(logs.max())
    same = high <= low
    if same:
        high = low + 0.01
    counts, log_edges = np.histogram(logs, bins=bins, range=(low, high))
    edges = np.exp(log_edges)
    edges[0] = positive.min()  # exp(log(x)) may miss x by an ulp
    if not same:
        edges[-1] = positive.max()
    return counts, edges


def latency_histogram(
    profile: Profile, *, bins: int = 80, log: bool = True, ax: Axes | None = None
) -> Figure:
    """How latencies are distributed, on a log axis, with p50/p95/p99 marked."""
    values = profile.latencies_ms
    fig, axes = _figure() if ax is None else (ax.figure, ax)
    if log:
        counts, edges = _log_histogram(values, bins)
    else:
        edges = (
            np.linspace(values.min(), values.max(), bins + 1)
            if values.size
            else np.linspace(0, 1, bins + 1)
        )
        counts, edges = np.histogram(values, bins=edges)
    axes.stairs(counts, edges, fill=True, color=COLORS["main"], alpha=0.85)
    if log:
        _log_axis(axes.xaxis)
    if values.size:
        for name, value in zip(
            ("p50", "p95", "p99"), np.percentile(values, [50, 95, 99]), strict=True
        ):
            axes.axvline(
                value,
                color=COLORS[name],
                linestyle="--",
                linewidth=1.2,
                label=f"{name} {fmt.milliseconds(value)}",
            )
        axes.legend(loc="upper right", frameon=False)
    axes.set_xlabel("latency (ms, log scale)" if log else "latency (ms)")
    axes.set_ylabel("executions")
    axes.set_title(_text(f"Latency distribution: {_title(profile)}"), fontsize=10)
    return fig  # type: ignore[return-value]


def _log_axis(axis: Any) -> None:
    """A log scale labelled with plain numbers (``0.8``, ``1.2``, ``30``), never ``1.2×10⁰``.

    Latencies often sit inside one decade (1.1 to 1.9 ms), where a log axis has no tick to
    label; there the ticks are placed at round values instead. Call it after plotting: the
    choice depends on the data's range."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

    axes = axis.axes
    is_x = axis is axes.xaxis
    (axes.set_xscale if is_x else axes.set_yscale)("log")
    low, high = axes.get_xlim() if is_x else axes.get_ylim()
    plain = FuncFormatter(lambda value, _pos: f"{value:,.0f}" if value >= 1000 else f"{value:.4g}")
    if low > 0 and high / low < 10:
        axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        axis.set_minor_locator(NullLocator())
    else:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_minor_locator(LogLocator(base=10, subs="auto"))
        axis.set_minor_formatter(FuncFormatter(lambda _value, _pos: ""))
    axis.set_major_formatter(plain)


def _quantile_curve(values: np.ndarray, points: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    if values.size == 0:
        return np.empty(0), np.empty(0)
    q = np.linspace(0, 100, min(points, max(values.size, 2)))
    return np.percentile(values, q), q


def ecdf_chart(profile: Profile, *, ax: Axes | None = None) -> Figure:
    """Percentile by latency (an empirical CDF): read p50/p99 off the curve."""
    fig, axes = _figure() if ax is None else (ax.figure, ax)
    x, y = _quantile_curve(profile.latencies_ms)
    axes.plot(x, y, color=COLORS["main"], linewidth=1.8)
    _log_axis(axes.xaxis)
    axes.set_xlabel("latency (ms, log scale)")
    axes.set_ylabel("percentile of executions")
    axes.set_ylim(0, 100)
    for level in (50, 95, 99):
        axes.axhline(level, color=COLORS["muted"], linewidth=0.6, linestyle=":")
    axes.grid(True, which="major", alpha=0.3)
    axes.set_title(_text(f"Latency percentiles: {_title(profile)}"), fontsize=10)
    return fig  # type: ignore[return-value]


def timeline_chart(
    profile: Profile, *, windows: int = 120, sample_points: int = 4000, ax: Axes | None = None
) -> Figure:
    """Latency over the run: a sample of executions, and p50/p95 per time window (drift,
    warm-up, a checkpoint, a noisy neighbour all show here)."""
    fig, axes = _figure(8.0, 3.8) if ax is None else (ax.figure, ax)
    ok = profile.ok
    start, latency = profile.start_ms[ok] / 1000.0, profile.all_latencies_ms[ok]
    if latency.size:
        if latency.size > sample_points:
            pick = np.random.default_rng(0).choice(latency.size, sample_points, replace=False)
            axes.scatter(
                start[pick],
                latency[pick],
                s=3,
                alpha=0.25,
                color=COLORS["muted"],
                label=f"{sample_points:,} sampled executions",
                rasterized=True,
            )
        else:
            axes.scatter(
                start,
                latency,
                s=4,
                alpha=0.35,
                color=COLORS["muted"],
                label="executions",
                rasterized=True,
            )
        edges = np.linspace(start.min(), start.max() + 1e-9, min(windows, latency.size) + 1)
        which = np.clip(np.searchsorted(edges, start, side="right") - 1, 0, len(edges) - 2)
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(len(edges)))
        centers, p50, p95 = [], [], []
        for i in range(len(edges) - 1):
            chunk = latency[order[bounds[i] : bounds[i + 1]]]
            if chunk.size:
                centers.append((edges[i] + edges[i + 1]) / 2)
                a, b = np.percentile(chunk, [50, 95])
                p50.append(a)
                p95.append(b)
        axes.plot(centers, p95, color=COLORS["p95"], linewidth=1.8, label="p95 per window")
        axes.plot(centers, p50, color=COLORS["p50"], linewidth=1.4, label="p50 per window")
        _log_axis(axes.yaxis)
        axes.legend(loc="upper right", frameon=True, framealpha=0.85, fontsize=8)
    errors = ~ok
    if errors.any():
        axes.scatter(
            profile.start_ms[errors] / 1000.0,
            np.full(int(errors.sum()), latency.max() if latency.size else 1.0),
            marker="x",
            color=COLORS["hot"],
            label="errors",
        )
    axes.set_xlabel("time since start (s)")
    axes.set_ylabel("latency (ms, log scale)")
    axes.set_title(_text(f"Latency over time: {_title(profile)}"), fontsize=10)
    return fig  # type: ignore[return-value]


def compare_chart(before: Profile, after: Profile, *, ax: Axes | None = None) -> Figure:
    """Two profiles' percentile curves on one log axis, with the verdict as the title."""
    fig, axes = _figure() if ax is None else (ax.figure, ax)
    for profile, color, name in (
        (before, COLORS["other"], "before"),
        (after, COLORS["main"], "after"),
    ):
        x, y = _quantile_curve(profile.latencies_ms)
        median = float(np.median(profile.latencies_ms)) if profile.latencies_ms.size else np.nan
        axes.plot(
            x,
            y,
            color=color,
            linewidth=1.8,
            label=_text(f"{profile.label or name}: p50 {fmt.milliseconds(median)}", 60),
        )
    _log_axis(axes.xaxis)
    axes.set_xlabel("latency (ms, log scale)")
    axes.set_ylabel("percentile of executions")
    axes.set_ylim(0, 100)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right", frameon=False)
    verdict = before.compare(after).verdict
    axes.set_title(_text(f"Before / after: {verdict}"), fontsize=10)
    return fig  # type: ignore[return-value]


def sweep_chart(sweep: Sweep, *, ax: Axes | None = None) -> Figure:
    """Throughput against latency, one point per concurrency level: where the curve turns up,
    the system is saturated."""
    fig, axes = _figure() if ax is None else (ax.figure, ax)
    frame = sweep.to_frame()
    for column, color in (("p50", COLORS["p50"]), ("p95", COLORS["p95"]), ("p99", COLORS["p99"])):
        axes.plot(frame.qps, frame[column], marker="o", color=color, label=column)
    for _, row in frame.iterrows():
        axes.annotate(
            f"{int(row.concurrency)}",
            (row.qps, row.p95),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
        )
    axes.set_xlabel("throughput (executions per second)")
    axes.set_ylabel("latency (ms)")
    axes.legend(frameon=False, title="labels: clients", fontsize=8)
    axes.grid(True, alpha=0.3)

    axes.set_title(_text(f"Throughput vs latency: {fmt.clip(sweep.sql, 70)}"), fontsize=10)
    return fig  # type: ignore[return-value]


def plan_chart(plan: Plan, *, top: int = 20, ax: Axes | None = None) -> Figure:
    """Exclusive time (or cost) per node, the hot path in red."""
    timed = plan.timed
    nodes = plan.hot_path[:top]
    fig, axes = _figure(8.0, max(2.4, 0.32 * len(nodes) + 1.2)) if ax is None else (ax.figure, ax)
    if not nodes:
        axes.text(0.5, 0.5, "no timing or cost to chart", ha="center", va="center")
        axes.set_axis_off()
        return fig  # type: ignore[return-value]
    values = [(n.exclusive_time_ms if timed else n.exclusive_cost) or 0.0 for n in nodes]
    labels = [fmt.clip(f"#{n.id} {n.label}", 60, one_line=False).replace("$", r"\$") for n in nodes]
    colors = [COLORS["hot"] if i < 3 else COLORS["main"] for i in range(len(nodes))]
    positions = np.arange(len(nodes))[::-1]
    axes.barh(positions, values, color=colors)
    axes.set_yticks(positions, labels, fontsize=8)
    axes.set_xlabel("exclusive time (ms)" if timed else "exclusive cost (planner units)")
    total = plan.total_time_ms
    suffix = f", total {fmt.milliseconds(total)}" if total is not None else ""
    axes.set_title(
        _text(f"Where the time goes: {plan.dialect} plan, {len(plan.nodes)} nodes{suffix}"),
        fontsize=10,
    )
    return fig  # type: ignore[return-value]


def split_chart(profile: Profile, *, ax: Axes | None = None) -> Figure:
    """Database time and the rest of each run, stacked: for a profiled Python callable its
    Python time, for an endpoint (one request at a time) the time outside the database."""
    fig, axes = _figure() if ax is None else (ax.figure, ax)
    db = profile.extra.get("db_ms")
    py = profile.extra.get("python_ms")
    if db is None or py is None:
        raise ConfigurationError(
            "split_chart needs a profile of a Python callable",
            hint="profile the handler itself: s.profile(handler), then prof.split_chart()",
        )
    runs = np.arange(1, len(db) + 1)
    # an endpoint's other time is its service's code, the network and the client, in any language
    other = "outside the database" if profile.mode in ("http", "locust") else "Python"
    unit = "request" if profile.mode in ("http", "locust") else "run"
    axes.bar(runs, db, color=COLORS["main"], label="database")
    axes.bar(runs, py, bottom=db, color=COLORS["other"], label=other)
    axes.set_xlabel(unit)
    axes.set_ylabel("time (ms)")
    axes.legend(frameon=False)
    trips = int(np.median(profile.extra["round_trips"])) if len(db) else 0
    what = "statements" if unit == "request" else "round trips"
    axes.set_title(
        _text(
            f"{profile.label or profile.sql}: database vs {other} time ({trips} {what} per {unit})"
        ),
        fontsize=10,
    )
    return fig  # type: ignore[return-value]


def figures_for(profile: Profile) -> Sequence[Any]:
    """The standard set for a profile: histogram, percentiles, timeline."""
    return [latency_histogram(profile), ecdf_chart(profile), timeline_chart(profile)]
