"""Shared fixtures: real databases, a clean environment, CI strictness.

Server-backed tests skip on a newcomer's machine without the server and FAIL in CI (CI=true),
so a missing service can never turn a red run green.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get(
    "WORKBENCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB_URL = os.environ.get(
    "WORKBENCH_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Variables that would leak a real key, endpoint or database into a test.
_LEAKY_ENV = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "DATABASE_URL",
    "WORKBENCH_MODEL",
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _LEAKY_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def sessions_are_closed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every session a test opens with ``wb.connect`` is closed when the test ends (its pool,
    its warm profiling connections), so no test leaks server connections into the next.
    Fixtures of a wider scope are set up before this one and keep theirs."""
    import workbench
    import workbench.session

    opened: list[workbench.Session] = []
    real = workbench.session.connect

    def connect(*args: object, **kwargs: object) -> workbench.Session:
        session = real(*args, **kwargs)  # type: ignore[arg-type]
        opened.append(session)
        return session

    monkeypatch.setattr(workbench, "connect", connect)
    yield
    for session in opened:
        session.close()


def require(condition: bool, reason: str) -> None:
    """Skip when ``condition`` is false, except in CI, where that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI requires this: {reason}")
    pytest.skip(reason)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def pg_url() -> str:
    require(_port_open("127.0.0.1", 5432), "PostgreSQL on 127.0.0.1:5432")
    return _with_demo(PG_URL)


@pytest.fixture(scope="session")
def mariadb_url() -> str:
    require(_port_open("127.0.0.1", 3306), "MariaDB on 127.0.0.1:3306")
    return _with_demo(MARIADB_URL)


def _with_demo(url: str) -> str:
    """The shared servers hold the demo tables at a small scale, whichever test runs first
    (loading is idempotent: a second call finds them there)."""
    import workbench as wb

    wb.demo.load(url, scale=0.02)
    return url


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'test.sqlite'}"


@pytest.fixture
def duckdb_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"duckdb:///{tmp_path / 'test.duckdb'}"


ENGINES = ("postgresql", "mariadb", "sqlite", "duckdb")

# the Debian Chromium the browser tests drive (never a downloaded one), and where they leave
# screenshots for a red CI run
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(params=ENGINES)
def any_url(request: pytest.FixtureRequest) -> str:
    """One URL per engine the guard must protect."""
    name = {
        "postgresql": "pg_url",
        "mariadb": "mariadb_url",
        "sqlite": "sqlite_url",
        "duckdb": "duckdb_url",
    }[request.param]
    return str(request.getfixturevalue(name))


@pytest.fixture
def table_name() -> str:
    """A fresh table name, so tests on the shared servers never collide."""
    return f"wbt_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def scratch_table(any_url: str, table_name: str) -> Iterator[tuple[str, str]]:
    """A table with 10 rows on each engine; dropped afterwards."""
    from sqlalchemy import create_engine, text

    engine = create_engine(any_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table_name} (id INTEGER PRIMARY KEY, v INTEGER)"))
        conn.execute(
            text(
                f"INSERT INTO {table_name} (id, v) VALUES "
                + ", ".join(f"({i}, {i * 10})" for i in range(1, 11))
            )
        )
    try:
        yield any_url, table_name
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table_name}"))
        engine.dispose()


@pytest.fixture(scope="session")
def embedded_session():  # type: ignore[no-untyped-def]
    """The default session: embedded PostgreSQL 18 with the demo data (loaded once, reused)."""
    import workbench as wb

    session = wb.connect()
    require(session.dialect == "postgresql", "the embedded PostgreSQL (got the SQLite fallback)")
    yield session
    session.close()


def still_running(session, sql: str, *, wait_s: float = 5.0) -> int:  # type: ignore[no-untyped-def]
    """How many server sessions of PostgreSQL still run ``sql`` once up to ``wait_s`` has given a
    cancel time to land (0: cancelled on the server, not just abandoned by the client)."""
    import time

    activity = "SELECT count(*) AS n FROM pg_stat_activity WHERE query = :sql AND state = 'active'"
    deadline = time.monotonic() + wait_s
    while session.query(activity, params={"sql": sql}).n[0] and time.monotonic() < deadline:
        time.sleep(0.1)
    return int(session.query(activity, params={"sql": sql}).n[0])
