"""The notebook panel's logic, without a kernel: buttons clicked, widget values read."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import pytest

import workbench as wb
from workbench.ui.workbench import Workbench

from .conftest import still_running


@pytest.fixture
def panel(embedded_session: wb.Session, tmp_path: Path) -> Workbench:
    inv = wb.Investigation("ui test", folder=tmp_path / "inv", session=embedded_session)
    return Workbench(
        embedded_session,
        investigation=inv,
        background=False,
        architect=wb.Architect(save_dir=tmp_path, on_text=lambda _: None),
        namespace={},
    )


def _status(panel: Workbench) -> str:
    return str(panel.status.value)


def _plan_text(panel: Workbench) -> str:
    return json.dumps(panel.plan_view.data)


def test_explain_analyze_shows_the_tree_and_its_python(panel: Workbench) -> None:
    panel.buttons["analyze"].click()
    data = panel.plan_view.data
    assert any("Seq Scan" in n["label"] for n in data["nodes"])
    hot = next(n for n in data["nodes"] if n["hot"])
    assert hot["time"] and hot["share_text"] and hot["facts"]  # a readable details table
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in hot["facts"])
    assert "s.explain(" in panel.python.value and "analyze=True" in panel.python.value
    assert [s.kind for s in panel.investigation.steps] == ["plan"]
    # the findings right after an Explain, and the line that gives them
    assert "missing_index" in " ".join(c.value for c in _findings_html(panel))
    assert "findings = wb.analyze(" in panel.findings_python.value
    assert "<evidence" in panel.evidence_html.value.replace("&lt;", "<")
    assert isinstance(panel.namespace["plan"], wb.Plan)
    assert panel.namespace["findings"] == panel.state.findings


def _findings_html(panel: Workbench) -> list:  # type: ignore[type-arg]
    out = []
    for child in panel.findings_box.children:
        out.extend(child.children if hasattr(child, "children") else [child])
    return [c for c in out if hasattr(c, "value") and isinstance(c.value, str)]


def test_profile_compare_ask_and_try_fix(panel: Workbench) -> None:
    panel.runs.value = 30
    panel.buttons["profile"].click()
    assert len(panel.state.profiles) == 1 and len(panel.charts.children) == 4  # caption + 3
    assert "prof_1 = s.profile(" in panel.python.value
    panel.buttons["compare"].click()
    assert "two profiles" in _status(panel)  # a readable refusal, not a crash
    panel.buttons["profile"].click()
    assert panel.compare_before.value == "prof_1" and panel.compare_after.value == "prof_2"
    panel.buttons["compare"].click()
    assert "⚠" not in _status(panel)
    assert "comparison = prof_1.compare(prof_2)" in panel.python.value
    assert isinstance(panel.namespace["comparison"], wb.Comparison)
    panel.buttons["ask"].click()
    assert "Offline analysis" in panel.answer_html.value
    first = (panel.state.answer.findings or [None])[0]  # type: ignore[union-attr]
    assert first is not None
    assert panel.answer_html.value.count(html_escape(first.title)) == 1  # listed once
    fixable = [i for i, f in enumerate(panel.state.findings or []) if f.fix_kind == "ddl"]
    assert fixable
    panel.try_fix(fixable[0])
    assert "rolled-back transaction" in panel.fix_result.value
    assert panel.fix_view.data["kind"] == "diff"
    kinds = [s.kind for s in panel.investigation.steps]
    assert kinds.count("profile") == 2 and {"comparison", "answer", "fix"} <= set(kinds)
    assert "s.profile(" in panel.history_html.value


def test_a_new_statement_clears_what_belonged_to_the_old_one(panel: Workbench) -> None:
    panel.runs.value = 20
    panel.buttons["analyze"].click()
    panel.buttons["profile"].click()
    panel.buttons["profile"].click()
    panel.buttons["compare"].click()
    assert panel.state.comparison is not None and panel.state.findings
    panel.sql.value = "SELECT count(*) FROM users WHERE id < :id"
    panel.params.value = '{"id": 100}'
    panel.buttons["profile"].click()
    state = panel.state
    assert state.plan is None and state.comparison is None and state.answer is None
    assert "No plan yet" in _plan_text(panel)
    assert [m.name for m in state.current_profiles] == ["prof_3"]
    # Compare of two different statements is refused unless asked for
    panel.compare_before.value, panel.compare_after.value = "prof_2", "prof_3"
    panel.buttons["compare"].click()
    assert "different statements" in _status(panel) and state.comparison is None
    panel.compare_any.value = True
    panel.buttons["compare"].click()
    assert state.comparison is not None
    # an error clears nothing that belongs to the statement, and says so
    panel.params.value = "{id: 1"
    panel.buttons["explain"].click()
    assert "params is not JSON" in _status(panel) and panel.python.value == ""


def test_the_allow_writes_box_allows_one_write(
    panel: Workbench, embedded_session: wb.Session
) -> None:
    panel.sql.value = "DELETE FROM order_items WHERE quantity > :q"
    panel.params.value = '{"q": 3}'
    panel.buttons["analyze"].click()
    assert "allow_writes" in _status(panel) or "writes data" in _status(panel)
    panel.allow_writes.value = True
    panel.buttons["analyze"].click()
    assert "⚠" not in _status(panel) and "allow_writes=True" in panel.python.value
    assert panel.allow_writes.value is False  # unticked after use
    assert embedded_session.query("SELECT count(*) AS n FROM order_items").n.iloc[0] > 0


def test_export_contains_what_the_tabs_showed(panel: Workbench, tmp_path: Path) -> None:
    panel.runs.value = 20
    panel.buttons["analyze"].click()
    panel.buttons["profile"].click()
    shown = [f.title for f in panel.state.findings or []]
    assert shown
    target = tmp_path / "report.html"
    panel.export(str(target))
    assert "Report written" in _status(panel) and "href=" in _status(panel)
    html = target.read_text()
    assert "No findings were recorded" not in html
    for title in shown:
        assert html_escape(title) in html
    assert "Capture" not in [s.kind for s in panel.investigation.steps]


def html_escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELEC 1 FROM nowhere", "syntax"),
        ("DROP TABLE orders", "has no plan"),
        ("SELECT 1; DROP TABLE orders", "2 statements"),
        ("SELECT pg_sleep(5)", "timeout"),
    ],
)
def test_bad_input_gives_a_readable_message_and_the_panel_goes_on(
    panel: Workbench, embedded_session: wb.Session, sql: str, message: str
) -> None:
    embedded_session.timeout = 1
    try:
        panel.sql.value = sql
        panel.buttons["explain" if "sleep" not in sql else "analyze"].click()
        assert "⚠" in _status(panel) and message in _status(panel)
        assert "Traceback" not in _status(panel)
        panel.sql.value = "SELECT count(*) FROM users"
        panel.buttons["explain"].click()
        assert "⚠" not in _status(panel)
        assert "users" in _plan_text(panel)
    finally:
        embedded_session.timeout = 30
    assert embedded_session.query("SELECT count(*) AS n FROM orders").n.iloc[0] == 400_000


class Relay:
    """A TCP relay to PostgreSQL that a test can cut and restore: a lost network, on demand."""

    def __init__(self, target: tuple[str, int]) -> None:
        import socket
        import threading

        self.target = target
        self.sockets: list[socket.socket] = []
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.listener.listen()
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: object, sink: object) -> None:
        try:
            while data := source.recv(65536):  # type: ignore[attr-defined]
                sink.sendall(data)  # type: ignore[attr-defined]
        except OSError:
            pass

    def cut(self) -> None:
        import socket

        self.open = False
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.sockets.clear()

    def restore(self) -> None:
        self.open = True


def test_a_lost_connection_is_reported_and_the_panel_recovers(pg_url: str, tmp_path: Path) -> None:
    relay = Relay(("127.0.0.1", 5432))
    session = wb.connect(pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}"), timeout=5)
    inv = wb.Investigation("lost", folder=tmp_path / "inv", session=session)
    panel = Workbench(
        session,
        investigation=inv,
        background=False,
        sql="SELECT 1 AS one",
        params="",
        architect=wb.Architect(save_dir=tmp_path, on_text=lambda _: None),
        namespace={},
    )
    panel.buttons["explain"].click()
    assert "⚠" not in _status(panel)
    relay.cut()  # the network goes away under the panel
    panel.buttons["explain"].click()
    assert "⚠" in _status(panel) and "connection" in _status(panel).lower()
    assert "Traceback" not in _status(panel)
    panel.url.value = "postgresql+psycopg://nobody:secret-pw@127.0.0.1:1/none"
    assert panel.url.value == "" and panel.url_secret.value  # moved out of sight as typed
    panel.connect_button.click()
    assert "⚠" in _status(panel) and "secret-pw" not in _status(panel)
    assert "secret-pw" not in panel.python.value
    assert panel.url_secret.value == "" and panel.url.value == ""  # not kept after a failure
    relay.restore()  # the network comes back: the next action works again
    panel.buttons["explain"].click()
    assert "⚠" not in _status(panel)
    assert len(inv.steps) == 2  # the investigation kept its steps


def test_capture_toggle_records_app_statements(
    panel: Workbench, embedded_session: wb.Session
) -> None:
    from sqlalchemy.orm import Session

    panel.buttons["capture"].click()
    assert panel.buttons["capture"].description == "Stop capture"
    with Session(embedded_session.engine) as db:
        wb.demo.app.list_users(db, per_page=10)
    assert panel.buttons["explain"].disabled  # nothing else runs while capturing
    panel.buttons["capture"].click()
    cap = panel.namespace["cap"]
    assert len(cap) >= 11 and not panel.buttons["explain"].disabled
    codes = {f.code for f in panel.state.findings or []}
    assert "n_plus_one" in codes


def test_params_must_be_json(panel: Workbench) -> None:
    panel.params.value = "{id: 3"
    panel.buttons["explain"].click()
    assert "params is not JSON" in _status(panel)


def test_background_actions_finish(embedded_session: wb.Session, tmp_path: Path) -> None:
    inv = wb.Investigation("bg", folder=tmp_path / "inv", session=embedded_session)
    panel = Workbench(
        embedded_session,
        investigation=inv,
        architect=wb.Architect(save_dir=tmp_path, on_text=lambda _: None),
        namespace={},
    )
    assert panel.stop_button.disabled  # nothing runs: nothing to stop
    panel.runs.value = 2_000_000
    panel.sql.value = "SELECT 1"
    panel.params.value = ""
    panel.buttons["profile"].click()
    assert panel.stop_button.disabled is False  # a long profile can be stopped
    assert panel.buttons["explain"].disabled and panel.buttons["capture"].disabled
    time.sleep(1.5)
    assert "Running profile" in _status(panel) and " s" in _status(panel)  # elapsed time
    assert "runs" in _status(panel)  # and runs done
    panel.stop()
    panel.wait(60)
    profiles = panel.state.profiles
    assert profiles and profiles[0].profile.interrupted
    assert "stopped after" in _status(panel) and "prof_1" in _status(panel)
    assert panel.buttons["explain"].disabled is False and panel.stop_button.disabled


@pytest.mark.parametrize("action", ["analyze", "profile"])
def test_stop_cancels_a_slow_statement_at_once(pg_url: str, tmp_path: Path, action: str) -> None:
    session = wb.connect(pg_url, timeout=60)
    inv = wb.Investigation("stop", folder=tmp_path / "inv", session=session)
    panel = Workbench(
        session,
        investigation=inv,
        sql="SELECT pg_sleep(20)",
        params="",
        architect=wb.Architect(save_dir=tmp_path, on_text=lambda _: None),
        namespace={},
    )
    panel.runs.value = 3
    panel.buttons[action].click()
    time.sleep(1.0)
    assert panel.stop_button.disabled is False  # every database action can be stopped
    started = time.monotonic()
    panel.stop()
    panel.wait(15)
    assert time.monotonic() - started < 5, "Stop waited for the statement to finish"
    assert "Stopped" in _status(panel) or "done" in _status(panel)
    assert "Traceback" not in _status(panel)
    assert session.query("SELECT 1 AS one").one.tolist() == [1]  # the session is usable
    assert (
        still_running(session, "SELECT pg_sleep(20)") == 0
    )  # cancelled on the server, not just abandoned


def test_the_widget_tree_uses_standard_controls(panel: Workbench) -> None:
    import ipywidgets as w

    def walk(widget: w.Widget) -> list[w.Widget]:
        children = getattr(widget, "children", ())
        return [widget, *[x for c in children for x in walk(c)]]

    kinds = {type(x).__module__.split(".")[0] for x in walk(panel.widget)}
    assert kinds == {"ipywidgets", "workbench"}  # standard controls, and the plan view
    views = [x for x in walk(panel.widget) if type(x).__module__.startswith("workbench")]
    assert {type(v).__name__ for v in views} == {"PlanView"}
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_the_architect_investigates_from_the_panel(
    embedded_session: wb.Session, tmp_path: Path
) -> None:
    import anthropic

    from .fake_anthropic import FakeAnthropic, Scripted

    fake = FakeAnthropic()
    sql = "SELECT id, status FROM orders WHERE user_id = :id"
    fake.script = [
        Scripted("Reading the plan.", [("explain", {"sql": sql, "params": {"id": 7}})]),
        Scripted("Measuring it.", [("profile", {"sql": sql, "params": {"id": 7}, "runs": 20})]),
        Scripted("And once more.", [("profile", {"sql": sql, "params": {"id": 7}, "runs": 20})]),
        Scripted("## Diagnosis\nA scan.", [("report_findings", {"findings": []})]),
    ]
    client = anthropic.Anthropic(api_key="sk-ant-test-0000000000", base_url=fake.url)
    inv = wb.Investigation("panel investigates", folder=tmp_path / "inv")
    panel = Workbench(
        embedded_session,
        investigation=inv,
        background=False,
        architect=wb.Architect(save_dir=tmp_path, client=client),
        sql=sql,
        params='{"id": 7}',
        namespace={},
    )
    try:
        panel.buttons["explain"].click()
        panel.agent.decisions = [True]  # Allow the first profile; nobody to ask for the second
        panel.agent.investigate_button.click()
    finally:
        fake.close()
    answer = panel.namespace["answer"]
    assert [(c.name, c.approved, c.ok) for c in answer.tool_calls] == [
        ("explain", None, True),
        ("profile", True, True),
        ("profile", False, None),
        ("report_findings", None, True),
    ]
    shown = panel.answer_html.value
    assert shown.count("wb-tool-call") == 3 and "[denied]" in shown and "Measuring it." in shown
    assert "arch.investigate(ev, approve=wb.prompt_approval)" in panel.python.value
    titles = [step.title for step in inv.steps]
    assert "Architect: profile" in titles and "Architect: profile denied" in titles
    assert titles[-1] == "Architect: answer"
    assert panel.agent.approval_box.layout.display == "none"
    assert not panel.agent.investigate_button.disabled


def test_the_panel_offers_the_project_agents(
    embedded_session: wb.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agents = tmp_path / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "dba.md").write_text("---\nname: dba\ndescription: d\n---\nYou are a DBA.\n")
    monkeypatch.chdir(tmp_path)
    panel = Workbench(embedded_session, background=False, namespace={})
    labels = [label for label, _ in panel.agent.persona.options]
    assert labels[0] == "backend-architect (shipped)" and "dba (project)" in labels
    panel.agent.persona.value = str(agents / "dba.md")
    assert panel.architect.persona.prompt == "You are a DBA."
    assert "now speaks as dba" in panel.answer_html.value


def test_an_endpoint_profiled_from_the_panel(embedded_session: wb.Session, tmp_path: Path) -> None:
    inv = wb.Investigation("endpoint", folder=tmp_path / "inv")
    panel = Workbench(embedded_session, investigation=inv, background=False, namespace={})
    panel.runs.value = 6
    with wb.demo.serve(embedded_session) as api:
        panel.endpoint.field.value = api.endpoint("/api/users?per_page=20")
        panel.endpoint.button.click()
        # the N+1 reaches the Findings tab from the server's own statement counts
        assert any(f.code == "n_plus_one" for f in panel.state.findings or [])
        panel.endpoint.field.value = api.endpoint("/api/users?per_page=20&eager=1")
        panel.endpoint.button.click()
        secret = "Bearer abcdefghijklmnopqrstuvwxyz0123"
        panel.endpoint.field.value = (
            f"curl '{api.endpoint('/api/users?per_page=5&eager=1')}' -H 'Authorization: {secret}'"
        )
        panel.endpoint.button.click()
    first, second = panel.namespace["prof_1"], panel.namespace["prof_2"]
    assert first.mode == "http" and first.repeated["count"].max() == 20  # the page's N+1
    assert second.repeated.empty
    assert "s.profile_http(" in panel.history[0] and "runs=6" in panel.history[0]
    # the same endpoint with another query string compares as one: eager loading is faster
    panel.compare_before.value, panel.compare_after.value = "prof_1", "prof_2"
    panel.buttons["compare"].click()
    comparison = panel.namespace["comparison"]
    assert comparison.faster and comparison.significant, comparison.verdict
    # a curl command's secret header stays in the notebook's variable, out of every line
    assert "curl=curl" in panel.history[2] and secret not in " ".join(panel.history)
    assert panel.namespace["curl"].endswith(f"'Authorization: {secret}'")
    assert secret not in inv.export(tmp_path / "r.html").read_text(encoding="utf-8")


def test_the_database_tab_checks_health_and_advises_indexes(panel: Workbench) -> None:
    panel.database.health_button.click()
    report = panel.namespace["report"]
    assert "duplicate_index" in {f.code for f in report}  # the demo's planted duplicate
    assert "events_user_idx" in panel.database.output.value
    assert panel.history[-1] == "report = s.health()"
    assert panel.investigation.steps[-1].title == "Database health"
    # the editor's statement has a placeholder: advise asks for values (or the workload)
    panel.database.advise_button.click()
    assert "without placeholders" in panel.database.output.value
    panel.sql.value = "SELECT id, status FROM orders WHERE user_id = 4242"
    panel.database.advise_button.click()
    advice = panel.namespace["advice"]
    assert [r.columns[0] for r in advice.recommendations] == ["user_id"]
    assert "CREATE INDEX" in panel.database.output.value
    assert panel.history[-1] == (
        "advice = s.advise(['SELECT id, status FROM orders WHERE user_id = 4242'])"
    )
    assert "user_id" not in str(panel.session.table("orders").indexes)  # rolled back


def test_a_panel_makes_its_investigation_folder_only_when_something_is_recorded(
    embedded_session: wb.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    panel = Workbench(embedded_session, background=False, namespace={})
    assert not (tmp_path / "investigations").exists()  # opened, nothing recorded yet
    panel.buttons["explain"].click()
    (folder,) = (tmp_path / "investigations").iterdir()
    assert len(wb.Investigation.load(folder)) == 1


def test_investigations_go_to_the_user_s_folder_when_the_notebook_s_cannot_be_written(
    embedded_session: wb.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebooks = tmp_path / "notebooks"  # where "investigations" is taken (read-only works alike)
    notebooks.mkdir()
    (notebooks / "investigations").write_text("not a folder")
    monkeypatch.chdir(notebooks)
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    inv = wb.Investigation("read-only notebooks", session=embedded_session)
    assert inv.folder.parent == tmp_path / "home" / "investigations"
    report = inv.export(inv.folder / "report.html")
    assert report.is_file() and "read-only notebooks" in report.read_text()
