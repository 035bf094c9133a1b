"""``wb.ui.PlanView``: the interactive plan view (an anywidget; its JavaScript and CSS ship in
the package, so nothing is fetched from the network and nothing is built).

>>> view = wb.ui.PlanView.of(plan)          # doctest: +SKIP
>>> view                                    # doctest: +SKIP
>>> wb.ui.PlanView.of_diff(before.diff(after))   # side by side  # doctest: +SKIP

It draws what :func:`workbench.plans.view_data.plan_data` computed: per node a bar of its own
time (and its subtree's, faint) as a share of the total, rows estimated → actual with the
misestimate factor, loops, buffers and cost, details in a table on click, collapsible subtrees,
the hot path highlighted, a compact mode for plans of hundreds of nodes. It follows JupyterLab's
light and dark themes, and VS Code's.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from workbench.plans.view_data import plan_data

if TYPE_CHECKING:
    from workbench.plans.diff import PlanDiff
    from workbench.plans.model import Plan

__all__ = ["PlanView", "diff_data"]

_HERE = Path(__file__).parent


class PlanView(anywidget.AnyWidget):
    """One plan (or the diff of two), drawn in the notebook."""

    _esm = _HERE / "plan_view.js"
    _css = _HERE / "plan_view.css"
    data = traitlets.Dict().tag(sync=True)
    #: the node whose details are open (-1: none); set by a click in the view
    selected = traitlets.Int(-1).tag(sync=True)

    @classmethod
    def of(cls, plan: Plan) -> PlanView:
        return cls(data=plan_data(plan))

    @classmethod
    def of_diff(cls, diff: PlanDiff) -> PlanView:
        return cls(data=diff_data(diff))

    def show(self, plan: Plan | None, *, empty: str = "No plan yet.") -> None:
        """Draw ``plan`` (or say why there is none)."""
        self.selected = -1
        self.data = plan_data(plan) if plan is not None else {"empty": empty}

    def show_diff(self, diff: PlanDiff) -> None:
        self.selected = -1
        self.data = diff_data(diff)


def diff_data(diff: PlanDiff) -> dict[str, Any]:
    """Both plans and which node of one is which of the other."""
    return {
        "kind": "diff",
        "verdict": diff.verdict,
        "before": plan_data(diff.before),
        "after": plan_data(diff.after),
        "pairs": [
            [
                change.before.id if change.before is not None else None,
                change.after.id if change.after is not None else None,
            ]
            for change in diff.changes
        ],
    }
