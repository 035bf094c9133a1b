"""What the panel gathers for the statement in its editor: the statement itself (checked),
the evidence of its plan, latest profile and capture, and the offline findings on it. A part
of :class:`~workbench.ui.workbench.Workbench`, kept in a module of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench import snippets
from workbench.errors import WorkbenchError
from workbench.safe_html import escape
from workbench.ui.state import Measured, PanelState, Statement

if TYPE_CHECKING:
    from workbench.investigation import Investigation
    from workbench.session import Session
    from workbench.ui.layout import Controls

__all__ = ["Gathering"]


class Gathering:
    """The editor's statement, its evidence and findings (mixed into the panel)."""

    session: Session
    investigation: Investigation
    controls: Controls
    state: PanelState
    namespace: dict[str, Any]

    def _error(self, message: str) -> None:  # the panel's
        raise NotImplementedError

    def _publish(self, **values: Any) -> None:  # the panel's
        raise NotImplementedError

    def _show_findings(self) -> None:  # the panel's
        raise NotImplementedError

    def _checked_statement(self) -> Statement | None:
        """The editor's statement, or ``None`` after showing what is wrong with it."""
        c = self.controls
        try:
            return Statement.from_editor(c.sql.value, c.params.value)
        except WorkbenchError as exc:
            self._error(str(exc))
            c.python.value = ""  # no line for an action that did not run
            return None

    def _take_allow_writes(self) -> bool:
        """The allow-writes box's value, unticked again: it allows one action."""
        box = self.controls.allow_writes
        value = bool(box.value)
        box.value = False
        return value

    def _evidence(self, question: str | None) -> Any:
        state = self.state
        latest = state.latest_profile
        statement = state.statement
        return self.session.evidence(
            statement.sql if statement and not statement.endpoint else None,
            plan=state.plan,
            profile=latest.profile if latest else None,
            capture=self._last_capture(),
            question=question or None,
        )

    def _evidence_line(self) -> str:
        state = self.state
        latest = state.latest_profile
        statement = state.statement
        return snippets.evidence_line(
            statement.sql if statement and not statement.endpoint else None,
            plan="plan" if state.plan is not None else None,
            profile=latest.name if latest else None,
            capture="cap" if self._last_capture() is not None else None,
        )

    def _last_capture(self) -> Any:
        cap = self.namespace.get("cap")
        return cap if cap is not None and self.state.capture is None and len(cap) else None

    def _refresh_findings(self, *, capture: Any = None) -> None:
        from workbench.rules import analyze

        try:
            evidence = self._evidence(None)
        except WorkbenchError as exc:
            self.controls.findings_python.value = f"<i>{escape(exc.message)}</i>"
            return
        self.state.findings = analyze(evidence)
        self.state.findings_line = self._evidence_line() + "\n" + snippets.findings_line()
        self._publish(findings=self.state.findings)
        self._show_findings()

    def _record_findings(self) -> None:
        """What the Findings tab shows goes into the investigation (once per statement)."""
        state = self.state
        if state.findings is None:
            return
        recorded = [s for s in self.investigation.steps if s.kind == "findings"]
        shown = [f.to_dict() for f in state.findings]
        if recorded and recorded[-1].data.get("findings") == shown:
            return
        title = f"Findings: {state.statement.short(60)}" if state.statement else None
        self.investigation.record(list(state.findings), title=title, code=state.findings_line)

    def _chosen_pair(self) -> tuple[Measured, Measured] | None:
        c = self.controls
        names = (c.compare_before.value, c.compare_after.value)
        if all(names) and names[0] != names[1]:
            try:
                return self.state.measured(names[0]), self.state.measured(names[1])
            except KeyError:
                pass
        return self.state.default_pair()
