"""Every notebook runs top to bottom, with no API key, on the embedded default."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import MARIADB_URL, _port_open, require

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_five_notebooks() -> None:
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_committed_without_outputs(path: Path) -> None:
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(
    path: Path, tmp_path: Path, embedded_session: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    if path.name.startswith("05"):  # MariaDB only where the URL of a scratch database is given
        monkeypatch.setenv("WORKBENCH_MARIADB_URL", _scratch_mariadb())
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(path, work)
    notebook = nbformat.read(work / path.name, as_version=4)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    text = json.dumps([c.get("outputs", []) for c in notebook.cells])
    assert "Traceback" not in text
    if path.name.startswith("03"):  # the answers as committed (empty): every check fails politely
        verdicts = [
            c.outputs[0]["data"]["text/plain"]
            for c in notebook.cells
            if c.source.startswith("ws.check(")
        ]
        assert len(verdicts) >= 12
        assert all(v.startswith("❌") and "no answer yet" in v for v in verdicts), verdicts
    if path.name.startswith("02"):
        (folder,) = (work / "investigations").iterdir()
        report = (folder / "report.html").read_text()
        assert "faster" in text
        # a significant verdict, the learner's hypothesis and conclusion in the report
        assert "× faster (95% CI" in report and "The hypothesis holds" in report
        assert "Hypothesis" in report and "cannot show a difference at 95%" in text
    if path.name.startswith("05"):  # every engine compared, and the files it made removed
        assert "'mariadb'" in text and "MariaDB left out" not in text
        assert notebook.cells[-1].outputs[0]["data"]["text/plain"] == "False"


def _scratch_mariadb() -> str:
    from sqlalchemy import create_engine, text

    require(_port_open("127.0.0.1", 3306), "MariaDB on 127.0.0.1:3306")
    engine = create_engine(MARIADB_URL)
    with engine.begin() as connection:
        connection.execute(text("CREATE DATABASE IF NOT EXISTS workbench_notebook05"))
    engine.dispose()
    return MARIADB_URL.rsplit("/", 1)[0] + "/workbench_notebook05"
