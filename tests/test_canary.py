"""A unique password and a unique parameter value go through everything a person does in a
real kernel (connect, failing queries under ``%xmode Verbose``, plans, profiles, captures,
evidence, an investigation and every export), and neither is found anywhere afterwards: not in
a cell's output, not in a file the workbench wrote."""

from __future__ import annotations

import json
import shutil
import textwrap
import uuid
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import CHROMIUM, require

PASSWORD = f"PwCanary{uuid.uuid4().hex[:10]}"
VALUE = f"value-canary-{uuid.uuid4().hex[:10]}@example.com"

CELLS = [
    "%xmode Verbose\nimport os\nimport workbench as wb",
    # a connection that fails, as a person would see it...
    "wb.connect(os.environ['WB_CANARY_BAD_URL'])",
    # ...and with the workbench's internals shown: the frames hold no URL as text
    "os.environ['WORKBENCH_TRACEBACKS'] = '1'\nwb.connect(os.environ['WB_CANARY_BAD_URL'])",
    "del os.environ['WORKBENCH_TRACEBACKS']\n"
    "s = wb.connect(os.environ['WB_CANARY_URL'])  # trust auth: any password connects\n"
    "print(s, s.url, repr(s.engine))\ns",
    "s.query('SELECT CAST(:v AS integer)', params={'v': os.environ['WB_CANARY_VALUE']})",
    "s.query(\"INSERT INTO users (email) VALUES (:v)\", params={'v': os.environ['WB_CANARY_VALUE']})",
    textwrap.dedent(
        """
        sql = "SELECT id, email FROM users WHERE email = :v"
        params = {"v": os.environ["WB_CANARY_VALUE"]}
        plan = s.explain(sql, params=params, analyze=True)
        prof = s.profile(sql, params=params, runs=20, warmup=2)
        with s.capture() as cap:
            for _ in range(6):
                s.query(sql, params=params)
        ev = s.evidence(sql, plan=plan, profile=prof, capture=cap)
        findings = wb.analyze(ev)
        answer = wb.Architect(on_text=lambda _: None).analyze(ev)
        trial = s.try_fix("CREATE INDEX canary_email_idx ON users (email)", sql=sql, params=params)
        inv = wb.Investigation("canary", folder="inv", session=s)
        for step in (plan, prof, cap, ev, findings, answer, trial, prof.compare(prof)):
            inv.record(step)
        print(inv.export("report.html"), inv.export("report.md"))
        """
    ),
    "if os.environ.get('WB_CANARY_PDF'):\n    print(inv.export('report.pdf'))",
]


@pytest.mark.slow
def test_no_password_and_no_parameter_value_anywhere(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_url.replace("postgres@", f"postgres:{PASSWORD}@")
    monkeypatch.setenv("WB_CANARY_URL", url)
    monkeypatch.setenv("WB_CANARY_BAD_URL", url.replace(":5432", ":1"))
    monkeypatch.setenv("WB_CANARY_VALUE", VALUE)
    if shutil.which("chromium") or Path(CHROMIUM).exists():
        monkeypatch.setenv("WB_CANARY_PDF", "1")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = [c.get("outputs", []) for c in notebook.cells]
    text = json.dumps(outputs)
    # the cells did what they should: two failed connections, two refused/failed queries
    errors = [o for cell in outputs for o in cell if o.get("output_type") == "error"]
    assert [e["ename"] for e in errors] == [
        "ConnectionFailedError",
        "ConnectionFailedError",
        "QueryError",
        "UnsafeStatementError",
    ], text[:3000]
    assert "Traceback" in json.dumps(errors[1])  # the verbose one showed the internals
    assert "report.html" in text and "Traceback" not in json.dumps(outputs[6])
    for canary in (PASSWORD, VALUE):
        assert canary not in text, f"{canary} in a cell's output"
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "investigation.json" for p in written)
    assert any(p.suffix == ".md" for p in written) and any(p.suffix == ".html" for p in written)
    for path in written:
        data = path.read_bytes()
        for canary in (PASSWORD, VALUE):
            assert canary.encode() not in data, f"{canary} in {path.relative_to(tmp_path)}"
    require(any(p.suffix == ".pdf" for p in written), "Chromium for the PDF export")
