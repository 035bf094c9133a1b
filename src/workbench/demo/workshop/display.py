"""What the student notebook shows: a scenario's card (its topic, story, task, time, the
planted query) and its hints, revealed one at a time, never the answer. The card names the
topic, not the technique that solves it, and keeps the learning objectives for the
instructor guide: both would say the answer before the first hint.

In Jupyter, :func:`hints` is a button that reveals the next hint each time it is pressed
(ipywidgets); without widgets, each hint is a collapsed ``<details>`` block, opened by a click.

>>> card = Card(wb.demo.workshop.scenario("orders_of_a_day"))
>>> "The daily report" in card.to_text()
True
>>> "<details>" in Hints(wb.demo.workshop.scenario("orders_of_a_day"))._repr_html_()
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.safe_html import escape, render_markdown

if TYPE_CHECKING:
    from workbench.demo.workshop.model import Scenario
    from workbench.session import Session

__all__ = ["Card", "Hints", "hints", "show"]


@dataclass
class Card:
    """A scenario as the learner first sees it."""

    scenario: Scenario

    def to_text(self) -> str:
        sc = self.scenario
        lines = [
            f"{sc.topic}: {sc.title}  (about {sc.minutes} min)",
            "",
            sc.story,
            "",
            f"Task: {sc.task}",
        ]
        if sc.kind != "code":
            lines += ["", "The planted query:", f"    {sc.sql}"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        sc = self.scenario
        query = (
            ""
            if sc.kind == "code"
            else f"<p><b>The planted query</b> (<code>sc.sql</code>):</p>"
            f"<pre>{escape(sc.sql)}</pre>"
        )
        return (
            f"<div class='wb-scenario'><h3>{escape(sc.topic)}: {escape(sc.title)}</h3>"
            f"<p><i>About {sc.minutes} minutes.</i></p>{render_markdown(sc.story)}"
            f"<p><b>Task.</b></p>{render_markdown(sc.task)}{query}</div>"
        )


@dataclass
class Hints:
    """A scenario's hints as collapsed blocks (each opened by a click, in order)."""

    scenario: Scenario

    def _repr_html_(self) -> str:
        blocks = "".join(
            f"<details><summary>Hint {i} of {len(self.scenario.hints)}</summary>"
            f"{render_markdown(text)}</details>"
            for i, text in enumerate(self.scenario.hints, start=1)
        )
        return f"<div class='wb-hints'>{blocks}</div>"

    def __repr__(self) -> str:
        n = len(self.scenario.hints)
        return f"{n} hints, to open one at a time: .reveal(1), then .reveal(2), up to .reveal({n})"

    def reveal(self, number: int) -> str:
        """Hint ``number`` (from 1), as text."""
        if not 1 <= number <= len(self.scenario.hints):
            return f"there are {len(self.scenario.hints)} hints"
        return self.scenario.hints[number - 1]


def show(session: Session, name: str) -> Scenario:
    """Display scenario ``name`` (bound to ``session``'s data) and return it: ``sc.sql`` is
    the planted query to explain."""
    from workbench.demo.workshop.catalogue import scenario

    bound = scenario(name).bind(session)
    _display(Card(bound))
    return bound


def hints(name: str) -> Any:
    """The hints of scenario ``name``: a button revealing one more at each press, or
    collapsed blocks where widgets are not available."""
    from workbench.demo.workshop.catalogue import scenario

    sc = scenario(name)
    try:
        import ipywidgets as widgets
    except ImportError:
        return Hints(sc)
    shown = widgets.HTML("")
    button = widgets.Button(description=f"Show hint 1 of {len(sc.hints)}")
    state = {"shown": 0}

    def reveal(_: Any = None) -> None:
        state["shown"] = min(state["shown"] + 1, len(sc.hints))
        shown.value = "".join(
            f"<p><b>Hint {i}.</b></p>{render_markdown(text)}"
            for i, text in enumerate(sc.hints[: state["shown"]], start=1)
        )
        remaining = len(sc.hints) - state["shown"]
        button.description = (
            f"Show hint {state['shown'] + 1} of {len(sc.hints)}" if remaining else "No more hints"
        )
        button.disabled = not remaining

    button.on_click(reveal)
    return widgets.VBox([button, shown])


def _display(obj: Any) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        print(obj)
        return
    if get_ipython() is None:
        print(obj)
    else:
        display(obj)
