"""Charts: figures returned, labelled, and fast on a million samples."""

from __future__ import annotations

import numpy as np

import workbench as wb
from workbench import charts
from workbench.profiling.result import Profile


def _profile(n: int, scale: float = 1.0) -> Profile:
    values = np.random.default_rng(0).lognormal(np.log(scale), 0.5, n)
    error = np.full(n, -1, dtype=np.int16)
    error[:: max(n // 50, 1)] = 0
    return Profile(
        sql="SELECT * FROM users WHERE id = :id",
        dialect="postgresql",
        mode="in-process",
        concurrency=1,
        start_ms=np.cumsum(values),
        all_latencies_ms=values,
        rows=np.ones(n, dtype=np.int64),
        worker=np.zeros(n, dtype=np.int16),
        error=error,
        messages=["timeout"],
    )


def test_every_profile_chart_is_a_labelled_figure() -> None:
    from matplotlib.figure import Figure

    prof = _profile(5000)
    for fig in (
        prof.histogram(),
        prof.ecdf(),
        prof.timeline(),
        charts.compare_chart(prof, _profile(5000, 2.0)),
    ):
        assert isinstance(fig, Figure)
        ax = fig.axes[0]
        assert "ms" in ax.get_xlabel() + ax.get_ylabel()
        assert ax.get_title()
    title = charts.compare_chart(_profile(5000, 2.0), prof).axes[0].get_title()
    assert "faster" in title


def test_a_million_samples_chart() -> None:
    """Their speed is measured in benchmarks/bench_profile.py; here: they draw and render."""
    prof = _profile(1_000_000)
    for chart in (charts.latency_histogram, charts.ecdf_chart, charts.timeline_chart):
        fig = chart(prof)
        assert fig.axes[0].get_title(), chart.__name__
        fig.savefig(__import__("io").BytesIO(), format="png")  # it renders


def test_plan_chart_highlights_the_hot_path() -> None:
    plan = wb.parse_plan(
        "Nested Loop  (cost=0.00..10.00 rows=1 width=8) (actual time=0.1..9.0 rows=10 loops=1)\n"
        "  ->  Seq Scan on a  (cost=0.00..5.00 rows=1 width=4) (actual time=0.05..8.0 rows=10 "
        "loops=1)\n"
        "  ->  Index Scan using b_pkey on b  (cost=0.00..1.00 rows=1 width=4) "
        "(actual time=0.01..0.05 rows=1 loops=10)\n"
    )
    fig = plan.chart()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "exclusive time (ms)"
    ticks = sorted(ax.get_yticklabels(), key=lambda t: t.get_position()[1])
    assert ticks[-1].get_text().startswith("#1 Seq Scan on a")  # the slowest node on top


def test_the_log_histogram_counts_every_positive_latency_in_geometric_bins() -> None:
    import numpy as np

    from workbench.charts import _log_histogram

    values = np.random.default_rng(7).lognormal(-1.0, 0.9, 200_000)
    values[:5] = 0.0  # no place on a log axis
    counts, edges = _log_histogram(values, 80)
    assert counts.sum() == values.size - 5 and len(edges) == 81
    ratios = edges[1:] / edges[:-1]
    assert np.allclose(ratios, ratios[0])  # equal widths on the log scale
    assert edges[0] <= values[values > 0].min() and edges[-1] >= values.max() * (1 - 1e-12)
    reference, _ = np.histogram(values, bins=np.geomspace(edges[0], edges[-1], 81))
    assert np.abs(counts - reference).max() <= 2  # the same bins, up to rounding at an edge
    one, one_edges = _log_histogram(np.full(10, 3.0), 4)
    assert one.sum() == 10 and one_edges[0] <= 3.0 <= one_edges[-1]
