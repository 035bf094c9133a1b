"""The IPython magics, in a real InteractiveShell (no kernel needed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
    assert "--allow-writes" in capsys.readouterr().out


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
    assert "expected one argument" in capsys.readouterr().out


def test_ask_follows_the_latest_evidence(
    shell: InteractiveShell, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    wb.demo.load(sqlite_url, scale=0.01)
    magics = shell.magics_manager.registry["WorkbenchMagics"]
    shell.run_line_magic("wb_connect", sqlite_url)
    shell.run_cell_magic("explain", "--analyze", "SELECT * FROM orders WHERE user_id = 3")
    first = shell.run_line_magic("wb_ask", '"why?"')
    again = shell.run_line_magic("wb_ask", '"and the index?"')
    assert magics.architect.evidence.sql == "SELECT * FROM orders WHERE user_id = 3"
    # a new plan, saved under another name: asked about, not the old one
    shell.run_cell_magic("explain", "--analyze --save users_plan", "SELECT * FROM users")
    shell.run_line_magic("wb_ask", '"and this?"')
    assert magics.architect.evidence.sql == "SELECT * FROM users"
    # a profile of another statement after it: only the profile goes in, not a mixed bundle
    shell.run_cell_magic("profile", "--runs 5 --warmup 0", "SELECT count(*) FROM products")
    shell.run_line_magic("wb_ask", "")
    evidence = magics.architect.evidence
    assert evidence.sql == "SELECT count(*) FROM products" and not evidence.plans
    assert first is not again
    # another persona: a new conversation in its voice (a path or a name in .claude/agents)
    agent = Path(sqlite_url.split("///")[1]).parent / "dba.md"
    agent.write_text("---\nname: dba\ndescription: d\n---\nYou are a DBA.\n")
    shell.run_line_magic("wb_ask", f'--persona {agent} "and as a DBA?"')
    assert magics.architect.persona.name == "dba"
    assert magics.architect.evidence.question == "and as a DBA?"


def test_magic_options_speak_the_magic_s_language(
    shell: InteractiveShell, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    wb.demo.load(sqlite_url, scale=0.01)
    shell.run_line_magic("wb_connect", sqlite_url)
    assert shell.run_cell_magic("wb_sql", "", "DELETE FROM orders") is None
    out = capsys.readouterr().out
    assert "add --allow-writes" in out and "allow_writes=True" not in out
    assert shell.run_cell_magic("wb_sql", "--allow-writes", "DELETE FROM orders") is not None
    assert shell.run_cell_magic("wb_sql", "", "SELECT count(*) AS n FROM orders").n[0] > 0
    assert shell.run_cell_magic("wb_sql", "--save s", "SELECT 1") is None
    assert "not a variable name" in capsys.readouterr().out
    assert isinstance(shell.user_ns["s"], wb.Session)
