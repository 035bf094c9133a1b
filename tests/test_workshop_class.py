"""A class on one PostgreSQL 15 server: ``workshop setup`` for three learners, the three
checking side by side, and the student notebook run top to bottom on a learner's database
with the reference solutions filled in.

Every scenario is checked here: its reference solution passes (learner one), ``SELECT 1`` and
the unchanged planted query fail (learner two), every recorded wrong answer fails (learner
three), all at once on one two-core machine.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy import create_engine, text

import workbench as wb
import workbench.demo.workshop as ws
from workbench.cli import main
from workbench.demo.workshop.result import CheckResult

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(pg_url: str) -> str:
    """The PostgreSQL 15 server, as the account that creates the class's databases."""
    return pg_url.rsplit("/", 1)[0] + "/postgres"


@pytest.fixture(scope="module")
def classroom(server: str) -> Iterator[ws.ClassSetup]:
    """Three learners who connect as a role of their own (not a superuser): it owns their
    databases and the demo tables, as on a hub."""
    prefix = f"wbt{uuid.uuid4().hex[:8]}"
    role = f"{prefix}_learner"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    try:
        yield ws.setup(server, learners=3, prefix=prefix, owner=role, progress=False)
    finally:
        ws.teardown(server, prefix=prefix)
        with admin.connect() as conn:
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def test_setup_clones_a_database_per_learner_from_one_template(
    server: str, classroom: ws.ClassSetup, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = classroom.template.removesuffix("_template")
    assert [d.database for d in classroom.learners] == [f"{prefix}_{n}" for n in ("01", "02", "03")]
    assert classroom.created == 3 and classroom.scale == ws.DEFAULT_SCALE
    assert classroom.seconds < 60, classroom.seconds
    engine = create_engine(server)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT datname, datistemplate, datallowconn FROM pg_database "
                "WHERE datname LIKE :p ORDER BY datname"
            ),
            {"p": f"{prefix}%"},
        ).all()
    engine.dispose()
    assert [r[0] for r in rows] == [*(d.database for d in classroom.learners), classroom.template]
    assert rows[-1][1:] == (True, False)  # the template: clonable, closed to connections
    for learner in classroom.learners:
        with wb.connect(learner.url) as s:
            assert wb.demo.is_loaded(s) and s.query("SELECT count(*) AS n FROM users").n[0] > 0
            assert s.query("SELECT 1 AS x FROM pg_extension WHERE extname = 'pg_trgm'").x[0] == 1
            who = s.query(
                "SELECT current_user AS u, usesuper AS su FROM pg_user WHERE usename = current_user"
            )
            assert who.u[0] == f"{prefix}_learner" and not who.su[0]
    # setting up again keeps what is there (seconds, nothing reloaded), and says it in JSON
    role = f"{prefix}_learner"
    command = ["workshop", "setup", server, "--learners", "3", "--prefix", prefix, "--owner", role]
    assert main([*command, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert [d["created"] for d in again["learners"]] == [False, False, False]
    assert "@" in again["learners"][0]["url"] and again["seconds"] < 10


def _answers(learner: int) -> list[tuple[str, str, Callable[[ws.Scenario], Any]]]:
    """(scenario, label, answer of the bound scenario) for one learner's session."""
    cases: list[tuple[str, str, Callable[[ws.Scenario], Any]]] = []
    for sc in ws.SCENARIOS:
        if learner == 0:
            cases.append((sc.name, "reference", lambda b: b.solution))
        elif learner == 1:
            cases.append((sc.name, "SELECT 1", lambda b: "SELECT 1"))
            cases.append((sc.name, "unchanged", lambda b: b.planted if b.kind == "code" else b.sql))
            if sc.kind != "code":  # an answer the server refuses: said, not raised
                cases.append((sc.name, "broken", lambda b: "CREATE INDEX ON no_such_table (x)"))
        else:
            for i in range(len(sc.wrong_answers)):
                cases.append((sc.name, f"wrong {i}", lambda b, i=i: b.wrong_answers[i].answer))
    return cases


def test_three_learners_check_side_by_side(classroom: ws.ClassSetup, tmp_path: Path) -> None:
    def learner(number: int) -> list[tuple[str, str, CheckResult, float]]:
        done = []
        with ws.connect(classroom.learners[number].url) as s:
            for name, label, answer in _answers(number):
                started = time.perf_counter()
                result = ws.check(s, name, answer(ws.scenario(name).bind(s)), record=False)
                done.append((name, label, result, time.perf_counter() - started))
                ws.record(result, directory=tmp_path, learner=f"learner{number + 1}")
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(3) as pool:
        reference, tries, wrong = pool.map(learner, range(3))
    wall = time.perf_counter() - started
    for name, label, result, _ in reference:
        assert result.passed, (name, label, result.message)
        assert result.right and not result.wrong and result.next
    for name, label, result, _ in tries + wrong:
        assert not result.passed, (name, label, result.message)
        assert result.wrong and result.next, (name, label)
    for name, _, result, _ in wrong:
        assert "a common mistake:" in result.wrong[-1], (name, result.message)
    for name, label, result, _ in tries:
        if label == "broken":
            said = result.wrong[0]
            assert "no_such_table" in said or "rewrite" in said, (name, result.message)
    speedups = {name: r.speedup for name, _, r, _ in reference if r.speedup}
    assert all(x >= ws.REQUIRED_SPEEDUP for x in speedups.values()), speedups
    slowest = max(seconds for *_, seconds in reference + tries + wrong)
    assert slowest < 30 and wall < 120, (slowest, wall)

    report = ws.report(tmp_path).to_frame()
    assert report.loc["learner1", "passed"] == len(ws.SCENARIOS)
    assert report.loc["learner2", "passed"] == 0 and report.loc["learner3", "passed"] == 0
    assert report.loc["learner2", "login_by_email"] == "✗3"  # SELECT 1, unchanged, broken


def test_the_notebook_runs_on_a_learner_database_with_the_reference_solutions(
    classroom: ws.ClassSetup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "results"
    monkeypatch.setenv("WORKBENCH_WORKSHOP_URL", classroom.learners[0].url)
    monkeypatch.setenv("WORKBENCH_WORKSHOP_DIR", str(results))
    monkeypatch.setenv("WORKBENCH_LEARNER", "ada")
    notebook = nbformat.read(ROOT / "notebooks" / "03-workshop.ipynb", as_version=4)
    for cell in notebook.cells:
        name = cell.metadata.get("workshop", {}).get("scenario")
        if name:  # the learner's answer cell, filled with the reference solution
            cell.source = f'answer = ws.scenario("{name}").bind(s).solution'
    work = tmp_path / "readonly"
    work.mkdir()
    work.chmod(0o555)  # the notebook folder is read-only: nothing may need to write there
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    try:
        client.execute()
    finally:
        work.chmod(0o755)
    outputs = json.dumps([c.get("outputs", []) for c in notebook.cells])
    assert "Traceback" not in outputs and '"output_type": "error"' not in outputs
    checks = [c for c in notebook.cells if c.source.startswith("ws.check(")]
    verdicts = [c.outputs[0]["data"]["text/plain"] for c in checks]
    assert len(verdicts) == len(ws.SCENARIOS)
    for verdict in verdicts:
        assert verdict.startswith("✅") and "passed" in verdict, verdict
    assert list(work.iterdir()) == []
    saved = json.loads((results / "ada.json").read_text())
    assert all(saved["scenarios"][sc.name]["passed"] for sc in ws.SCENARIOS)


def _databases(server: str, prefix: str) -> dict[str, str]:
    """The class databases whose names start with ``prefix``: name -> comment."""
    engine = create_engine(server)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE starts_with(datname, :p) ORDER BY datname"
            ),
            {"p": prefix},
        ).all()
    engine.dispose()
    return {str(name): str(comment) for name, comment in rows}


def test_teardown_drops_its_own_class_not_one_whose_prefix_starts_the_same(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = f"wbt{uuid.uuid4().hex[:8]}"
    other = f"{prefix}_b"  # LIKE 'prefix_%' matched it: _ is a wildcard, and both said the same
    try:
        for name in (prefix, other):
            command = ["workshop", "setup", server, "--learners", "1", "--prefix", name]
            assert main([*command, "--scale", "0.1", "--json"]) == 0
        capsys.readouterr()
        assert main(["workshop", "teardown", server, "--prefix", prefix]) == 0
        assert f"{prefix}_01, {prefix}_template" in capsys.readouterr().out
        left = _databases(server, prefix)
        assert list(left) == [f"{other}_01", f"{other}_template"]
        assert f"class {other} at scale 0.1" in left[f"{other}_01"]
        # a prefix that names no class (a typo, or only the start of one) says so
        assert main(["workshop", "teardown", server, "--prefix", prefix[:-1]]) == 0
        assert "nothing dropped" in capsys.readouterr().out
        assert list(_databases(server, prefix)) == [f"{other}_01", f"{other}_template"]
    finally:
        ws.teardown(server, prefix=other)
        ws.teardown(server, prefix=prefix)
    assert _databases(server, prefix) == {}


def test_teardown_still_drops_a_class_an_older_setup_made(server: str) -> None:
    """Before the comment named the class, it was the same for every class: the longest
    prefix with a template owns a database."""
    prefix = f"wbt{uuid.uuid4().hex[:8]}"
    made = [f"{prefix}_01", f"{prefix}_template", f"{prefix}_b_01", f"{prefix}_b_template"]
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in made:
                kind = "template" if name.endswith("_template") else "learner"
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                comment = (
                    f"workbench workshop: {kind} database (workbench workshop teardown drops it)"
                )
                conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{comment}'"))
            conn.execute(text(f'CREATE DATABASE "{prefix}_02"'))  # not setup's: no comment
        assert ws.teardown(server, prefix=prefix) == [f"{prefix}_01", f"{prefix}_template"]
        assert ws.teardown(server, prefix=f"{prefix}_b") == made[2:]
        assert list(_databases(server, prefix)) == [f"{prefix}_02"]
    finally:
        with admin.connect() as conn:
            for name in [*made, f"{prefix}_02"]:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_a_class_stays_on_one_scale(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = f"wbt{uuid.uuid4().hex[:8]}"
    command = ["workshop", "setup", server, "--prefix", prefix]

    def scales() -> dict[str, str]:
        found = {
            n: c.split(" at scale ")[1].split()[0] for n, c in _databases(server, prefix).items()
        }
        for name in found:
            if not name.endswith("_template"):  # the comment says what the data holds
                with wb.connect(f"{server.rsplit('/', 1)[0]}/{name}") as s:
                    loaded = s.query("SELECT scale FROM workbench_demo").scale[0]
                assert f"{loaded:g}" == found[name], name
        return found

    try:
        assert main([*command, "--learners", "1", "--scale", "0.1", "--json"]) == 0
        # another scale while learner 01 would stay at 0.1: refused before anything changes
        assert main([*command, "--learners", "2", "--scale", "0.2"]) == 2
        err = capsys.readouterr().err
        assert f"class {prefix} is set up at scale 0.1 ({prefix}_01), not 0.2" in err
        assert "--replace" in err and "teardown" in err
        assert scales() == {f"{prefix}_01": "0.1", f"{prefix}_template": "0.1"}
        # without --scale, the class keeps its own (not the default 0.2)
        assert main([*command, "--learners", "2", "--json"]) == 0
        done = json.loads(capsys.readouterr().out)
        assert done["scale"] == 0.1 and [d["created"] for d in done["learners"]] == [False, True]
        assert set(scales().values()) == {"0.1"}
        # --replace recreates them all at the new scale
        assert main([*command, "--learners", "2", "--scale", "0.2", "--replace", "--json"]) == 0
        done = json.loads(capsys.readouterr().out)
        assert [d["created"] for d in done["learners"]] == [True, True]
        assert set(scales().values()) == {"0.2"} and len(scales()) == 3
    finally:
        ws.teardown(server, prefix=prefix)
