"""``wb.ui.Workbench(s)``: the notebook panel, a thin layer over the Python API.

Every button does what one line of Python does, and shows that line (``Python:`` under the
toolbar, and in the History tab), so a workshop can move from clicking to typing. Long work
runs in a background thread: the panel stays responsive, Stop ends a profile early (keeping its
runs), and an error appears as a readable message while the panel keeps working. Everything
is recorded into an :class:`~workbench.investigation.Investigation`.

Only standard ipywidgets controls are used (HTML, Textarea, Button, Tab, Image, ...), so the
panel works in JupyterLab 4, Notebook 7 and VS Code's notebook renderer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench import snippets
from workbench.errors import QueryError, WorkbenchError
from workbench.safe_html import escape
from workbench.ui import render

if TYPE_CHECKING:
    from workbench.architect import Answer, Architect
    from workbench.capture import Capture
    from workbench.findings import Finding
    from workbench.investigation import Investigation
    from workbench.plans.model import Plan
    from workbench.profiling.result import Profile
    from workbench.session import Session

__all__ = ["Workbench"]

DEFAULT_SQL = "SELECT id, status, total_cents, created_at FROM orders WHERE user_id = :id"
DEFAULT_PARAMS = '{"id": 4242}'
_TABS = ("Plan", "Charts", "Findings", "Architect", "Evidence", "History")


class Workbench:
    """The investigation panel for one session.

    >>> panel = wb.ui.Workbench(s)    # doctest: +SKIP
    >>> panel.explain(analyze=True)   # doctest: +SKIP

    ``background=False`` runs actions in the calling thread (scripts, tests).
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
    ) -> None:
        import ipywidgets as w

        import workbench as wb

        self.session = session if session is not None else wb.connect()
        self.investigation = (
            investigation
            if investigation is not None
            else wb.Investigation(title, session=self.session)
        )
        self.architect = (
            architect if architect is not None else wb.Architect(on_text=self._stream_text)
        )
        self.background = background
        self.plans: list[Plan] = []
        self.profiles: list[Profile] = []
        self.captures: list[Capture] = []
        self.findings: list[Finding] = []
        self.answer: Answer | None = None
        self.history: list[str] = []
        self._capture: Capture | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._streamed: list[str] = []
        self._last_render = 0.0

        # connection bar
        self.connection = w.HTML()
        self.url = w.Text(placeholder="another database: a SQLAlchemy URL", layout={"width": "40%"})
        self.connect_button = w.Button(description="Switch", tooltip="connect to this URL")
        # editor
        self.sql = w.Textarea(value=sql, layout={"width": "100%", "height": "90px"})
        self.params = w.Text(value=params, description="params", layout={"width": "40%"})
        self.runs = w.BoundedIntText(
            value=200, min=1, max=10_000_000, description="runs", layout={"width": "150px"}
        )
        self.concurrency = w.BoundedIntText(
            value=1, min=1, max=256, description="clients", layout={"width": "150px"}
        )
        # actions
        self.buttons = {
            name: w.Button(
                description=label,
                button_style=style,
                tooltip=tip,
                layout={"width": "auto", "min_width": "90px"},
            )
            for name, label, style, tip in (
                ("explain", "Explain", "", "the plan, estimates only"),
                ("analyze", "Explain Analyze", "info", "run it and time every step"),
                ("profile", "Profile", "info", "latency over many runs"),
                ("capture", "Capture", "", "start/stop recording statements from app code"),
                ("compare", "Compare", "", "the last two profiles, before vs after"),
                ("ask", "Ask the Architect", "success", "send the evidence for analysis"),
                ("export", "Export", "", "write the report"),
            )
        }
        self.stop_button = w.Button(description="Stop", button_style="danger", disabled=True)
        self.status = w.HTML()
        self.python = w.HTML()
        # output tabs
        self.plan_html = w.HTML()
        self.node_select = w.Dropdown(description="node", options=[], layout={"width": "60%"})
        self.node_details = w.HTML()
        self.charts = w.VBox()
        self.findings_box = w.VBox()
        self.fix_result = w.HTML()
        self.answer_html = w.HTML()
        self.follow_up = w.Text(placeholder="a follow-up question", layout={"width": "70%"})
        self.follow_button = w.Button(description="Ask")
        self.evidence_html = w.HTML()
        self.history_html = w.HTML()
        self.tabs = w.Tab(
            children=[
                w.VBox([self.plan_html, self.node_select, self.node_details]),
                self.charts,
                w.VBox([self.findings_box, self.fix_result]),
                w.VBox([self.answer_html, w.HBox([self.follow_up, self.follow_button])]),
                self.evidence_html,
                self.history_html,
            ]
        )
        for i, name in enumerate(_TABS):
            self.tabs.set_title(i, name)
        self.widget = w.VBox(
            [
                w.HBox([self.connection, self.url, self.connect_button]),
                self.sql,
                w.HBox([self.params, self.runs, self.concurrency]),
                w.HBox(
                    [*self.buttons.values(), self.stop_button], layout={"flex_flow": "row wrap"}
                ),
                self.status,
                self.python,
                self.tabs,
            ],
            layout={"border": "1px solid #d0d7de", "padding": "6px"},
        )
        self._wire()
        self._show_connection()
        self._show_history()

    def _wire(self) -> None:
        b = self.buttons
        b["explain"].on_click(lambda _: self.explain(analyze=False))
        b["analyze"].on_click(lambda _: self.explain(analyze=True))
        b["profile"].on_click(lambda _: self.profile())
        b["capture"].on_click(lambda _: self.toggle_capture())
        b["compare"].on_click(lambda _: self.compare())
        b["ask"].on_click(lambda _: self.ask())
        b["export"].on_click(lambda _: self.export())
        self.stop_button.on_click(lambda _: self.stop())
        self.connect_button.on_click(lambda _: self.connect(self.url.value))
        self.follow_button.on_click(lambda _: self.ask(self.follow_up.value))
        self.node_select.observe(self._show_node, names="value")

    # -- display ----------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # -- actions ----------------------------------------------------------------------------------
    def explain(self, analyze: bool = False) -> None:
        """Explain (or Explain Analyze) the editor's statement."""
        statement = self._checked_statement()
        if statement is None:
            return
        sql, params = statement
        line = snippets.explain_line(sql, analyze=analyze, params=params)

        def work() -> None:
            plan = self.session.explain(sql, analyze=analyze, params=params)
            self.plans.append(plan)
            self.investigation.record(plan, code=line)
            self._show_plan(plan)
            self._refresh_findings()
            self.tabs.selected_index = 0

        self._run("explain", line, work, stoppable=True)

    def profile(self) -> None:
        """Profile the editor's statement (runs, clients)."""
        statement = self._checked_statement()
        if statement is None:
            return
        sql, params = statement
        runs, clients = int(self.runs.value), int(self.concurrency.value)
        line = snippets.profile_line(sql, runs=runs, concurrency=clients, params=params)

        def work() -> None:
            prof = self.session.profile(
                sql,
                runs=runs,
                concurrency=clients,
                params=params,
                stop=self._stop.is_set,
                progress=False,
            )
            self.profiles.append(prof)
            self.investigation.record(prof, code=line)
            if not prof.ok.any() and prof.runs:  # nothing to chart: say why instead
                first = prof.messages[0] if prof.messages else "no execution succeeded"
                raise QueryError(
                    f"every execution failed ({prof.runs:,} of {prof.runs:,}): {first}",
                    hint="fix the statement (Explain shows the engine's message), or allow "
                    "more time with a larger timeout",
                )
            self._show_charts([prof.histogram(), prof.ecdf(), prof.timeline()], prof.describe())
            self._refresh_findings()
            self.tabs.selected_index = 1

        self._run("profile", line, work, stoppable=True)

    def toggle_capture(self) -> None:
        """Start recording statements (run your app code in other cells), or stop and show."""
        if self._capture is None:
            self._capture = self.session.capture().__enter__()
            self.buttons["capture"].description = "Stop capture"
            self._say(
                "Capturing: run your app code in any cell, then press Stop capture.",
                "cap = s.capture().__enter__()   # or: with s.capture() as cap: ...",
            )
            return
        cap, self._capture = self._capture, None
        cap.__exit__(None, None, None)
        self.buttons["capture"].description = "Capture"
        self.captures.append(cap)
        self.investigation.record(cap, code="with s.capture() as cap: app_code()")
        self._say(escape(repr(cap)), "cap.repeated")
        self._refresh_findings()
        self._show_history()
        self.tabs.selected_index = 2

    def compare(self) -> None:
        """Compare the last two profiles (the older is the baseline)."""
        if len(self.profiles) < 2:
            self._error("Compare needs two profiles: profile before and after a change.")
            return
        line = snippets.compare_line()

        def work() -> None:
            before, after = self.profiles[-2], self.profiles[-1]
            comparison = before.compare(after)
            self.investigation.record(comparison, code=line)
            self._show_charts([comparison.chart()], comparison.verdict)
            self.tabs.selected_index = 1

        self._run("compare", line, work)

    def ask(self, question: str | None = None) -> None:
        """Send the evidence to the architect (or a follow-up question)."""
        follow = bool(question and self.architect.evidence is not None)
        line = (
            snippets.ask_line(question, follow_up=True)
            if follow
            else snippets.evidence_line(plan="plan", profile="prof", capture="cap")
            + "\n"
            + snippets.ask_line()
        )

        def work() -> None:
            self._streamed = []
            if follow:
                answer = self.architect.ask(question or "")
            else:
                evidence = self._evidence(question)
                answer = self.architect.analyze(evidence, question=question or None)
            self.answer = answer
            self.investigation.record(answer, code=line)
            self.answer_html.value = answer._repr_html_()
            self.follow_up.value = ""

        self.tabs.selected_index = 3
        self._run("ask", line, work, stoppable=True)

    def export(self, path: str | None = None) -> None:
        """Write the investigation's report."""
        target = path or str(self.investigation.folder / "report.html")
        line = snippets.export_line(target)

        def work() -> None:
            self.investigation.export(target)

        self._run("export", line, work)

    def connect(self, url: str) -> None:
        """Switch to another database (its password is never shown)."""
        if not url.strip():
            self._error("Type a SQLAlchemy URL first, e.g. sqlite:///shop.db")
            return
        line = "s = wb.connect(url)"

        def work() -> None:
            import workbench as wb

            self.session = wb.connect(url.strip())
            self.investigation.attach(self.session)
            self.url.value = ""
            self._show_connection()

        self._run("connect", line, work)

    def try_fix(self, index: int) -> None:
        """Try finding ``index``'s fix in the rollback sandbox."""
        finding = self.findings[index]
        statement = self._checked_statement()
        if statement is None:
            return
        sql, params = statement
        line = snippets.try_fix_line(f"findings[{index}]", sql, params=params, fix_is_code=True)

        def work() -> None:
            trial = self.session.try_fix(finding, sql=sql, params=params)
            self.investigation.record(trial, code=line)
            self.fix_result.value = trial._repr_html_()

        self._run("fix", line, work, stoppable=True)

    def stop(self) -> None:
        """Stop the running action: its statement is cancelled on the server, a profile keeps
        the runs done so far, the architect's stream is closed."""
        self._stop.set()
        self._say("Stopping…", None)
        session = self.session
        threading.Thread(target=session.cancel, name="workbench-cancel", daemon=True).start()

    def wait(self, timeout: float = 120.0) -> None:
        """Block until the running action ends (for scripts and tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # -- running ----------------------------------------------------------------------------------
    def _run(
        self, name: str, line: str, work: Callable[[], None], *, stoppable: bool = False
    ) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._error("Another action is still running: wait for it, or press Stop.")
            return
        self._stop.clear()
        self._busy(True, stoppable)
        self._say(f"Running {escape(name)}…", line)
        self.history.append(line)
        self._show_history()

        def guarded() -> None:
            started = time.perf_counter()
            try:
                work()
            except WorkbenchError as exc:
                self._error(str(exc))
            except KeyboardInterrupt:
                self._say("Stopped: the statement was cancelled; the panel is ready.", line)
            except Exception as exc:  # a bug must not kill the panel: say it, keep going
                self._error(f"{type(exc).__name__}: {exc}")
            else:
                self._say(f"{escape(name)} done in {time.perf_counter() - started:,.1f} s.", line)
            finally:
                self._busy(False, stoppable)
                self._show_history()

        if self.background:
            self._thread = threading.Thread(target=guarded, name=f"workbench-{name}", daemon=True)
            self._thread.start()
        else:
            guarded()

    def _busy(self, busy: bool, stoppable: bool) -> None:
        for button in self.buttons.values():
            if button is not self.buttons["capture"]:
                button.disabled = busy
        self.follow_button.disabled = busy
        self.stop_button.disabled = not (busy and stoppable)

    def _say(self, html: str, line: str | None) -> None:
        self.status.value = f"<span style='color:#57606a'>{html}</span>"
        if line:
            self.python.value = f"<small>Python: <code>{escape(line)}</code></small>"

    def _error(self, message: str) -> None:
        text = escape(message).replace("\n", "<br>")
        self.status.value = f"<span style='color:#cf222e'>⚠ {text}</span>"

    # -- helpers ----------------------------------------------------------------------------------
    def _checked_statement(self) -> tuple[str, dict[str, Any] | None] | None:
        """The editor's statement, or ``None`` after showing what is wrong with it."""
        try:
            return self._statement()
        except WorkbenchError as exc:
            self._error(str(exc))
            return None

    def _statement(self) -> tuple[str, dict[str, Any] | None]:
        sql = self.sql.value.strip()
        text = self.params.value.strip()
        if not text or ":" not in sql:
            return sql, None
        try:
            params = json.loads(text)
        except json.JSONDecodeError as exc:
            raise WorkbenchError(
                f"params is not JSON: {exc.msg}", hint='write a JSON object, e.g. {"id": 42}'
            ) from None
        if not isinstance(params, dict):
            raise WorkbenchError("params must be a JSON object", hint='e.g. {"id": 42}')
        return sql, params

    def _evidence(self, question: str | None) -> Any:
        sql, _ = self._statement()
        return self.session.evidence(
            sql or None,
            plans=self.plans[-2:],
            profiles=self.profiles[-2:],
            captures=self.captures[-1:],
            question=question or None,
        )

    def _refresh_findings(self) -> None:
        import ipywidgets as w

        from workbench.rules import analyze

        try:
            findings = analyze(self._evidence(None))
        except WorkbenchError:
            return
        self.findings = findings
        rows = []
        for i, finding in enumerate(findings):
            html = w.HTML(finding._repr_html_())
            if finding.fix and finding.fix_kind in ("ddl", "sql", "setting", "rewrite"):
                button = w.Button(description="Try fix", tooltip="in a rolled-back transaction")
                button.on_click(lambda _, index=i: self.try_fix(index))
                rows.append(w.VBox([html, button]))
            else:
                rows.append(html)
        if not rows:
            rows = [w.HTML("<i>No findings yet: explain or profile a statement.</i>")]
        self.findings_box.children = tuple(rows)
        self.evidence_html.value = render.evidence_html(lambda: self._evidence(None))

    def _show_connection(self) -> None:
        self.connection.value = render.connection_html(self.session)

    def _show_plan(self, plan: Plan) -> None:
        self.plan_html.value = plan.to_html()
        self.node_select.options = [(f"#{n.id} {n.label}"[:90], n.id) for n in plan.nodes]
        hot = plan.hot_path[:1]
        self.node_select.value = hot[0].id if hot else (plan.nodes[0].id if plan.nodes else None)

    def _show_node(self, change: Any) -> None:
        if not self.plans or change.get("new") is None:
            return
        self.node_details.value = render.node_html(self.plans[-1].node(int(change["new"])))

    def _show_charts(self, figures: list[Any], caption: str) -> None:
        import ipywidgets as w

        images: list[Any] = [w.HTML(f"<b>{escape(caption)}</b>")]
        images += [w.Image(value=render.chart_png(f), format="png") for f in figures]
        self.charts.children = tuple(images)

    def _show_history(self) -> None:
        self.history_html.value = render.history_html(self.investigation, self.history)

    def _stream_text(self, chunk: str) -> None:
        """The architect's text as it streams in, re-rendered at most every 0.2 s."""
        from workbench.safe_html import render_markdown

        if self._stop.is_set():  # Stop pressed while the architect writes: close the stream
            raise KeyboardInterrupt
        self._streamed.append(chunk)
        now = time.monotonic()
        if now - self._last_render > 0.2 or chunk.endswith("\n\n"):
            self._last_render = now
            self.answer_html.value = render_markdown("".join(self._streamed))
