"""The ``workbench`` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("lab", "demo"):
        assert command in out


def test_no_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2


def test_demo_writes_a_report(tmp_path: Path, embedded_session: object) -> None:
    report = tmp_path / "out" / "demo.html"
    done = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "demo", "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "missing_index" in done.stdout
    html = report.read_text()
    assert "Content-Security-Policy" in html and "orders" in html
