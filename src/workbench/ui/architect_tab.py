"""The panel's Architect tab: the persona to speak as, the answer streaming in with each tool
call as it happens, and — when the architect investigates — Allow / Deny for every call that
would execute a statement or build something, with the exact SQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from workbench import snippets
from workbench.safe_html import escape, render_markdown

if TYPE_CHECKING:
    from workbench.architect import Architect
    from workbench.investigation import Investigation
    from workbench.session import Session
    from workbench.tools import ToolCall
    from workbench.ui.layout import Controls
    from workbench.ui.running import Runner
    from workbench.ui.state import PanelState


class Panel(Protocol):
    """What the tab uses of the panel it sits in (:class:`~workbench.ui.workbench.Workbench`)."""

    architect: Architect
    session: Session
    investigation: Investigation
    controls: Controls
    runner: Runner
    state: PanelState
    background: bool

    def investigate(self, question: str | None = None) -> None: ...

    def _evidence(self, question: str | None) -> Any: ...

    def _evidence_line(self) -> str: ...

    def _publish(self, **values: Any) -> None: ...

    def _error(self, message: str) -> None: ...

    def _run(
        self, name: str, line: str, work: Callable[[], None], *, stoppable: bool = False
    ) -> None: ...


__all__ = ["ArchitectTab", "persona_choices"]

SHIPPED = "backend-architect (shipped)"
_RENDER_EVERY_S = 0.2
_STATE = {
    "requested": ("asked", "#57606a"),
    "waiting": ("waiting for you", "#9a6700"),
    "running": ("running", "#0969da"),
    "denied": ("denied", "#cf222e"),
}


def persona_choices() -> list[tuple[str, str | None]]:
    """The personas the panel offers: the shipped one, then the agent files of the project's
    ``.claude/agents/`` and the user's ``~/.claude/agents/``."""
    from workbench.errors import ConfigurationError
    from workbench.persona import agent_folders, parse_persona

    choices: list[tuple[str, str | None]] = [(SHIPPED, None)]
    for folder in agent_folders():
        where = "user" if folder.parent.parent == Path.home() else "project"
        for path in sorted(folder.glob("*.md")):
            try:
                persona = parse_persona(path.read_text(encoding="utf-8"), source=str(path))
            except (ConfigurationError, OSError, UnicodeDecodeError):
                continue
            choices.append((f"{persona.name} ({where})", str(path)))
    return choices


