"""The panel's Database tab: the database as a whole (``s.health()``) and the indexes its
workload needs (``s.advise()``: the editor's statement, or the server's top statements)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from workbench.safe_html import escape

if TYPE_CHECKING:
    from collections.abc import Callable

    from workbench.investigation import Investigation
    from workbench.session import Session
    from workbench.ui.layout import Controls
    from workbench.ui.state import PanelState, Statement

__all__ = ["DatabaseTab"]

TITLE = "Database"


class Panel(Protocol):
    """What the tab uses of its panel (:class:`~workbench.ui.workbench.Workbench`)."""

    session: Session
    investigation: Investigation
    controls: Controls
    state: PanelState

    def health(self) -> None: ...

    def advise(self, *, workload: bool = False) -> None: ...

    def _publish(self, **values: Any) -> None: ...

    def _checked_statement(self) -> Statement | None: ...

    def _run(
        self, name: str, line: str, work: Callable[[], None], *, stoppable: bool = False
    ) -> None: ...


class DatabaseTab:
    """Health and Advise, and what they found."""

    def __init__(self, panel: Panel) -> None:
        import ipywidgets as w

        self.panel = panel
        c = panel.controls
        self.health_button = w.Button(
            description="Health",
            tooltip="the database as a whole: unused, duplicate and invalid indexes, bloat, "
            "vacuum, stale statistics, limits (reads the catalogue only)",
        )
        self.advise_button = w.Button(
            description="Advise indexes",
            tooltip="indexes for the editor's statement, measured in a rolled-back transaction",
        )
        self.workload_button = w.Button(
            description="Advise for the workload",
            tooltip="indexes for the server's top statements (pg_stat_statements)",
        )
        self.output = w.HTML("<i>Health checks the whole database; Advise finds indexes.</i>")
        self.output.add_class("wb-database")
        tab = w.VBox(
            [w.HBox([self.health_button, self.advise_button, self.workload_button]), self.output]
        )
        c.tabs.children = (*c.tabs.children, tab)
        c.tabs.set_title(len(c.tabs.children) - 1, TITLE)
        self.index = len(c.tabs.children) - 1

    def wire(self) -> None:
        self.health_button.on_click(lambda _: self.panel.health())
        self.advise_button.on_click(lambda _: self.panel.advise())
        self.workload_button.on_click(lambda _: self.panel.advise(workload=True))

    def set_busy(self, busy: bool) -> None:
        for button in (self.health_button, self.advise_button, self.workload_button):
            button.disabled = busy

    def health(self) -> None:
        panel = self.panel
        line = "report = s.health()"

        def work() -> None:
            report = panel.session.health()
            panel.investigation.record(list(report), title="Database health", code=line)
            panel._publish(report=report)
            self.output.value = report._repr_html_()

        panel.controls.tabs.selected_index = self.index
        panel._run("health", line, work, stoppable=True)

    def advise(self, *, workload: bool = False) -> None:
        panel = self.panel
        sql = None
        if not workload:
            statement = panel._checked_statement()
            if statement is None:
                return
            if statement.endpoint or statement.params:
                self.output.value = (
                    "<i>Advise takes a statement without placeholders: write its values in, or "
                    "advise for the workload (the server's statements, values filled in).</i>"
                )
                return
            sql = statement.sql
        line = f"advice = s.advise([{sql!r}])" if sql else "advice = s.advise()"

        def work() -> None:
            advice = panel.session.advise([sql] if sql else None)
            panel.investigation.record(advice, code=line)
            panel._publish(advice=advice)
            self.output.value = advice._repr_html_()

        self.output.value = f"<i>Advising for {escape(sql or 'the top statements')}…</i>"
        panel.controls.tabs.selected_index = self.index
        panel._run("advise", line, work, stoppable=True)
