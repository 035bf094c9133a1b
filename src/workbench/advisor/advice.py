"""What ``s.advise()`` returns: :class:`Advice`, and how it reads (text for the command line,
HTML for a notebook with everything from the database escaped, a chart). Plain values:
``to_dict()`` is JSON (an investigation records it, a report draws it, the architect's tool
returns it) and ``Advice.from_dict`` reads it back; the measured comparisons themselves live
only in the session that measured them, their summaries travel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.advisor.model import QueryImpact, Recommendation

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["Advice", "advice_chart", "advice_html", "advice_text", "size"]


@dataclass
class Advice:
    """The advisor's answer for a workload: the recommendations ranked by workload time saved,
    the statements considered (each with its cost before and after the whole set), how the
    candidates were judged (``method``: ``"hypopg"`` hypothetical indexes, ``"sandbox"`` real
    indexes in a rolled-back transaction, ``"timed"`` the same with each plan timed,
    ``"plans"`` read from the plans alone), the planner calls it made and its wall time.

    ``verified`` says whether the chosen set was built and measured; ``notes`` what the
    reader should know (what was skipped and why, what could not be measured).
    """

    recommendations: list[Recommendation]
    statements: list[QueryImpact]
    dialect: str
    method: str
    planner_calls: int = 0
    wall_s: float = 0.0
    verified: bool = False
    notes: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"sql", "reason"}
    candidates: int = 0
    source: str = ""  # where the workload came from: "given", "pg_stat_statements", ...

    def __len__(self) -> int:
        return len(self.recommendations)

    def __iter__(self) -> Any:
        return iter(self.recommendations)

    def __getitem__(self, index: int) -> Recommendation:
        return self.recommendations[index]

    @property
    def ddl(self) -> list[str]:
        """The statements to run, in the order recommended."""
        return [r.ddl for r in self.recommendations]

    def to_frame(self) -> pd.DataFrame:
        """One row per recommendation: the index, what it saves, its size and write cost."""
        import pandas as pd

        rows = []
        for r in self.recommendations:
            overhead = r.write_overhead
            rows.append(
                {
                    "index": r.spec.label(),
                    "ddl": r.ddl,
                    "statements": len(r.queries),
                    "best_improvement": max(
                        (q.improvement or 0.0 for q in r.queries), default=None
                    ),
                    "best_speedup": max((q.speedup or 0.0 for q in r.queries), default=None)
                    or None,
                    "saved_ms": r.saved_ms,
                    "size_bytes": r.size_bytes,
                    "insert_extra_ms": overhead.extra_ms if overhead else None,
                }
            )
        columns = [
            "index",
            "ddl",
            "statements",
            "best_improvement",
            "best_speedup",
            "saved_ms",
            "size_bytes",
            "insert_extra_ms",
        ]
        return pd.DataFrame(rows, columns=columns)

    def chart(self, **kwargs: Any) -> Figure:
        """Each helped statement's median latency before and after (where measured; the
        planner's cost otherwise), one bar pair per statement."""
        return advice_chart(self, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dialect": self.dialect,
            "method": self.method,
            "planner_calls": self.planner_calls,
            "wall_s": self.wall_s,
            "verified": self.verified,
            "candidates": self.candidates,
            "source": self.source,
            "recommendations": [r.to_dict() for r in self.recommendations],
            "statements": [q.to_dict() for q in self.statements],
            "notes": self.notes,
            "skipped": self.skipped,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Advice:
        return cls(
            recommendations=[
                Recommendation.from_dict(r) for r in data.get("recommendations") or []
            ],
            statements=[QueryImpact.from_dict(q) for q in data.get("statements") or []],
            dialect=str(data.get("dialect") or ""),
            method=str(data.get("method") or ""),
            planner_calls=int(data.get("planner_calls") or 0),
            wall_s=float(data.get("wall_s") or 0.0),
            verified=bool(data.get("verified")),
            notes=list(data.get("notes") or []),
            skipped=list(data.get("skipped") or []),
            candidates=int(data.get("candidates") or 0),
            source=str(data.get("source") or ""),
        )

    def __str__(self) -> str:
        return advice_text(self)

    def __repr__(self) -> str:
        shown = ", ".join(r.spec.label() for r in self.recommendations[:3]) or "no index"
        return (
            f"<Advice {self.dialect} ({self.method}): {len(self.recommendations)} "
            f"recommendation{'s' if len(self.recommendations) != 1 else ''}: {shown}>"
        )

    def _repr_html_(self) -> str:
        return advice_html(self)


_METHODS = {
    "hypopg": "hypothetical indexes (HypoPG), judged by the planner",
    "sandbox": "indexes built in a rolled-back transaction, judged by the planner",
    "timed": "indexes built in a rolled-back transaction, each plan timed",
    "plans": "the plans alone (indexes cannot be tried on this engine)",
    "none": "not judged",
}


def size(value: float | None) -> str:
    return fmt.kilobytes(None if value is None else float(value) / 1024)


def _cost(q: QueryImpact) -> str:
    if q.cost_before is None:
        return fmt.UNKNOWN
    after = fmt.number(q.cost_after) if q.cost_after is not None else "?"
    ratio = f" ({fmt.factor(q.improvement)}× less)" if q.improvement and q.improvement > 1 else ""
    return f"{fmt.number(q.cost_before)} → {after}{ratio}"


def _judged_by(advice: Advice) -> str:
    return {"timed": "timed", "plans": "rows examined"}.get(advice.method, "planner")


def _saved(r: Recommendation) -> str:
    if r.measured_saved_ms is not None:
        return f"{fmt.milliseconds(r.measured_saved_ms)} measured"
    if r.estimated_saved_ms is not None:
        return f"{fmt.milliseconds(r.estimated_saved_ms)} estimated"
    return f"{fmt.number(r.cost_saved)} cost units" if r.cost_saved else fmt.UNKNOWN


def advice_text(advice: Advice) -> str:
    method = _METHODS.get(advice.method, advice.method)
    lines = [
        f"index advice for {len(advice.statements)} statement"
        f"{'s' if len(advice.statements) != 1 else ''} ({method}; "
        f"{advice.planner_calls} planner calls, {advice.wall_s:.1f} s)"
    ]
    if not advice.recommendations:
        lines.append("no index to add")
    for number, r in enumerate(advice.recommendations, start=1):
        lines.append(f"{number}. {r.ddl}")
        lines.append(
            f"   saves {_saved(r)}; size {size(r.size_bytes)}"
            + (f"; writes: {r.write_overhead.describe()}" if r.write_overhead else "")
        )
        for q in r.queries:
            lines.append(f"   - {fmt.clip(q.sql, 90)}")
            lines.append(
                f"     {_judged_by(advice)} {_cost(q)}"
                + (f"; measured {q.verdict}" if q.verdict else "")
            )
        lines.extend(f"   note: {n}" for n in r.notes)
    lines.extend(f"note: {n}" for n in advice.notes)
    return "\n".join(lines)


def advice_html(advice: Advice) -> str:
    from workbench.safe_html import escape

    parts = [
        "<div class='wb-advice'>",
        f"<p><b>Index advice</b> for {len(advice.statements)} statement"
        f"{'s' if len(advice.statements) != 1 else ''}: "
        f"{escape(_METHODS.get(advice.method, advice.method))}; {advice.planner_calls} planner "
        f"calls, {advice.wall_s:.1f} s"
        + ("; the set was built and measured" if advice.verified else "")
        + "</p>",
    ]
    if not advice.recommendations:
        parts.append("<p>No index to add.</p>")
    for number, r in enumerate(advice.recommendations, start=1):
        overhead = escape(r.write_overhead.describe()) if r.write_overhead else "not measured"
        parts.append(
            f"<h4>{number}. {escape(r.spec.label())}</h4><pre>{escape(r.ddl)}</pre>"
            f"<p>saves {escape(_saved(r))} · size {escape(size(r.size_bytes))}"
            f" · writes: {overhead}</p>"
        )
        rows = "".join(
            f"<tr><td><code>{escape(fmt.clip(q.sql, 120))}</code></td>"
            f"<td>{escape(_cost(q))}</td><td>{escape(q.plan_before or '')} → "
            f"{escape(q.plan_after or '')}</td><td>{escape(q.verdict or 'not measured')}</td></tr>"
            for q in r.queries
        )
        parts.append(
            f"<table><thead><tr><th>statement</th><th>{_judged_by(advice)}</th><th>plan</th>"
            f"<th>measured</th></tr></thead><tbody>{rows}</tbody></table>"
        )
        parts.extend(f"<p><i>{escape(n)}</i></p>" for n in r.notes)
    if advice.notes:
        parts.append("<ul>" + "".join(f"<li>{escape(n)}</li>" for n in advice.notes) + "</ul>")
    parts.append("</div>")
    return "".join(parts)


def advice_chart(advice: Advice, **kwargs: Any) -> Figure:
    """Each helped statement before and after: measured medians where verified, else the
    planner's cost (log scale, so a 100× change and a 2× one both read)."""
    from matplotlib.figure import Figure

    seen: dict[str, QueryImpact] = {}
    for r in advice.recommendations:
        for q in r.queries:
            seen.setdefault(q.sql, q)
    impacts = list(seen.values())
    measured = bool(impacts) and all(q.measured_summary for q in impacts)
    figure = Figure(figsize=kwargs.get("figsize", (7.5, 0.6 + 0.55 * max(1, len(impacts)))))
    ax = figure.add_subplot()
    labels = [fmt.clip(q.sql, 48) for q in impacts]
    if measured:
        before = [float((q.measured_summary or {}).get("baseline_p50") or 0) for q in impacts]
        after = [float((q.measured_summary or {}).get("candidate_p50") or 0) for q in impacts]
        ax.set_xlabel("median latency (ms), measured in the sandbox")
    else:
        before = [float(q.cost_before or 0) for q in impacts]
        after = [float(q.cost_after or 0) for q in impacts]
        ax.set_xlabel("planner cost")
    positions = list(range(len(impacts)))
    ax.barh([p + 0.2 for p in positions], before, height=0.38, label="today", color="#b0b0b0")
    ax.barh(
        [p - 0.2 for p in positions], after, height=0.38, label="with the indexes", color="#2b7bba"
    )
    ax.set_yticks(positions, labels, fontsize=8)
    if any(v > 0 for v in before + after):
        ax.set_xscale("log")
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("What the recommended indexes change", fontsize=10)
    figure.tight_layout()
    return figure
