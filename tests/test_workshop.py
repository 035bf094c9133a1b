"""The workshop's catalogue, answers, progress files, guide and notebook, without a server
(the checks themselves run on PostgreSQL in tests/test_workshop_class.py)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import workbench as wb
import workbench.demo.workshop as ws
from workbench.cli import main
from workbench.demo.workshop.answers import AnswerError, normalized, parse
from workbench.demo.workshop.classroom import database_name, learner_names, workshop_scale
from workbench.demo.workshop.result import CheckResult
from workbench.demo.workshop.rows import same_rows
from workbench.errors import ConfigurationError, EmbeddedServerError
from workbench.execution import Result
from workbench.guard import split_statements

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "03-workshop.ipynb"

# one chapter per topic the issue lists, in words its chapter title uses
TOPICS = (
    "Functions in WHERE",
    "leading wildcard",
    "Ranges on dates",
    "Multi-column",
    "Index-only",
    "ORDER BY with LIMIT",
    "keyset",
    "GROUP BY",
    "Joins",
    "extended statistics",
    "spill",
    "N+1",
    "writes",
)


def test_at_least_twelve_scenarios_one_per_topic_each_complete() -> None:
    names = [sc.name for sc in ws.SCENARIOS]
    assert len(names) >= 12 and len(set(names)) == len(names)
    for topic in TOPICS:
        assert sum(topic in sc.chapter for sc in ws.SCENARIOS) == 1, topic
    for sc in ws.SCENARIOS:
        assert sc.chapter and sc.title and sc.story and sc.task and sc.sql and sc.explanation
        assert sc.solution and len(sc.hints) >= 3 and sc.wrong_answers and sc.objectives
        assert 5 <= sc.minutes <= 20
        assert all(w.why for w in sc.wrong_answers)
    assert {sc.kind for sc in ws.SCENARIOS} == {"speed", "estimate", "spill", "write_cost", "code"}
    assert callable(ws.scenario("api_users_n_plus_one").solution)
    assert "Seq Scan" in ws.PRIMER and "estimated" in ws.PRIMER
    with pytest.raises(ConfigurationError, match="no workshop scenario"):
        ws.scenario("nope")


def _statements(sql: str) -> list[str]:
    return [normalized(p) for p in split_statements(sql, "postgresql")]


def test_hints_lead_to_the_answer_without_giving_it() -> None:
    for sc in ws.SCENARIOS:
        if not isinstance(sc.solution, str):
            assert "selectinload(User.orders)" not in " ".join(sc.hints)
            continue
        changes = [p for p in _statements(sc.solution) if not p.startswith("select")]
        text = normalized(" ".join(sc.hints))
        for statement in changes or _statements(sc.solution):
            assert statement not in text, (sc.name, statement)


def test_the_student_notebook_holds_no_solution_and_an_answer_cell_per_scenario() -> None:
    notebook = json.loads(NOTEBOOK.read_text())
    sources = ["".join(c["source"]) for c in notebook["cells"]]
    code = normalized("\n".join(sources))
    for sc in ws.SCENARIOS:
        if isinstance(sc.solution, str):
            for statement in _statements(sc.solution):
                if statement != normalized(sc.sql):  # the planted query may be shown
                    assert statement not in code, (sc.name, statement)
    assert "selectinload" not in code and "joinedload" not in code
    answers = [
        c["metadata"]["workshop"]["scenario"]
        for c in notebook["cells"]
        if "answer" in c.get("metadata", {}).get("tags", [])
    ]
    assert answers == [sc.name for sc in ws.SCENARIOS]
    checks = [s for s in sources if s.startswith("ws.check(")]
    assert len(checks) == len(ws.SCENARIOS)


def test_the_instructor_guide_is_the_committed_one_and_covers_every_scenario() -> None:
    guide = ws.instructor_guide()
    assert (ROOT / "docs" / "workshop-instructor.md").read_text() == guide, (
        "regenerate: workbench workshop guide -o docs/workshop-instructor.md"
    )
    for sc in ws.SCENARIOS:
        section = guide.split(f"`{sc.name}` · ")[1].split("\n## ")[0]
        assert "**Objectives.**" in section and "**Solution.**" in section
        assert "Why it fails:" in section and f"about {sc.minutes} minutes" in section
        for wrong in sc.wrong_answers:
            assert wrong.why in section


def test_answers_are_read_named_uniquely_and_limited_to_what_a_fix_is() -> None:
    parsed = parse(
        "create index concurrently ix on users (lower(email)); "
        "CREATE STATISTICS (dependencies) ON a, b FROM t; ANALYZE t; "
        "SET work_mem TO '64MB'; SELECT 1",
        token="t0",
    )
    assert parsed.ddl == [
        "create index ix_wbt0 on users (lower(email))",
        "CREATE STATISTICS stats_wbt0_2 (dependencies) ON a, b FROM t",
        "ANALYZE t",
    ]
    assert parsed.settings == {"work_mem": "64MB"} and parsed.query == "SELECT 1"
    assert parsed.notes and "CONCURRENTLY" in parsed.notes[0]
    assert (
        parse("CREATE INDEX ON orders (user_id)", token="a").ddl
        != parse("CREATE INDEX ON orders (user_id)", token="b").ddl
    )
    for refused, words in (
        ("DROP TABLE users", "does not DROP"),
        ("DELETE FROM users", "does not DELETE"),
        ("SELECT 1; SELECT 2", "two queries"),
        ("CREATE EXTENSION dblink", "not one a workshop answer needs"),
        ("SET work_mem = '64GB'", "more than one sort should get"),
        ("SET statement_timeout = 0", "the workbench's to set"),
    ):
        with pytest.raises(AnswerError, match=words):
            parse(refused, token="x")
    assert normalized("SELECT  id FROM t;  -- c") == normalized("select id from t")
    assert normalized("WHERE a = 'X'") != normalized("WHERE a = 'x'")


def _result(columns: list[str], rows: list[tuple[object, ...]]) -> Result:
    from workbench.guard import classify

    return Result(columns, rows, len(rows), 0.0, classify("SELECT 1"))


def test_rows_are_compared_as_values_in_order_only_when_order_is_the_point() -> None:
    want = _result(["id", "n"], [(1, Decimal("2")), (2, 3.0)])
    assert same_rows(want, _result(["a", "b"], [(2, 3), (1, 2)]), ordered=False) == (True, "")
    same, why = same_rows(want, _result(["a", "b"], [(2, 3), (1, 2)]), ordered=True)
    assert not same and "another order" in why
    same, why = same_rows(want, _result(["x"], [(1,)]), ordered=False)
    assert not same and "1 column (x)" in why and "2 columns (id, n)" in why
    same, why = same_rows(want, _result(["a", "b"], [(1, 2), (2, 4)]), ordered=True)
    assert not same and "1 of 2 rows differ" in why and "row 2" in why
    same, why = same_rows(want, _result(["a", "b"], []), ordered=False)
    assert not same and "0 rows" in why


def test_a_check_without_an_answer_or_off_postgresql_says_so_and_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_WORKSHOP_DIR", str(tmp_path))
    s = wb.connect("sqlite://")
    for answer in (None, "", "  -- my idea\n"):
        result = ws.check(s, "login_by_email", answer)
        assert not result.passed and not result.answered and result.wrong == ["no answer yet"]
    result = ws.check(s, "login_by_email", "SELECT 1")
    assert not result.passed and "PostgreSQL" in result.wrong[0] and "connect" in result.next
    assert "❌ login_by_email: not yet" in repr(result) and "wb-check" in result._repr_html_()
    assert list(tmp_path.iterdir()) == []


def test_progress_is_one_file_per_learner_and_the_report_reads_the_class(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws.record(
        CheckResult("orders_of_a_day", False, wrong=["slow"]), directory=tmp_path, learner="ada"
    )
    ws.record(CheckResult("orders_of_a_day", True), directory=tmp_path, learner="ada")
    ws.record(CheckResult("big_sort", False), directory=tmp_path, learner="grace hopper")
    (tmp_path / "notes.json").write_text("[1, 2]")  # not a learner's file: left out, named
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [
        "ada.json",
        "grace_hopper.json",
        "notes.json",
    ]
    report = ws.report(tmp_path)
    frame = report.to_frame()
    assert frame.loc["ada", "orders_of_a_day"] == "✓" and frame.loc["ada", "passed"] == 1
    assert frame.loc["grace hopper", "big_sort"] == "✗1"
    assert frame.loc["grace hopper", "login_by_email"] == "·"
    summary = report.summary().set_index("scenario")
    assert summary.loc["orders_of_a_day"].tolist() == [1, 1, 2]
    saved = json.loads((tmp_path / "ada.json").read_text())
    assert saved["scenarios"]["orders_of_a_day"]["attempts"] == 2
    assert saved["scenarios"]["orders_of_a_day"]["first_passed_at"]
    assert ws.progress(directory=tmp_path, learner="ada").learners.keys() == {"ada"}
    assert report.unreadable == {"notes.json": "not a learner's results"}

    assert main(["workshop-report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 learner(s)" in out and "orders_of_a_day" in out and "passed 1/2" in out
    assert "notes.json: not a learner's results" in out
    assert main(["workshop", "report", str(tmp_path), "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["learners"]) == {"ada", "grace hopper"}
    (tmp_path / "empty").mkdir()
    assert main(["workshop-report", str(tmp_path / "empty")]) == 0
    assert "no results" in capsys.readouterr().out


def test_the_guide_command_writes_the_guide(tmp_path: Path) -> None:
    target = tmp_path / "guide.md"
    assert main(["workshop", "guide", "-o", str(target)]) == 0
    assert target.read_text() == ws.instructor_guide()
    assert main(["workshop"]) == 2  # an action is needed


def test_class_names_and_scale() -> None:
    assert learner_names(3) == ["01", "02", "03"] and learner_names(120)[0] == "001"
    assert learner_names(["Ada L.", "grace"]) == ["ada_l", "grace"]
    assert database_name("workshop", "ada") == "workshop_ada"
    for bad in (lambda: learner_names(["a", "A"]), lambda: database_name("1x", "a")):
        with pytest.raises(ConfigurationError):
            bad()
    assert workshop_scale() == ws.DEFAULT_SCALE
    with pytest.raises(ConfigurationError, match=r"0\.1 or more"):
        workshop_scale(0.02)


def test_the_workshop_says_when_postgresql_cannot_start_instead_of_using_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench import embedded

    def refuse(self: object, database: str = "postgres") -> str:
        raise EmbeddedServerError("initdb failed: no space left")

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    monkeypatch.delenv("WORKBENCH_WORKSHOP_URL", raising=False)
    monkeypatch.setattr(embedded.EmbeddedPostgres, "url", refuse)
    with pytest.raises(EmbeddedServerError, match="needs PostgreSQL") as info:
        ws.connect()
    assert "no SQLite fallback" in (info.value.hint or "")
    assert not list(tmp_path.glob("*.sqlite"))


def test_hints_reveal_one_at_a_time() -> None:
    widget = ws.hints("deep_pages")
    button, shown = widget.children
    assert shown.value == "" and button.description == "Show hint 1 of 3"
    button.click()
    assert "Hint 1." in shown.value and "Hint 2." not in shown.value
    button.click()
    button.click()
    assert "Hint 3." in shown.value and button.disabled
    assert ws.scenario("deep_pages").solution not in shown.value


def test_results_go_to_the_learners_own_folder_when_the_class_folder_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "blocked").write_text("a file where the class folder should be")
    monkeypatch.setenv("WORKBENCH_WORKSHOP_DIR", str(tmp_path / "blocked" / "results"))
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WORKBENCH_LEARNER", "linus")
    with pytest.warns(wb.WorkbenchWarning, match="cannot be written") as said:
        path = ws.record(CheckResult("big_sort", True))
    assert path == tmp_path / "home" / "workshop" / "linus.json"
    message = str(said[0].message)  # where they went instead, and why
    assert str(tmp_path / "home" / "workshop") in message and "Not a directory" in message
    assert "instructor" in message
    ws.record(CheckResult("big_sort", True))  # said once per process, not at every check
    assert ws.progress().learners["linus"]["big_sort"]["passed"] is True


def test_a_class_setup_on_a_server_that_is_not_postgresql_is_refused_in_words(
    capsys: pytest.CaptureFixture[str],
) -> None:
    urls = (
        "mysql://root@127.0.0.1:3306/mysql",  # the MySQLdb driver is not even installed
        "mysql+pymysql://root@127.0.0.1:3306/mysql",
        "sqlite://",
        "duckdb://",
        "garbage",
    )
    for url in urls:
        for command in (["setup", url, "--learners", "2"], ["teardown", url]):
            assert main(["workshop", *command]) == 2, command
            err = capsys.readouterr().err
            assert "needs a PostgreSQL server" in err and "Traceback" not in err, err


def test_the_report_of_a_folder_that_does_not_exist_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "resluts"
    for command in (["workshop-report", str(missing)], ["workshop", "report", str(missing)]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert f"{missing} does not exist" in err and "WORKBENCH_WORKSHOP_DIR" in err
    monkeypatch.setenv("WORKBENCH_WORKSHOP_DIR", str(missing))  # the default folder, too
    with pytest.raises(ConfigurationError, match="does not exist"):
        ws.report()
    assert not missing.exists()  # reading the class's progress creates nothing
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigurationError, match="is not a folder"):
        ws.report(tmp_path / "file")


def test_an_unreadable_results_file_is_named_and_moved_aside_not_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws.record(CheckResult("big_sort", True), directory=tmp_path, learner="grace")
    broken = '{"learner": "ada", "scenarios": {"big_sort": {"passed": tr'  # cut short
    (tmp_path / "ada.json").write_text(broken)
    (tmp_path / "linus.json").write_bytes(b"\xff\xfe not text")
    (tmp_path / ".wb-half-written.json").write_text("{")  # record's temporary file: not named

    report = ws.report(tmp_path)
    assert set(report.learners) == {"grace"}
    assert set(report.unreadable) == {"ada.json", "linus.json"}
    assert report.unreadable["ada.json"].startswith("not JSON")
    assert "ada.json" in report._repr_html_()
    assert main(["workshop-report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 file(s) could not be read" in out and "ada.json: not JSON" in out
    assert main(["workshop-report", str(tmp_path), "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["unreadable"]) == {"ada.json", "linus.json"}

    with pytest.warns(wb.WorkbenchWarning, match=r"ada\.json could not be read") as said:
        ws.record(CheckResult("orders_of_a_day", False), directory=tmp_path, learner="ada")
    (aside,) = tmp_path.glob("ada.json.unreadable-*")
    assert aside.read_text() == broken and aside.name in str(said[0].message)
    saved = json.loads((tmp_path / "ada.json").read_text())
    assert list(saved["scenarios"]) == ["orders_of_a_day"]
    assert set(ws.report(tmp_path).learners) == {"ada", "grace"}
