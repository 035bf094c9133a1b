"""The public surface: complete, sorted, documented, and cheap to import."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import workbench as wb

ROOT = Path(__file__).resolve().parents[1]


def test_all_is_sorted_and_resolves() -> None:
    assert wb.__all__ == sorted(wb.__all__)
    for name in wb.__all__:
        assert getattr(wb, name) is not None, name


def test_every_lazy_name_is_exported() -> None:
    from workbench import _LAZY

    assert set(_LAZY) <= set(wb.__all__)


def test_every_public_name_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [n for n in wb.__all__ if not re.search(rf"\b{re.escape(n)}\b", readme)]
    assert not missing, f"README.md does not mention: {missing}"


def test_errors_share_one_root() -> None:
    errors = [getattr(wb, n) for n in wb.__all__ if n.endswith("Error")]
    assert all(issubclass(e, wb.WorkbenchError) for e in errors)
    assert issubclass(wb.QueryTimeoutError, wb.QueryError)


def test_import_is_light() -> None:
    code = (
        "import sys, json, workbench; print(json.dumps(sorted(m for m in ('pandas', "
        "'sqlalchemy', 'numpy', 'sqlglot', 'anthropic', 'matplotlib', 'psycopg', 'duckdb', "
        "'typing', 'mcp', 'httpx') "
        "if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_readme_quickstart_is_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^\s*(make \w+)\s*$", quickstart, flags=re.M)
    assert commands == ["make lab", "make test"]
