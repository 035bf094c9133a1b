"""Self-checks for the workshop notebook: did the learner's fix fix it? Measured, not guessed.

``check(s, "missing_index", fix)`` tries the fix in the rollback sandbox (an index, statistics,
a setting) or plans the rewritten query, measures the planted query before and after with
EXPLAIN ANALYZE, and says whether it is fixed, in plain words, with the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.demo.pathologies import pathology
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.fixes import FixTrial
    from workbench.session import Session

__all__ = ["CheckResult", "check"]

#: how much faster a fix must make the planted query to count (the pathologies cost 10-1000×)
SPEEDUP_TO_PASS = 3.0


@dataclass
class CheckResult:
    """The outcome of one self-check."""

    exercise: str
    passed: bool
    message: str
    trial: FixTrial | None = None

    def __str__(self) -> str:
        return ("✅ " if self.passed else "❌ ") + self.message

    def _repr_html_(self) -> str:
        from workbench.safe_html import escape

        color = "#1a7f37" if self.passed else "#cf222e"
        return f"<div style='color:{color};font-weight:600'>{escape(str(self))}</div>"


def check(session: Session, exercise: str, fix: str | None) -> CheckResult:
    """Measure ``fix`` against the planted pathology ``exercise`` (see
    :data:`workbench.demo.pathologies.PATHOLOGIES`)."""
    item = pathology(exercise)
    if not fix or not fix.strip():
        return CheckResult(
            exercise, False, "write your fix in the cell above, then run this cell again"
        )
    sql = item.sql_for(session.dialect)
    try:
        trial = session.try_fix(fix, sql=sql)
    except WorkbenchError as exc:
        return CheckResult(exercise, False, f"the fix did not run: {exc.message}")
    before, after = trial.before, trial.after
    if item.code == "select_star_wide_rows":  # the cost is bytes shipped, not server time
        wide, narrow = before.root.width or 0, after.root.width or 0
        passed = narrow * 3 <= wide
        return CheckResult(
            exercise,
            passed,
            f"{'fixed' if passed else 'not yet'}: rows of "
            f"{wide} bytes before, {narrow} bytes after",
            trial,
        )
    if item.code == "misestimate":
        estimated = _check_estimate(exercise, trial)
        if estimated.passed or not _faster(trial):
            return estimated
    if item.code == "sort_spill":
        spilled = any(n.spill for n in after.nodes)
        message = "the sort fits in memory now" if not spilled else "the sort still spills to disk"
        return CheckResult(exercise, not spilled, f"{message} ({trial.verdict})", trial)
    passed = _faster(trial)
    if passed:
        return CheckResult(exercise, True, f"fixed: {trial.verdict}", trial)
    return CheckResult(
        exercise,
        False,
        f"not yet: {trial.verdict}; look at the plan: "
        f"{after.hot_path[0].label if after.hot_path else after.root.label} still "
        "dominates",
        trial,
    )


def _faster(trial: FixTrial) -> bool:
    before, after = trial.before.total_time_ms or 0.0, trial.after.total_time_ms or 0.0
    return before / max(after, 1e-6) >= SPEEDUP_TO_PASS


def _check_estimate(exercise: str, trial: FixTrial) -> CheckResult:
    def worst(plan_nodes: list) -> float:  # type: ignore[type-arg]
        factors = [n.misestimate.factor for n in plan_nodes if n.misestimate]
        return max(factors, default=1.0)

    before, after = worst(trial.before.nodes), worst(trial.after.nodes)
    passed = after < 10 <= before or after <= before / 5
    verdict = f"worst row estimate off by {before:,.0f}× before, {after:,.0f}× after"
    return CheckResult(exercise, passed, ("fixed: " if passed else "not yet: ") + verdict, trial)
