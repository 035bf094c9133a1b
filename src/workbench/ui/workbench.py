"""``wb.ui.Workbench(s)``: the notebook panel, a thin layer over the Python API.

Every button does what one line of Python does, shows that line (``Python:`` under the toolbar,
and in the History tab) and puts its result into the notebook under the names the line uses
(``plan``, ``prof_1``, ``findings``, ``answer``, ``trial``, ``comparison``, ``cap``, ``inv``),
so the line pasted into a new cell runs after the ones before it. Everything the tabs show is
drawn from one :class:`~workbench.ui.state.PanelState`: a new statement clears what belonged to
the previous one. Long work runs in a background thread with its elapsed time (and runs done)
in the status line; Stop is enabled only then, and the other actions are disabled meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench import snippets
from workbench.errors import QueryError
from workbench.safe_html import escape
from workbench.ui import render, tabs
from workbench.ui.architect_tab import ArchitectTab
from workbench.ui.database_tab import DatabaseTab
from workbench.ui.endpoint import EndpointRow
from workbench.ui.gathering import Gathering
from workbench.ui.layout import Controls, build
from workbench.ui.namespace import notebook_namespace
from workbench.ui.running import Runner
from workbench.ui.state import Measured, PanelState, Statement

if TYPE_CHECKING:
    from workbench.architect import Architect
    from workbench.investigation import Investigation
    from workbench.session import Session

__all__ = ["Workbench"]

DEFAULT_SQL = "SELECT id, status, total_cents, created_at FROM orders WHERE user_id = :id"
DEFAULT_PARAMS = '{"id": 4242}'


class Workbench(Gathering):
    """The investigation panel for one session.

    >>> panel = wb.ui.Workbench(s)    # doctest: +SKIP
    >>> panel.explain(analyze=True)   # doctest: +SKIP

    ``namespace``: where results go (the notebook's, by default); ``background=False`` runs
    actions in the calling thread (scripts, tests).
    """

    def __init__(
        self,
        session: Session | None = None,
        *,
        investigation: Investigation | None = None,
        title: str = "Notebook investigation",
        architect: Architect | None = None,
        sql: str = DEFAULT_SQL,
        params: str = DEFAULT_PARAMS,
        background: bool = True,
        namespace: dict[str, Any] | None = None,
    ) -> None:
        import workbench as wb

        self.session = session if session is not None else wb.connect()
        self.investigation = (
            investigation
            if investigation is not None
            else wb.Investigation(title, session=self.session, lazy=True)
        )
        self.background = background
        self.namespace = namespace if namespace is not None else notebook_namespace()
        self.state = PanelState()
        self.history: list[str] = []
        self.controls: Controls = build(sql, params)
        self.agent = ArchitectTab(self)
        self.endpoint = EndpointRow(self)
        self.database = DatabaseTab(self)
        self._parts = (self.agent, self.endpoint, self.database)
        self.architect = (
            architect if architect is not None else wb.Architect(on_text=self.agent.on_text)
        )
        self.runner = Runner(
            self.controls, background=background, busy=self._set_busy, finished=self._finished
        )
        self._publish(s=self.session, inv=self.investigation)
        self._wire()
        self._show_connection()
        self._show_all()

    def __getattr__(self, name: str) -> Any:  # the widgets, by name (panel.status, ...)
        controls = self.__dict__.get("controls")
        if controls is None:
            raise AttributeError(name)
        return getattr(controls, name)

    def _wire(self) -> None:
        c = self.controls
        b = c.buttons
        b["explain"].on_click(lambda _: self.explain(analyze=False))
        b["analyze"].on_click(lambda _: self.explain(analyze=True))
        b["profile"].on_click(lambda _: self.profile())
        b["capture"].on_click(lambda _: self.toggle_capture())
        b["compare"].on_click(lambda _: self.compare())
        b["ask"].on_click(lambda _: self.ask())
        b["export"].on_click(lambda _: self.export())
        c.stop_button.on_click(lambda _: self.stop())
        c.connect_button.on_click(lambda _: self.connect(c.typed_url()))
        c.follow_button.on_click(lambda _: self.ask(c.follow_up.value))
        c.url.observe(c.hide_password, names="value")
        for part in self._parts:
            part.wire()

    # -- display ----------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.controls.widget._repr_mimebundle_(**kwargs)

    # -- actions ----------------------------------------------------------------------------------
    def explain(self, analyze: bool = False) -> None:
        """Explain (or Explain Analyze) the editor's statement."""
        statement = self._checked_statement()
        if statement is None:
            return
        writes = self._take_allow_writes() if analyze else False
        line = snippets.explain_line(
            statement.sql, analyze=analyze, params=statement.params, allow_writes=writes
        )

        def work() -> None:
            plan = self.session.explain(
                statement.sql, analyze=analyze, params=statement.params, allow_writes=writes
            )
            self.state.plan = plan
            self.controls.plan_view.show(plan)
            self.investigation.record(plan, code=line)
            self._publish(plan=plan)
            self._refresh_findings()
            self.controls.tabs.selected_index = 0

        self._run("explain", line, work, statement=statement, stoppable=True)

    def profile(self) -> None:
        """Profile the editor's statement (runs, clients)."""
        statement = self._checked_statement()
        if statement is None:
            return
        c = self.controls
        runs, clients = int(c.runs.value), int(c.concurrency.value)
        writes = self._take_allow_writes()
        name = f"prof_{len(self.state.profiles) + 1}"
        line = snippets.profile_line(
            statement.sql,
            runs=runs,
            concurrency=clients,
            params=statement.params,
            allow_writes=writes,
            name=name,
        )

        def work() -> None:
            prof = self.session.profile(
                statement.sql,
                runs=runs,
                concurrency=clients,
                params=statement.params,
                allow_writes=writes,
                stop=self.runner.stopping.is_set,
                progress=self.runner.on_progress,
            )
            measured = self.state.add_profile(prof, statement)
            self.investigation.record(prof, code=line)
            self._publish(**{measured.name: prof})
            if not prof.ok.any() and prof.runs:  # nothing to chart: say why instead
                first = prof.messages[0] if prof.messages else "no execution succeeded"
                raise QueryError(
                    f"every execution failed ({prof.runs:,} of {prof.runs:,}): {first}",
                    hint="fix the statement (Explain shows the engine's message), or allow "
                    "more time with a larger timeout",
                )
            self._refresh_findings()
            self._show_profile_charts(measured)
            c.tabs.selected_index = 1
            if prof.interrupted:
                raise KeyboardInterrupt(f"stopped after {prof.runs:,} runs (kept as {name})")

        self._run("profile", line, work, statement=statement, stoppable=True)

    def profile_endpoint(self) -> None:
        """Profile the endpoint field's URL or curl command: latency, and the statements each
        request made the database run (``s.profile_http``)."""
        self.endpoint.profile()

    def health(self) -> None:
        """The database as a whole (``s.health()``), in the Database tab."""
        self.database.health()

    def advise(self, *, workload: bool = False) -> None:
        """Indexes for the editor's statement, or for the server's top statements."""
        self.database.advise(workload=workload)

    def toggle_capture(self) -> None:
        """Start recording statements (run your app code in other cells), or stop and show."""
        c = self.controls
        if self.state.capture is None:
            self.state.capture = self.session.capture().__enter__()
            self._publish(cap=self.state.capture)
            c.buttons["capture"].description = "Stop capture"
            self._say(
                "Capturing: run your app code in any cell, then press Stop capture.",
                "cap = s.capture().__enter__()",
            )
            self.history.append("cap = s.capture().__enter__()")
            self._set_busy(False)
            return
        cap, self.state.capture = self.state.capture, None
        cap.__exit__(None, None, None)
        c.buttons["capture"].description = "Capture"
        line = "cap.__exit__(None, None, None)\ncap.repeated"
        self.history.append(line)
        if len(cap):  # an empty capture says nothing: not recorded
            self.investigation.record(cap, code=snippets.capture_lines())
            self._refresh_findings(capture=cap)
            c.tabs.selected_index = 2
        self._say(escape(repr(cap)), line)
        self._set_busy(False)
        self._show_history()

    def compare(self) -> None:
        """Compare two profiles of the history (by default the last two of the statement)."""
        c = self.controls
        chosen = self._chosen_pair()
        if chosen is None:
            self._error(
                "Compare needs two profiles of the same statement: profile it before and after "
                "a change (or pick two in the Charts tab)."
            )
            return
        before, after = chosen
        if before.statement.key != after.statement.key and not c.compare_any.value:
            self._error(
                f"{before.name} and {after.name} measure different statements "
                f"({before.statement.short(40)} / {after.statement.short(40)}): comparing them "
                "says nothing about a change. Tick 'allow different statements' in the Charts "
                "tab to compare them anyway."
            )
            return
        line = snippets.compare_line(before.name, after.name)

        def work() -> None:
            comparison = before.profile.compare(after.profile)
            self.state.comparison = comparison
            self.state.compared = (before.name, after.name)
            self.investigation.record(comparison, code=line)
            self._publish(comparison=comparison)
            self._show_charts(
                [comparison.chart()], f"{before.name} → {after.name}: {comparison.verdict}"
            )
            c.tabs.selected_index = 1

        self._run("compare", line, work)

    def ask(self, question: str | None = None) -> None:
        """Send the evidence to the architect (or a follow-up question)."""
        follow = bool(question and self.state.answer is not None)
        evidence_line = self._evidence_line()
        line = (
            snippets.ask_line(question, follow_up=True)
            if follow
            else evidence_line + "\n" + snippets.ask_line(question or None)
        )

        def work() -> None:
            self.agent.start()
            if follow:
                answer = self.architect.ask(question or "")
            else:
                answer = self.architect.analyze(self._evidence(question), question=question or None)
            self.state.answer = answer
            self.investigation.record(answer, code=line)
            self._publish(arch=self.architect, answer=answer, ev=self.architect.evidence)
            self.controls.answer_html.value = answer._repr_html_()
            self.controls.follow_up.value = ""

        self.controls.tabs.selected_index = 3
        self._run("ask", line, work, stoppable=True)

    def investigate(self, question: str | None = None) -> None:
        """Let the architect investigate the statement with the tools: reads run at once,
        each call that executes or builds waits for Allow (the Architect tab)."""
        self.agent.investigate(question)

    def export(self, path: str | None = None) -> None:
        """Write the investigation's report, with what the tabs show now."""
        target = path or str(self.investigation.folder / "report.html")
        line = snippets.export_line(target)

        def work() -> None:
            self._record_findings()
            written = self.investigation.export(target)
            self._say(render.report_link(written), line)

        self._run("export", line, work, done_says=False)

    def connect(self, url: str) -> None:
        """Switch to another database (its password is never shown)."""
        if not url.strip():
            self._error("Type a SQLAlchemy URL first, e.g. sqlite:///shop.db")
            return
        shown, secret = render.connect_line(url.strip())

        def work() -> None:
            import workbench as wb

            try:
                session = wb.connect(url.strip())
            finally:
                self.controls.clear_url()  # a typed password never stays on screen, failed or not
            self.session = session
            self.investigation.attach(session)
            self._publish(s=session, **({"url": url.strip()} if secret else {}))
            self.state = PanelState(profiles=[])
            self._show_connection()
            self._show_all()

        self._run("connect", shown, work)

    def try_fix(self, index: int) -> None:
        """Try finding ``index``'s fix in the rollback sandbox."""
        findings = self.state.findings or []
        statement = self.state.statement
        if statement is None or index >= len(findings):
            self._error("That finding belongs to an earlier statement: explain or profile again.")
            return
        finding = findings[index]
        line = snippets.try_fix_line(
            f"findings[{index}]", statement.sql, params=statement.params, fix_is_code=True
        )

        def work() -> None:
            trial = self.session.try_fix(finding, sql=statement.sql, params=statement.params)
            self.state.trials.append(trial)
            self.investigation.record(trial, code=line)
            self._publish(trial=trial)
            self._show_trial(trial)

        self._run("fix", line, work, stoppable=True)

    def stop(self) -> None:
        """Stop the running action: its statement is cancelled on the server, a profile keeps
        the runs done so far, the architect's stream is closed."""
        if self.agent.investigating:
            self.architect.stop()  # the investigation ends between its steps
        self.runner.stop(self.session.cancel)

    def wait(self, timeout: float = 120.0) -> None:
        """Block until the running action ends (for scripts and tests)."""
        self.runner.wait(timeout)

    # -- running ----------------------------------------------------------------------------------
    def _run(
        self,
        name: str,
        line: str,
        work: Callable[[], None],
        *,
        statement: Statement | None = None,
        stoppable: bool = False,
        done_says: bool = True,
    ) -> None:
        if self.runner.running:
            self._error("Another action is still running: wait for it, or press Stop.")
            return
        if statement is not None and self.state.begin(statement):
            self._show_all()  # what belonged to the previous statement is gone from every tab
        self.history.append(line)
        index = len(self.history) - 1
        self._show_history()

        def failed(message: str) -> None:
            self.state.error = message
            # kept in the History as a comment: what was tried, not a line that runs
            self.history[index] = "\n".join(f"# failed: {part}" for part in line.splitlines())

        self.runner.run(name, line, work, stoppable=stoppable, done_says=done_says, failed=failed)

    def _set_busy(self, busy: bool, stoppable: bool = False) -> None:
        tabs.set_busy(self.controls, busy, stoppable, capturing=self.state.capture is not None)
        for part in self._parts:
            part.set_busy(busy)

    def _say(self, html: str, line: str | None) -> None:
        self.runner.say(html, line)

    def _error(self, message: str) -> None:
        self.runner.error(message)

    def _publish(self, **values: Any) -> None:
        """Put results into the notebook under the names the shown lines use."""
        self.namespace.update(values)

    # -- drawing from the state -------------------------------------------------------------------
    def _finished(self) -> None:
        self._show_history()
        self._show_evidence()

    def _show_all(self) -> None:
        tabs.show_all(self.controls, self.state, on_try_fix=self.try_fix)
        self._show_evidence()
        self._show_history()

    def _show_connection(self) -> None:
        self.controls.connection.value = render.connection_html(self.session)

    def _show_findings(self) -> None:
        tabs.show_findings(self.controls, self.state, on_try_fix=self.try_fix)

    def _show_trial(self, trial: Any) -> None:
        tabs.show_trial(self.controls, trial)

    def _show_profile_charts(self, measured: Measured) -> None:
        tabs.show_profile_charts(self.controls, self.state, measured)

    def _show_charts(self, figures: list[Any], caption: str) -> None:
        tabs.show_charts(self.controls, figures, caption)

    def _show_evidence(self) -> None:
        self.controls.evidence_html.value = render.evidence_html(lambda: self._evidence(None))

    def _show_history(self) -> None:
        self.controls.history_html.value = render.history_html(self.investigation, self.history)
