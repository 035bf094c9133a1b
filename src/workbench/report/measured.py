"""Steps that measured something, as report blocks: plans, profiles, comparisons, sweeps and
captures (with their charts)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.report.views import (
    Block,
    Chart,
    Code,
    Facts,
    PlanTree,
    Table,
    Text,
    Verdict,
)

if TYPE_CHECKING:
    from workbench.investigation import Step
    from workbench.plans.model import Plan
    from workbench.profiling.result import Comparison, Profile

__all__ = ["capture", "comparison", "plan", "profile", "sweep"]

#: statement groups of a capture listed in a report
MAX_CAPTURE_GROUPS = 15


def stem(step: Step, what: str) -> str:
    """A chart's file stem: ``step003-histogram``."""
    return f"step{step.id:03d}-{what}"


# -- plans ----------------------------------------------------------------------------------------
def plan(step: Step, folder: Path, charts: bool) -> list[Block]:
    plan: Plan = step.object(folder)
    blocks: list[Block] = []
    if plan.sql:
        blocks.append(Code(plan.sql, "sql", "Query"))
    blocks.append(Facts(tuple(_plan_facts(plan))))
    blocks.append(PlanTree(plan))
    if charts:
        blocks.append(
            Chart(stem(step, "plan"), "Exclusive time per plan node, hot path in red", plan.chart)
        )
    return blocks


def _plan_facts(plan: Plan) -> list[tuple[str, str]]:
    summary = plan.summary()
    facts = [
        ("engine", plan.dialect),
        ("measured", "yes (EXPLAIN ANALYZE)" if plan.analyzed else "no: planner estimates only"),
        ("total time", fmt.milliseconds(plan.total_time_ms)),
    ]
    if plan.planning_time_ms is not None:
        facts.append(("planning time", fmt.milliseconds(plan.planning_time_ms)))
    facts.append(("nodes", f"{len(plan.nodes):,}"))
    if summary.get("hottest"):
        share = summary.get("hottest_share")
        facts.append(
            ("hottest node", f"{summary['hottest']}" + (f" ({share:.0%})" if share else ""))
        )
    if summary.get("worst_misestimate"):
        facts.append(("worst misestimate", str(summary["worst_misestimate"])))
    if plan.statement_rows is not None:
        facts.append(("rows returned", f"{plan.statement_rows:,}"))
    return facts


# -- profiles -------------------------------------------------------------------------------------
_STAT_COLUMNS = ("p50", "p90", "p95", "p99", "max", "mean", "std", "min")


def profile(step: Step, folder: Path, charts: bool) -> list[Block]:
    prof: Profile = step.object(folder)
    summary = dict(step.data.get("summary") or prof.summary())
    blocks: list[Block] = []
    endpoint = prof.mode in ("http", "locust")
    if prof.mode == "callable":
        blocks.append(Text(f"Python callable: {prof.label or prof.sql}"))
    elif endpoint:
        blocks.append(Code(prof.sql, "text", "Request"))
    elif prof.sql:
        blocks.append(Code(prof.sql, "sql", "Statement"))
    facts = [
        ("runs", fmt.count(summary.get("runs"))),
        ("errors", fmt.count(summary.get("errors"))),
        ("mode", prof.mode),
        ("concurrency", str(prof.concurrency)),
        ("throughput", f"{fmt.number(summary.get('qps'))} per second"),
    ]
    if prof.params and prof.params != "none":
        facts.append(("parameters", prof.params))
    blocks.append(Facts(tuple(facts)))
    blocks.append(_stats_table([("latency", summary)], caption="Latency (ms)"))
    split = step.data.get("split")
    if split:
        blocks.append(
            Facts(
                (
                    ("database time (p50)", fmt.milliseconds(split.get("db_ms_p50"))),
                    (
                        "statements (p50)" if endpoint else "round trips (p50)",
                        fmt.number(split.get("round_trips_p50"), 0),
                    ),
                    (
                        "outside the database (p50)" if endpoint else "Python time (p50)",
                        fmt.milliseconds(split.get("python_ms_p50")),
                    ),
                )
            )
        )
    blocks.extend(Text(note, muted=True) for note in prof.notes)
    if prof.server is not None and len(prof.statements):  # what each request made the db do
        top = prof.statements.head(10)
        blocks.append(
            Table(
                ("calls per request", "ms per request", "mean ms", "statement"),
                tuple(
                    (
                        fmt.number(r["calls_per_request"], 1),
                        fmt.number(r["ms_per_request"], 3),
                        fmt.number(r["mean_ms"], 3),
                        fmt.clip(" ".join(str(r["sql"]).split()), 160),
                    )
                    for r in top.to_dict("records")
                ),
                caption=f"Statements per request ({prof.server.source})",
                numeric=frozenset({0, 1, 2}),
            )
        )
    if prof.messages:
        rows = tuple((m,) for m in prof.messages[:10])
        blocks.append(Table(("error messages",), rows, caption="Errors"))
    if charts and prof.latencies_ms.size:
        blocks.extend(_profile_charts(step, prof))
    return blocks


