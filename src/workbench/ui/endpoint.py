"""The panel's endpoint row: an HTTP endpoint of the application (a URL, or a curl command as
a browser's "Copy as cURL" gives it) profiled with the statements each request made the
database run. The result is one more profile of the history (``prof_N``), under the endpoint
(method and path: ``/api/users`` and ``/api/users?eager=1`` compare as one endpoint)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from workbench import snippets
from workbench.errors import ConfigurationError
from workbench.ui.state import Statement

if TYPE_CHECKING:
    from collections.abc import Callable

    from workbench.investigation import Investigation
    from workbench.session import Session
    from workbench.ui.layout import Controls
    from workbench.ui.running import Runner
    from workbench.ui.state import Measured, PanelState

__all__ = ["EndpointRow"]


class Panel(Protocol):
    """What the row uses of its panel (:class:`~workbench.ui.workbench.Workbench`)."""

    session: Session
    investigation: Investigation
    controls: Controls
    runner: Runner
    state: PanelState

    def profile_endpoint(self) -> None: ...

    def _publish(self, **values: Any) -> None: ...

    def _error(self, message: str) -> None: ...

    def _refresh_findings(self) -> None: ...

    def _show_profile_charts(self, measured: Measured) -> None: ...

    def _run(
        self,
        name: str,
        line: str,
        work: Callable[[], None],
        *,
        statement: Statement | None = None,
        stoppable: bool = False,
    ) -> None: ...


class EndpointRow:
    """The endpoint field and its button, under the statement editor."""

    def __init__(self, panel: Panel) -> None:
        import ipywidgets as w

        self.panel = panel
        c = panel.controls
        self.field = w.Text(
            placeholder="an endpoint to profile: http://127.0.0.1:8000/api/users, or a curl "
            "command (Copy as cURL)",
            layout={"width": "70%"},
        )
        self.button = w.Button(
            description="Profile endpoint",
            button_style="info",
            tooltip="GET the endpoint `runs` times with `clients` clients, and read the "
            "statements each request made the database run",
        )
        self.field.add_class("wb-endpoint")
        self.button.add_class("wb-profile-endpoint")
        box = c.widget
        children = list(box.children)
        children.insert(2, w.HBox([self.field, self.button]))  # under the statement editor
        box.children = tuple(children)

    def wire(self) -> None:
        self.button.on_click(lambda _: self.panel.profile_endpoint())

    def set_busy(self, busy: bool) -> None:
        self.button.disabled = busy

    def profile(self) -> None:
        """Profile the endpoint in the field (runs and clients from the toolbar)."""
        from workbench.http.request import HttpRequest

        panel, c = self.panel, self.panel.controls
        text = str(self.field.value).strip()
        if not text:
            panel._error("Type an endpoint first: a URL, or a curl command (Copy as cURL).")
            return
        curl = text.startswith("curl ")
        try:
            request = HttpRequest.build(curl=text) if curl else HttpRequest.build(text)
        except ConfigurationError as exc:
            panel._error(str(exc))
            return
        runs, clients = int(c.runs.value), int(c.concurrency.value)
        # the endpoint as a statement of the history: its method and path, secrets masked
        statement = Statement(f"{request.method} {request.shown_url}", None, endpoint=True)
        name = f"prof_{len(panel.state.profiles) + 1}"
        line = snippets.profile_http_line(
            request.shown_url,
            method=request.method,
            runs=runs,
            concurrency=clients,
            curl=curl,
            name=name,
        )

        def work() -> None:
            prof = panel.session.profile_http(
                None if curl else text,
                curl=text if curl else None,
                runs=runs,
                concurrency=clients,
                progress=panel.runner.on_progress,
                stop=panel.runner.stopping.is_set,
            )
            measured = panel.state.add_profile(prof, statement)
            panel.investigation.record(prof, code=line)
            # a curl command's headers may hold secrets: the line names the variable instead
            panel._publish(**{measured.name: prof, **({"curl": text} if curl else {})})
            panel._refresh_findings()
            panel._show_profile_charts(measured)
            c.tabs.selected_index = 1
            if prof.interrupted:
                raise KeyboardInterrupt(f"stopped after {prof.runs:,} requests (kept as {name})")

        panel._run("endpoint profile", line, work, statement=statement, stoppable=True)
