"""The notebook panel's logic, without a kernel: buttons clicked, widget values read."""

from __future__ import annotations

import contextlib
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
    )


def _status(panel: Workbench) -> str:
    return panel.status.value


def test_explain_analyze_shows_the_tree_and_its_python(panel: Workbench) -> None:
    panel.buttons["analyze"].click()
    assert "wb-plan" in panel.plan_html.value and "Seq Scan" in panel.plan_html.value
    assert "s.explain(" in panel.python.value and "analyze=True" in panel.python.value
    assert panel.node_select.options
    assert "exclusive_time_ms" in panel.node_details.value  # the hot node's details
    assert [s.kind for s in panel.investigation.steps] == ["plan"]
    assert "missing_index" in " ".join(c.value for c in _findings_html(panel))
    assert "<evidence" in panel.evidence_html.value.replace("&lt;", "<")


def _findings_html(panel: Workbench) -> list:  # type: ignore[type-arg]
    out = []
    for child in panel.findings_box.children:
        out.extend(child.children if hasattr(child, "children") else [child])
    return [c for c in out if hasattr(c, "value") and isinstance(c.value, str)]


def test_profile_compare_ask_and_try_fix(panel: Workbench) -> None:
    panel.runs.value = 15
    panel.buttons["profile"].click()
    assert len(panel.profiles) == 1 and len(panel.charts.children) == 4  # caption + 3 charts
    panel.buttons["compare"].click()
    assert "two profiles" in _status(panel)  # a readable refusal, not a crash
    panel.buttons["profile"].click()
    panel.buttons["compare"].click()
    assert "Before / after" not in _status(panel) and "⚠" not in _status(panel)
    panel.buttons["ask"].click()
    assert "Offline analysis" in panel.answer_html.value
    fixable = [i for i, f in enumerate(panel.findings) if f.fix_kind == "ddl"]
    assert fixable
    panel.try_fix(fixable[0])
    assert "rolled-back transaction" in panel.fix_result.value
    kinds = [s.kind for s in panel.investigation.steps]
    assert kinds.count("profile") == 2 and {"comparison", "answer", "fix"} <= set(kinds)
    assert "s.profile(" in panel.history_html.value


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
        assert "users" in panel.plan_html.value
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
    )
    panel.buttons["explain"].click()
    assert "⚠" not in _status(panel)
    relay.cut()  # the network goes away under the panel
    panel.buttons["explain"].click()
    assert "⚠" in _status(panel) and "connection" in _status(panel).lower()
    assert "Traceback" not in _status(panel)
    panel.connect("postgresql+psycopg://nobody:secret-pw@127.0.0.1:1/none")
    assert "⚠" in _status(panel) and "secret-pw" not in _status(panel)
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
    panel.buttons["capture"].click()
    assert len(panel.captures) == 1 and len(panel.captures[0]) >= 11
    codes = {f.code for f in panel.findings}
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
    )
    panel.runs.value = 100_000
    panel.sql.value = "SELECT 1"
    panel.params.value = ""
    panel.buttons["profile"].click()
    assert panel.stop_button.disabled is False  # a long profile can be stopped
    panel.stop()
    panel.wait(60)
    assert panel.profiles and panel.profiles[0].interrupted
    assert panel.buttons["explain"].disabled is False


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
    assert kinds == {"ipywidgets"}
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
