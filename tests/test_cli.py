"""The ``workbench`` command: every subcommand on real databases, exit codes, clean errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import workbench as wb
from workbench.cli import main

from .fake_anthropic import FakeAnthropic, Scripted

COMMANDS = (
    "lab",
    "demo",
    "explain",
    "profile",
    "analyze",
    "report",
    "check",
    "investigate",
    "mcp",
    "workshop",
    "workshop-report",
)


@pytest.fixture
def shop(sqlite_url: str) -> str:
    """A SQLite database with an unindexed ``orders.user_id``."""
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)"))
        conn.execute(
            text(
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER "
                "REFERENCES users(id), total INTEGER)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO orders (user_id, total) SELECT i % 500, i FROM (WITH RECURSIVE "
                "r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 20000) SELECT i FROM r)"
            )
        )
    engine.dispose()
    return sqlite_url


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out
    assert "exit codes" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples_and_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"workbench {command}" in out
    assert "exit codes:" in out and "2  bad usage or an error" in out


def test_no_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2


# -- explain, profile, analyze --------------------------------------------------------------------
def test_explain_prints_the_tree_or_the_model_as_json(
    shop: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = "SELECT * FROM orders WHERE user_id = 42"
    assert main(["explain", shop, sql]) == 0
    out = capsys.readouterr().out
    assert "SCAN on orders" in out and "sqlite" in out
    assert main(["explain", shop, sql, "--analyze", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["analyzed"] is True and plan["total_time_ms"] > 0
    root = plan["nodes"][0]
    assert root["operation"].startswith("SCAN") and root["relation"] == "orders"
    assert root["actual_rows"] == 40 and root["exclusive_time_ms"] > 0


def test_url_comes_from_url_option_or_database_url(
    shop: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", "--url", shop, "SELECT 1"]) == 0
    monkeypatch.setenv("DATABASE_URL", shop)
    assert main(["explain", "SELECT count(*) FROM orders"]) == 0
    assert "SCAN on orders" in capsys.readouterr().out


def test_sql_from_stdin_and_from_a_file(
    shop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    query = tmp_path / "q.sql"
    query.write_text("SELECT total FROM orders WHERE user_id = 7\n")
    assert main(["explain", shop, f"@{query}"]) == 0
    assert "SCAN on orders" in capsys.readouterr().out
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("SELECT id FROM users"))
    assert main(["explain", shop, "-"]) == 0
    assert "users" in capsys.readouterr().out


def test_errors_are_one_line_never_a_traceback(
    shop: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", "SELECT 1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: no database URL") and "DATABASE_URL" in err
    assert main(["explain", shop, "DELETE FROM orders", "--analyze"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: ") and "allow" in err and "Traceback" not in err
    assert main(["explain", shop, "SELECT * FROM missing_table"]) == 2
    assert "missing_table" in capsys.readouterr().err


def test_passwords_are_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://app:s3cret-pw@127.0.0.1:9/shop"
    assert main(["explain", url, "SELECT 1", "--timeout", "2"]) == 2
    captured = capsys.readouterr()
    assert "s3cret-pw" not in captured.err + captured.out
    assert captured.err.startswith("workbench: ")


def test_profile_prints_percentiles_or_json(shop: str, capsys: pytest.CaptureFixture[str]) -> None:
    sql = "SELECT * FROM orders WHERE user_id = :id"
    assert (
        main(["profile", shop, sql, "--runs", "30", "--warmup", "2", "--params", '{"id": 3}']) == 0
    )
    out = capsys.readouterr().out
    assert "30 runs" in out and "p99" in out
    assert main(["profile", shop, "SELECT 1", "--runs", "25", "--warmup", "0", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["runs"] == 25 and data["summary"]["p50"] > 0
    with pytest.raises(SystemExit) as info:  # argparse: not a JSON object
        main(["profile", shop, sql, "--params", "[1]"])
    assert info.value.code == 2 and "JSON object" in capsys.readouterr().err


def test_analyze_reports_offline_findings(shop: str, capsys: pytest.CaptureFixture[str]) -> None:
    sql = "SELECT * FROM orders WHERE user_id = 42"
    assert main(["analyze", shop, sql, "--analyze", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    codes = {f["code"] for f in data["findings"]}
    assert "missing_index" in codes and data["answer"] is None
    assert main(["analyze", shop, sql, "--analyze", "--architect"]) == 0  # no key: the rules
    captured = capsys.readouterr()
    assert "ANTHROPIC_API_KEY" in captured.err and "missing_index" in captured.out
    assert main(["analyze", shop, sql, "--analyze", "--fail-on", "info"]) == 1
    assert main(["analyze", shop, "SELECT 1", "--fail-on", "info"]) == 0


def test_analyze_asks_the_architect_when_a_key_is_set(
    shop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = "SELECT * FROM orders WHERE user_id = 42"
    fake = FakeAnthropic()
    try:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-cli-canary")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))  # where the evidence is saved
        assert main(["analyze", shop, sql, "--analyze", "--architect", "--json"]) == 0
        out = capsys.readouterr().out
        data = json.loads(out)
        assert data["answer"]["markdown"] == fake.text and not data["answer"]["offline"]
        assert data["findings"][0]["source"] == "architect"
        assert "sk-ant-test-cli-canary" not in out
        fake.always = 401
        assert main(["analyze", shop, sql, "--architect"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("workbench: ") and "ANTHROPIC_API_KEY" in err
        assert "Traceback" not in err and "sk-ant-test-cli-canary" not in err
    finally:
        fake.close()


# -- report ---------------------------------------------------------------------------------------
def test_report_writes_an_investigation_folder(
    shop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = wb.connect(shop)
    inv = wb.Investigation("cli report", folder=tmp_path / "inv", session=s)
    inv.record(s.explain("SELECT * FROM orders WHERE user_id = 1", analyze=True))
    s.close()
    assert main(["report", str(inv.folder), str(tmp_path / "out.md")]) == 0
    assert "report:" in capsys.readouterr().out
    markdown = (tmp_path / "out.md").read_text()
    assert "SCAN on orders" in markdown and "](out_files/step001-plan.png)" in markdown
    assert main(["report", str(tmp_path / "nowhere"), str(tmp_path / "x.html")]) == 2
    assert "no investigation" in capsys.readouterr().err


# -- check ----------------------------------------------------------------------------------------
@pytest.mark.postgres
def test_check_fails_on_a_regression_and_passes_an_a_a_rerun(
    pg_url: str, table_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_engine(pg_url)
    index = f"{table_name}_k_idx"
    baseline = tmp_path / "baseline.json"
    sql = f"SELECT id, v FROM {table_name} WHERE k = 4242"
    args = ["check", pg_url, sql, "--baseline", str(baseline), "--runs", "200", "--warmup", "20"]
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE {table_name} (id int PRIMARY KEY, k int, v text)"))
            conn.execute(
                text(
                    f"INSERT INTO {table_name} SELECT i, i % 50000, md5(i::text) "
                    "FROM generate_series(1, 100000) i"
                )
            )
            conn.execute(text(f"CREATE INDEX {index} ON {table_name} (k)"))
            conn.execute(text(f"ANALYZE {table_name}"))
        assert main([*args[:4], str(tmp_path / "none.json")]) == 2  # no baseline yet
        assert "--save-baseline" in capsys.readouterr().err
        assert main([*args, "--save-baseline"]) == 0
        assert "baseline saved" in capsys.readouterr().out
        saved = json.loads(baseline.read_text())
        assert (
            saved["format"] == "workbench-baseline" and len(saved["profile"]["latency_ms"]) == 200
        )

        # an A/A rerun: nothing changed, the check passes
        assert main(args) == 0
        assert capsys.readouterr().out.startswith("ok: ")

        with engine.begin() as conn:
            conn.execute(text(f"DROP INDEX {index}"))
        assert main([*args, "--json"]) == 1
        verdict = json.loads(capsys.readouterr().out)
        assert verdict["regressed"] is True and verdict["slowdown"] > 2
        assert verdict["delta_ms"] > verdict["min_delta_ms"] == 0.1
        assert "slower" in verdict["verdict"]
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table_name}"))
        engine.dispose()


def test_check_rejects_a_threshold_below_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["check", "sqlite://", "SELECT 1", "--baseline", "b.json", "--threshold", "0.5"])
    assert info.value.code == 2


# -- demo -----------------------------------------------------------------------------------------
@pytest.mark.embedded
def test_demo_writes_a_report(tmp_path: Path, embedded_session: object) -> None:
    report = tmp_path / "out" / "demo.html"
    done = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "demo", "--report", str(report), "--scale", "0.05"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    for code in ("missing_index", "n_plus_one", "sort_spill", "offset_pagination"):
        assert code in done.stdout
    assert "report:" in done.stdout
    page = report.read_text()
    assert "Content-Security-Policy" in page and "<script" not in page
    assert "missing_index" in page and "n_plus_one" in page
    assert page.count("class='wb-plan'") >= 9  # plan trees
    assert page.count('src="data:image/svg+xml;base64,') >= 20  # charts
    assert "Before/after" in page and "faster" in page
    assert (tmp_path / "out" / "demo-investigation" / "investigation.json").is_file()


def test_a_statement_with_a_url_in_it_is_not_taken_for_the_url(
    shop: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", shop)
    assert main(["explain", "SELECT 'http://example.com/x' AS link"]) == 0
    assert "SCAN" in capsys.readouterr().out


def test_bad_files_and_options_are_clear_errors(
    shop: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "investigation.json"
    for content in ("{bad", "{}", "[]"):
        broken.write_text(content)
        assert main(["report", str(broken), str(tmp_path / "r.html")]) == 2
        assert "not a readable investigation" in capsys.readouterr().err
    folder = tmp_path / "r.html"
    folder.mkdir()
    inv = wb.Investigation("t", folder=tmp_path / "inv")
    inv.note("a note")
    assert main(["report", str(tmp_path / "inv"), str(folder)]) == 2
    assert "is a directory" in capsys.readouterr().err
    baseline = tmp_path / "b.json"
    with pytest.raises(SystemExit) as exit_:
        main(["check", shop, "SELECT 1", "--baseline", str(baseline), "--min-delta-ms", "nan"])
    assert exit_.value.code == 2
    assert main(["explain", "mysql://root:CANARY9@127.0.0.1:1/x?connect_timeout=abc", "SELECT 1"])
    err = capsys.readouterr().err
    assert "URL's options" in err and "CANARY9" not in err and "Traceback" not in err


def test_writes_need_the_option_the_hint_names(
    shop: str, capsys: pytest.CaptureFixture[str]
) -> None:
    statement = "DELETE FROM orders WHERE user_id = 3"
    assert main(["profile", shop, statement, "--runs", "3", "--warmup", "0"]) == 2
    assert "--allow-writes" in capsys.readouterr().err
    assert main(["profile", shop, statement, "--runs", "3", "--warmup", "0", "--allow-writes"]) == 0
    assert main(["analyze", shop, statement, "--analyze", "--allow-writes"]) == 0
    rows = create_engine(shop).connect().execute(text("SELECT count(*) FROM orders")).scalar()
    assert rows == 20000  # every execution rolled back


def test_lab_outside_the_checkout_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["lab", "--no-browser"]) == 2
    assert "--notebook-dir" in capsys.readouterr().err


def test_check_compares_like_with_like(
    shop: str, pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "b.json"
    assert main(["check", shop, "SELECT 1", "--baseline", str(baseline), "--runs", "3"]) == 2
    assert "--runs 10 or more" in capsys.readouterr().err
    saved = ["check", shop, "SELECT 1", "--baseline", str(baseline), "--runs", "20"]
    assert main([*saved, "--save-baseline"]) == 0
    assert main(["check", pg_url, "SELECT 1", "--baseline", str(baseline), "--runs", "20"]) == 2
    assert "measured on sqlite, this database is postgresql" in capsys.readouterr().err


def test_investigate_with_the_tools_from_the_command_line(
    shop: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sql = "SELECT * FROM orders WHERE user_id = 42"
    fake = FakeAnthropic()
    fake.script = [
        Scripted("The plan first.", [("explain", {"sql": sql})]),
        Scripted("Now timing it.", [("profile", {"sql": sql})]),
        Scripted("## Diagnosis", [("report_findings", {"findings": []})]),
    ]
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-cli-000000000")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    try:
        code = main(
            ["investigate", shop, "why is it slow?", "--sql", sql, "--approve", "reads", "--json"]
        )
    finally:
        fake.close()
    assert code == 0
    answer = json.loads(capsys.readouterr().out)
    assert [(c["name"], c["approved"], c["ok"]) for c in answer["tool_calls"]] == [
        ("explain", None, True),
        ("profile", False, None),  # --approve reads: what executes is denied
        ("report_findings", None, True),
    ]
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    assert main(["investigate", shop, "why is it slow?", "--sql", sql]) == 0
    captured = capsys.readouterr()
    assert "Offline analysis" in captured.out and "CREATE INDEX" in captured.out
    assert "no ANTHROPIC_API_KEY" in captured.err


def test_a_persona_by_name_or_a_clear_error(
    shop: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    sql = "SELECT * FROM orders WHERE user_id = 42"
    assert main(["analyze", shop, sql, "--architect", "--persona", "nobody"]) == 2
    assert "no agent named 'nobody'" in capsys.readouterr().err