def _profile_charts(step: Step, prof: Profile) -> list[Block]:
    from workbench import charts

    out: list[Block] = [
        Chart(stem(step, "histogram"), "Latency histogram", prof.histogram),
        Chart(stem(step, "percentiles"), "Latency percentiles", prof.ecdf),
        Chart(stem(step, "timeline"), "Latency over time", prof.timeline),
    ]
    if "db_ms" in prof.extra and "python_ms" in prof.extra:
        endpoint = prof.mode in ("http", "locust")
        out.append(
            Chart(
                stem(step, "split"),
                "Database and other time per request"
                if endpoint
                else "Database and Python time per run",
                lambda: charts.split_chart(prof),
            )
        )
    return out


def _stats_table(rows: list[tuple[str, dict[str, Any]]], *, caption: str) -> Table:
    columns = ("", *_STAT_COLUMNS, "runs", "errors")
    body = tuple(
        (
            name,
            *(fmt.number(stats.get(c)) for c in _STAT_COLUMNS),
            fmt.count(stats.get("runs")),
            fmt.count(stats.get("errors")),
        )
        for name, stats in rows
    )
    return Table(columns, body, caption=caption, numeric=frozenset(range(1, len(columns))))


# -- comparisons and sweeps -----------------------------------------------------------------------
def comparison(step: Step, folder: Path, charts: bool) -> list[Block]:
    comparison: Comparison = step.object(folder)
    data = step.data
    verdict = data.get("verdict") or comparison.verdict
    tone = "good" if comparison.faster else "bad" if comparison.slower else "neutral"
    before = comparison.baseline.label or data.get("baseline")
    after = comparison.candidate.label or data.get("candidate")
    blocks: list[Block] = [
        Verdict(verdict, tone),
        _stats_table(
            [
                ("before" + (f": {before}" if before else ""), comparison.baseline.summary()),
                ("after" + (f": {after}" if after else ""), comparison.candidate.summary()),
            ],
            caption="Latency (ms)",
        ),
        Facts(
            (
                ("ratio of medians (before / after)", fmt.number(data.get("ratio"))),
                (
                    "confidence interval",
                    f"{fmt.number(data.get('ci_low'))} – {fmt.number(data.get('ci_high'))}",
                ),
                ("p-value (Mann-Whitney)", fmt.p_value(data.get("p_value"))),
                ("significant", "yes" if data.get("significant") else "no"),
            )
        ),
    ]
    if charts and comparison.baseline.latencies_ms.size and comparison.candidate.latencies_ms.size:
        blocks.append(Chart(stem(step, "compare"), "Before and after", comparison.chart))
    return blocks


class _RecordedSweep:
    """A sweep as recorded: its levels' numbers (what :func:`~workbench.charts.sweep_chart`
    reads), without rerunning anything."""

    def __init__(self, sql: str, levels: list[dict[str, Any]]) -> None:
        self.sql = sql
        self.levels = levels

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.levels)


def sweep(step: Step, folder: Path, charts: bool) -> list[Block]:
    from workbench.charts import sweep_chart

    data = step.data
    levels = list(data.get("levels") or [])
    sweep = _RecordedSweep(str(data.get("sql") or ""), levels)
    columns = ("concurrency", "qps", "p50", "p95", "p99", "errors", "mode")
    rows = tuple(
        tuple(
            fmt.number(level.get(c)) if c in ("qps", "p50", "p95", "p99") else str(level.get(c, ""))
            for c in columns
        )
        for level in levels
    )
    blocks: list[Block] = [
        Code(sweep.sql, "sql", "Statement"),
        Table(columns, rows, caption="Latency (ms) by clients", numeric=frozenset(range(6))),
    ]
    if charts and levels:
        blocks.append(
            Chart(
                stem(step, "sweep"),
                "Throughput against latency",
                lambda: sweep_chart(sweep),  # type: ignore[arg-type]
            )
        )
    return blocks


# -- captures -------------------------------------------------------------------------------------
def capture(step: Step, folder: Path, charts: bool) -> list[Block]:
    data = step.data
    summary = data.get("summary") or {}
    blocks: list[Block] = [
        Facts(
            (
                ("statements", fmt.count(summary.get("statements"))),
                ("distinct statements", fmt.count(summary.get("distinct"))),
                ("database time", fmt.milliseconds(summary.get("db_ms"))),
                ("wall time", fmt.milliseconds(summary.get("wall_ms"))),
                ("errors", fmt.count(summary.get("errors"))),
            )
        )
    ]
    candidates = summary.get("n_plus_one") or []
    for candidate in candidates:
        sites = candidate.get("call_sites") or []
        blocks.append(
            Verdict(
                f"N+1 candidate: the same statement ran {candidate.get('count')} times "
                f"({fmt.milliseconds(candidate.get('total_ms'))} in the database)",
                "bad",
            )
        )
        blocks.append(Code(str(candidate.get("sql") or ""), "sql", "Repeated statement"))
        if sites:
            blocks.append(Table(("call site",), tuple((s,) for s in sites), caption="Called from"))
    groups = list(data.get("groups") or [])[:MAX_CAPTURE_GROUPS]
    if groups:
        rows = tuple(
            (
                fmt.count(g.get("count")),
                fmt.number(g.get("total_ms")),
                fmt.number(g.get("mean_ms")),
                fmt.clip(str(g.get("sql") or ""), 160),
                "; ".join((g.get("call_sites") or [])[:2]),
            )
            for g in groups
        )
        blocks.append(
            Table(
                ("count", "total ms", "mean ms", "statement", "call site"),
                rows,
                caption="Statements by total time",
                numeric=frozenset({0, 1, 2}),
            )
        )
    return blocks
