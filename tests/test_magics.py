"""The IPython magics, in a real InteractiveShell (no kernel needed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell

import workbench as wb


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "workbench")
    yield ip
    ip.user_ns.pop("s", None)


def test_connect_explain_profile_ask(
    shell: InteractiveShell, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    wb.demo.load(sqlite_url, scale=0.01)
    session = shell.run_line_magic("wb_connect", sqlite_url)
    assert shell.user_ns["s"] is session and session.dialect == "sqlite"
    frame = shell.run_cell_magic("wb_sql", "--save rows", "SELECT count(*) AS n FROM users")
    assert frame.n.tolist() == [1000] and shell.user_ns["rows"] is frame
    plan = shell.run_cell_magic(
        "explain", "--analyze --params '{\"id\": 3}'", "SELECT * FROM orders WHERE user_id = :id"
    )
    assert isinstance(plan, wb.Plan) and plan.analyzed and shell.user_ns["plan"] is plan
    figure = shell.run_cell_magic(
        "profile",
        "--runs 25 --warmup 2 --params '{\"id\": 3}'",
        "SELECT * FROM orders WHERE user_id = :id",
    )
    assert shell.user_ns["prof"].runs == 25 and figure.axes
    answer = shell.run_line_magic("wb_ask", '"why is it slow?"')
    assert answer.offline and shell.user_ns["answer"] is answer


def test_errors_are_messages_not_tracebacks(
    shell: InteractiveShell, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.user_ns.pop("s", None)
    assert shell.run_cell_magic("explain", "", "SELECT 1") is None
    assert "wb_connect" in capsys.readouterr().out
    shell.run_line_magic("wb_connect", sqlite_url)
    assert shell.run_cell_magic("wb_sql", "", "DELETE FROM t") is None
    assert "allow_writes" in capsys.readouterr().out


def test_options_are_checked_and_both_spellings_work(
    shell: InteractiveShell, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_line_magic("wb_connect", f"{sqlite_url} --timeout=5")
    assert shell.user_ns["s"].timeout == 5
    prof = shell.run_cell_magic("profile", "--runs=7 --warmup=0", "SELECT 1")
    assert prof is not None and shell.user_ns["prof"].runs == 7
    capsys.readouterr()
    for magic, line in (
        ("explain", "--analyse"),  # a typo must not quietly mean "no ANALYZE"
        ("profile", "--runs abc"),
        ("profile", "--runs"),
        ("explain", "--analyze=yes"),
        ("explain", "SELECT 2"),
        ("explain", '--params \'{"id": 1'),
    ):
        assert shell.run_cell_magic(magic, line, "SELECT 1") is None, line
        out = capsys.readouterr().out
        assert "⚠" in out and "Traceback" not in out, line
    assert shell.run_line_magic("wb_connect", "--timeout") is None
    assert "needs a value" in capsys.readouterr().out
