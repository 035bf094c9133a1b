"""The embedded default: a real PostgreSQL 18, shared by kernels, with a SQLite fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import workbench as wb
from workbench import embedded

PROBE = """
import json, workbench as wb
s = wb.demo.connect(scale={scale})
row = s.query("SELECT pg_postmaster_start_time()::text AS started, "
              "current_setting('data_directory') AS datadir, "
              "(SELECT count(*) FROM users) AS users").iloc[0]
print(json.dumps({{k: str(v) for k, v in row.items()}}))
"""


def _probe(home: Path | None, scale: float = 1.0) -> dict[str, str]:
    env = dict(os.environ)
    if home is not None:
        env["WORKBENCH_HOME"] = str(home)
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(scale=scale)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _postgres_running_on(datadir: Path) -> bool:
    import psutil

    for proc in psutil.process_iter(attrs=["name", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if proc.info.get("name") == "postgres" and str(datadir) in " ".join(cmdline):
            return True
    return False


def test_default_connect_is_postgres_18_with_the_demo(embedded_session: wb.Session) -> None:
    s = embedded_session
    assert s.dialect == "postgresql" and s.server.version_info[0] == 18
    counts = s.query(
        "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM orders) AS orders"
    ).iloc[0]
    assert counts.users == 100_000 and counts.orders == 400_000
    assert "embedded" in (s.label or "")


def test_one_server_for_several_kernels(embedded_session: wb.Session) -> None:
    ours = embedded_session.query(
        "SELECT pg_postmaster_start_time()::text AS started, "
        "current_setting('data_directory') AS datadir"
    ).iloc[0]
    other = _probe(None)
    assert other["started"] == ours.started and other["datadir"] == ours.datadir
    # the other kernel exiting does not stop the server we still use
    assert embedded_session.query("SELECT 1 AS one").one.tolist() == [1]


@pytest.mark.slow
def test_first_use_initialises_loads_and_stops_cleanly(tmp_path: Path) -> None:
    home = tmp_path / "home"
    started = time.monotonic()
    first = _probe(home, scale=0.01)
    assert int(first["users"]) == 1_000
    assert Path(first["datadir"]) == (home / "pg18").resolve()
    first_seconds = time.monotonic() - started
    # the last process using the server stopped it on exit
    deadline = time.monotonic() + 10
    while _postgres_running_on(home / "pg18") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _postgres_running_on(home / "pg18")
    # reused across runs: the data directory and the loaded data survive
    started = time.monotonic()
    second = _probe(home, scale=0.01)
    assert second["users"] == "1000"
    assert time.monotonic() - started < first_seconds
    assert (home / "pg18" / "PG_VERSION").read_text().strip() == "18"


def test_fallback_to_sqlite_is_announced_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cannot_start(self: embedded.EmbeddedPostgres) -> None:
        raise wb.EmbeddedServerError("no PostgreSQL on this platform")

    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    monkeypatch.setattr(embedded.EmbeddedPostgres, "start", cannot_start)
    monkeypatch.setattr(embedded, "_fallback_announced", False)
    with pytest.warns(wb.WorkbenchWarning, match="using SQLite"):
        s = wb.demo.connect(scale=0.01)
    assert s.dialect == "sqlite"
    assert s.query("SELECT count(*) AS n FROM users").n.tolist() == [1_000]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = wb.demo.connect(scale=0.01)  # said once per process
    assert again.dialect == "sqlite"


def test_workbench_home_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "x"))
    assert embedded.workbench_home() == tmp_path / "x"
    monkeypatch.delenv("WORKBENCH_HOME")
    assert "workbench" in str(embedded.workbench_home())