class ArchitectTab:
    """The Architect tab's own widgets and what they do."""

    def __init__(self, panel: Panel) -> None:
        import ipywidgets as w

        self.panel = panel
        c = panel.controls
        self.persona = w.Dropdown(
            options=persona_choices(), description="persona", layout={"width": "45%"}
        )
        self.steps = w.BoundedIntText(
            value=8, min=1, max=30, description="steps", layout={"width": "130px"}
        )
        self.investigate_button = w.Button(
            description="Investigate",
            button_style="success",
            tooltip="the architect calls the workbench's tools; each call that executes a "
            "statement or builds something waits for your Allow",
        )
        self.approval_html = w.HTML()
        self.allow = w.Button(description="Allow", button_style="warning")
        self.deny = w.Button(description="Deny")
        self.approval_box = w.VBox([self.approval_html, w.HBox([self.allow, self.deny])])
        self.approval_box.layout.display = "none"
        for widget, name in (
            (self.persona, "wb-persona"),
            (self.investigate_button, "wb-investigate"),
            (self.approval_box, "wb-approval"),
            (self.allow, "wb-allow"),
            (self.deny, "wb-deny"),
        ):
            widget.add_class(name)
        tab = c.tabs.children[3]
        tab.children = (
            w.HBox([self.persona, self.steps, self.investigate_button]),
            c.answer_html,
            self.approval_box,
            *tab.children[1:],
        )
        #: decisions given ahead (scripts, tests): taken in order before anyone is asked
        self.decisions: list[bool] = []
        self.investigating = False
        self._decided = threading.Event()
        self._decision = False
        self._segments: list[str | ToolCall] = []
        self._phases: dict[int, str] = {}
        self._last_render = 0.0

    def wire(self) -> None:
        self.investigate_button.on_click(lambda _: self.panel.investigate())
        self.allow.on_click(lambda _: self.decide(True))
        self.deny.on_click(lambda _: self.decide(False))
        self.persona.observe(self._persona_changed, names="value")

    def set_busy(self, busy: bool) -> None:
        self.investigate_button.disabled = busy
        self.persona.disabled = busy

    # -- the architect ------------------------------------------------------------------------
    def architect(self) -> Architect:
        """The panel's architect, on the panel's session and investigation."""
        arch = self.panel.architect
        arch.session = self.panel.session
        arch.investigation = self.panel.investigation
        arch.on_tool = self.on_tool
        arch.on_text = self.on_text  # the panel shows what the architect says
        return arch

    def _persona_changed(self, change: dict[str, Any]) -> None:
        from workbench.errors import WorkbenchError

        try:
            self.panel.architect.use_persona(change["new"])
        except WorkbenchError as exc:
            self.panel._error(str(exc))
            return
        self.panel.state.answer = None
        self.panel.controls.answer_html.value = (
            f"<i>The architect now speaks as {escape(self.panel.architect.persona.name)}.</i>"
        )

    def investigate(self, question: str | None = None) -> None:
        """Let the architect investigate the statement (its plan and profile as the start)."""
        panel = self.panel
        max_steps = int(self.steps.value)
        line = (
            panel._evidence_line()
            + "\n"
            + snippets.investigate_line(
                evidence="ev", max_steps=max_steps, persona=self.persona.value
            )
        )

        def work() -> None:
            self.start()
            self.investigating = True
            try:
                answer = self.architect().investigate(
                    panel._evidence(question), max_steps=max_steps, approve=self.approve
                )
            finally:
                self.investigating = False
                self.hide_approval()
            panel.state.answer = answer
            panel._publish(arch=panel.architect, answer=answer, ev=panel.architect.evidence)
            panel.controls.answer_html.value = self.transcript_html() + answer._repr_html_()

        panel.controls.tabs.selected_index = 3
        panel._run("investigate", line, work, stoppable=True)

    # -- approval -------------------------------------------------------------------------------
    def approve(self, call: ToolCall) -> bool:
        """Ask the person (Allow / Deny); Stop denies. Without a person to click (a panel
        running in the calling thread), a decision given ahead, else no."""
        if self.decisions:
            return self.decisions.pop(0)
        if not self.panel.background:
            return False
        self._decided.clear()
        self.show_approval(call)
        stopping = self.panel.runner.stopping
        while not self._decided.wait(0.1):
            if stopping.is_set():
                self.hide_approval()
                return False
        self.hide_approval()
        return self._decision

    def decide(self, allowed: bool) -> None:
        self._decision = allowed
        self._decided.set()

    def show_approval(self, call: ToolCall) -> None:
        sql = f"<pre style='white-space:pre-wrap'>{escape(call.sql)}</pre>" if call.sql else ""
        planned = (
            f"<div>to plan: <code>{escape(call.statement)}</code></div>"
            if call.statement and call.statement != call.sql
            else ""
        )
        self.approval_html.value = (
            f"<b>The architect asks to run</b> <code>{escape(call.describe())}</code>{sql}{planned}"
        )
        self.allow.disabled = self.deny.disabled = False
        self.approval_box.layout.display = ""
        self.render()

    def hide_approval(self) -> None:
        self.approval_box.layout.display = "none"
        self.approval_html.value = ""

    # -- the stream -----------------------------------------------------------------------------
    def start(self) -> None:
        self._segments = []
        self._phases = {}
        self._last_render = 0.0

    def on_text(self, chunk: str) -> None:
        """The architect's text as it streams in, re-rendered at most every 0.2 s. Stop ends
        an answer at once; an investigation ends between its steps."""
        if self.panel.runner.stopping.is_set():
            if self.investigating:
                self.panel.architect.stop()
            else:
                raise KeyboardInterrupt
        if self._segments and isinstance(self._segments[-1], str):
            self._segments[-1] += chunk
        else:
            self._segments.append(chunk)
        now = time.monotonic()
        if now - self._last_render > _RENDER_EVERY_S or chunk.endswith("\n\n"):
            self.render()

    def on_tool(self, call: ToolCall, phase: str) -> None:
        if phase == "requested":
            self._segments.append(call)
        self._phases[id(call)] = "waiting" if phase == "requested" and call.gate else phase
        self.render()

    def render(self) -> None:
        self._last_render = time.monotonic()
        self.panel.controls.answer_html.value = self.transcript_html()

    def transcript_html(self) -> str:
        parts = []
        for segment in self._segments:
            if isinstance(segment, str):
                parts.append(render_markdown(segment))
            else:
                parts.append(_call_html(segment, self._phases.get(id(segment), "requested")))
        return "".join(parts)


def _call_html(call: ToolCall, phase: str) -> str:
    if phase == "done":
        label, colour = ("done", "#1a7f37") if call.ok else ("refused", "#cf222e")
    else:
        label, colour = _STATE.get(phase, (phase, "#57606a"))
    sql = f" <code>{escape(call.sql)}</code>" if call.sql else ""
    summary = f" — {escape(call.summary)}" if call.summary else ""
    return (
        f"<div class='wb-tool-call' style='border-left:3px solid {colour};padding:2px 8px;"
        f"margin:4px 0'><b>{escape(call.name)}</b>{sql} "
        f"<span style='color:{colour}'>[{label}]</span>{summary}</div>"
    )
