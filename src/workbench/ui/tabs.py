"""What each tab of the panel shows, drawn from the :class:`~workbench.ui.state.PanelState`
alone: whatever happened before, a tab never shows what belongs to another statement."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench.safe_html import escape
from workbench.ui import render

if TYPE_CHECKING:
    from workbench.ui.layout import Controls
    from workbench.ui.state import Measured, PanelState

__all__ = [
    "set_busy",
    "show_all",
    "show_charts",
    "show_compare_choices",
    "show_findings",
    "show_profile_charts",
    "show_trial",
]

NO_PLAN = "No plan yet: Explain or Explain Analyze a statement."


def show_all(c: Controls, state: PanelState, *, on_try_fix: Callable[[int], None]) -> None:
    if state.plan is not None:
        c.plan_view.show(state.plan)
    else:
        c.plan_view.show(None, empty=NO_PLAN)
    show_findings(c, state, on_try_fix=on_try_fix)
    if state.answer is None:
        c.answer_html.value = "<i>No answer yet: Ask the Architect sends the evidence.</i>"
    if not state.trials:
        c.fix_result.value = ""
        c.fix_view.layout.display = "none"
    latest = state.latest_profile
    if latest is not None:
        show_profile_charts(c, state, latest)
    else:
        c.charts.children = ()
        show_compare_choices(c, state)


def show_findings(c: Controls, state: PanelState, *, on_try_fix: Callable[[int], None]) -> None:
    import ipywidgets as w

    findings = state.findings
    c.findings_python.value = render.python_line(state.findings_line) if state.findings_line else ""
    if findings is None:
        c.findings_box.children = (
            w.HTML("<i>No findings yet: explain or profile a statement.</i>"),
        )
        return
    rows: list[Any] = []
    for i, finding in enumerate(findings):
        html = w.HTML(finding._repr_html_())
        if finding.fix and finding.fix_kind in ("ddl", "sql", "setting", "rewrite"):
            button = w.Button(description="Try fix", tooltip="in a rolled-back transaction")
            button.on_click(lambda _, index=i: on_try_fix(index))
            rows.append(w.VBox([html, button]))
        else:
            rows.append(html)
    if not rows:
        rows = [w.HTML("<i>The rules found nothing wrong in this statement's evidence.</i>")]
    c.findings_box.children = tuple(rows)


def show_trial(c: Controls, trial: Any) -> None:
    c.fix_result.value = trial._repr_html_()
    c.fix_view.show_diff(trial.diff)
    c.fix_view.layout.display = ""


def show_profile_charts(c: Controls, state: PanelState, measured: Measured) -> None:
    prof = measured.profile
    if prof.ok.any():
        figures = [prof.histogram(), prof.ecdf(), prof.timeline()]
        show_charts(c, figures, f"{measured.name}: {prof.describe()}")
    else:
        c.charts.children = ()
    show_compare_choices(c, state)


def show_charts(c: Controls, figures: list[Any], caption: str) -> None:
    import ipywidgets as w

    images: list[Any] = [w.HTML(f"<b>{escape(caption)}</b>")]
    images += [w.Image(value=render.chart_png(f), format="png") for f in figures]
    c.charts.children = tuple(images)


def show_compare_choices(c: Controls, state: PanelState) -> None:
    """The profile history in the two Compare lists; the last two of the statement chosen."""
    options = [(m.describe(), m.name) for m in state.profiles]
    pair = state.default_pair()
    c.compare_before.options = options
    c.compare_after.options = options
    if pair is not None:
        c.compare_before.value, c.compare_after.value = pair[0].name, pair[1].name
    elif options:
        c.compare_before.value = c.compare_after.value = options[-1][1]


def set_busy(c: Controls, busy: bool, stoppable: bool, *, capturing: bool) -> None:
    """While an action runs, Stop (if it can stop) and nothing else; while a capture records,
    only Stop capture (the workbench's own statements would be captured too)."""
    for name, button in c.buttons.items():
        button.disabled = busy or (capturing and name != "capture")
    for row in c.findings_box.children:  # the Try fix buttons
        for child in getattr(row, "children", ()):
            if hasattr(child, "disabled"):
                child.disabled = busy
    c.follow_button.disabled = busy
    c.connect_button.disabled = busy
    c.stop_button.disabled = not (busy and stoppable)
    c.stop_button.button_style = "danger" if busy and stoppable else ""
    c.stop_button.tooltip = "cancel it on the server" if busy and stoppable else "nothing runs"
