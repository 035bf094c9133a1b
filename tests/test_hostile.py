"""Promises without holes: reproductions of a hostile or unlucky user's attempts, on the real
engines. Each checks the server afterwards: what the workbench promised not to change did not
change.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest
from sqlalchemy import create_engine, text

import workbench as wb

from .fake_anthropic import FakeAnthropic

CANARY = "Canary-Value-9d2e7"


def _count(s: wb.Session, table: str) -> int:
    return int(s.query(f"SELECT count(*) AS n FROM {table}").iloc[0, 0])


# -- MariaDB -------------------------------------------------------------------------------------
@pytest.fixture
def maria(mariadb_url: str) -> Iterator[tuple[wb.Session, Any, str]]:
    """An InnoDB table whose DELETE trigger logs into a MyISAM table, a procedure and a
    function that write the MyISAM table too, and a view over the InnoDB table."""
    p = f"wbh_{uuid.uuid4().hex[:8]}"
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", database="test")
    statements = [
        f"CREATE TABLE {p}_inno (id INT PRIMARY KEY, v INT) ENGINE=InnoDB",
        f"CREATE TABLE {p}_log (id INT) ENGINE=MyISAM",
        f"INSERT INTO {p}_inno SELECT seq, seq FROM seq_1_to_100",
        f"CREATE PROCEDURE {p}_proc(x INT) INSERT INTO {p}_log VALUES (x)",
        f"CREATE TRIGGER {p}_trg AFTER DELETE ON {p}_inno FOR EACH ROW "
        f"INSERT INTO {p}_log VALUES (OLD.id)",
        f"CREATE TRIGGER {p}_trg2 AFTER UPDATE ON {p}_inno FOR EACH ROW CALL {p}_proc(NEW.id)",
        f"CREATE FUNCTION {p}_f() RETURNS INT MODIFIES SQL DATA "
        f"BEGIN INSERT INTO {p}_log VALUES (0); RETURN 1; END",
        f"CREATE VIEW {p}_view AS SELECT id, v FROM {p}_inno",
    ]
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    conn.commit()
    s = wb.connect(mariadb_url)
    try:
        yield s, conn, p
    finally:
        with conn.cursor() as cur:
            for statement in (
                f"DROP VIEW IF EXISTS {p}_view",
                f"DROP TABLE IF EXISTS {p}_inno, {p}_log",
                f"DROP PROCEDURE IF EXISTS {p}_proc",
                f"DROP FUNCTION IF EXISTS {p}_f",
            ):
                cur.execute(statement)
        conn.commit()
        conn.close()


def test_a_trigger_writing_a_myisam_table_is_refused(maria: tuple[wb.Session, Any, str]) -> None:
    s, _conn, p = maria
    with pytest.raises(wb.UnsafeStatementError, match=rf"{p}_log.*trigger {p}_trg.*MyISAM"):
        s.explain(f"DELETE FROM {p}_inno WHERE id < 50", analyze=True, allow_writes=True)
    # the trigger calls a procedure that writes it: followed too; and through the view
    with pytest.raises(wb.UnsafeStatementError, match=rf"{p}_proc\(\)"):
        s.query(f"UPDATE {p}_inno SET v = 0 WHERE id = 1", allow_writes=True)
    with pytest.raises(wb.UnsafeStatementError, match=rf"under the view {p}_view.*trigger"):
        s.query(f"DELETE FROM {p}_view WHERE id = 1", allow_writes=True)
    with pytest.raises(wb.UnsafeStatementError, match="non-transactional"):
        s.profile(f"DELETE FROM {p}_inno WHERE id = 1", runs=3, warmup=0, allow_writes=True)
    assert _count(s, f"{p}_log") == 0 and _count(s, f"{p}_inno") == 100


def test_an_insert_no_trigger_reaches_still_runs(maria: tuple[wb.Session, Any, str]) -> None:
    s, _conn, p = maria
    plan = s.explain(f"INSERT INTO {p}_inno VALUES (1000, 1)", analyze=True, allow_writes=True)
    assert plan.nodes and _count(s, f"{p}_inno") == 100


def test_a_function_that_writes_needs_allow_writes_and_is_followed(
    maria: tuple[wb.Session, Any, str],
) -> None:
    s, _conn, p = maria
    for allow in (False, True):
        with pytest.raises(wb.UnsafeStatementError, match=rf"{p}_log \(written by {p}_f\(\)\)"):
            s.query(f"SELECT {p}_f()", allow_writes=allow)
    assert _count(s, f"{p}_log") == 0


@pytest.mark.parametrize(
    "statement",
    [
        "ANALYZE TABLE {t}",
        "OPTIMIZE TABLE {t}",
        "REPAIR TABLE {t}",
        "CHECK TABLE {t}",
        "FLUSH TABLES",
        "LOCK TABLES {t} WRITE",
        "UNLOCK TABLES",
        "CACHE INDEX {t} IN default",
        "GRANT SELECT ON {t} TO root",
    ],
)
def test_implicit_commits_are_writes_refused_everywhere(
    maria: tuple[wb.Session, Any, str], statement: str
) -> None:
    s, _conn, p = maria
    sql = statement.format(t=f"{p}_inno")
    with pytest.raises(wb.UnsafeStatementError, match="commits the open transaction"):
        s.query(sql)
    with pytest.raises(wb.UnsafeStatementError, match="commits the open transaction"):
        s.query(sql, allow_writes=True)


def test_analyze_table_cannot_commit_the_sandbox(maria: tuple[wb.Session, Any, str]) -> None:
    s, _conn, p = maria
    with s.sandbox() as tx:
        tx.execute(f"INSERT INTO {p}_inno VALUES (5000, 1)")
        with pytest.raises(wb.UnsafeStatementError, match="commits the open transaction"):
            tx.execute(f"ANALYZE TABLE {p}_inno")
    assert _count(s, f"{p}_inno") == 100


def test_mariadb_timeouts_and_locks_are_the_workbenchs(maria: tuple[wb.Session, Any, str]) -> None:
    s, _conn, _p = maria
    for name in ("max_statement_time", "lock_wait_timeout", "innodb_lock_wait_timeout"):
        with pytest.raises(wb.ConfigurationError, match="timeout="):
            s.query("SELECT 1", settings={name: "0"})
    with pytest.raises(wb.UnsafeStatementError):
        s.query("SET STATEMENT max_statement_time=0 FOR SELECT SLEEP(5)")
    started = time.monotonic()
    with pytest.raises(wb.QueryTimeoutError):
        s.query("SELECT SLEEP(5)", timeout=0.5)
    assert time.monotonic() - started < 4


def test_a_lock_wait_says_so_and_names_the_holder(maria: tuple[wb.Session, Any, str]) -> None:
    s, conn, p = maria
    with conn.cursor() as cur:  # another session holds the row
        cur.execute("BEGIN")
        cur.execute(f"UPDATE {p}_inno SET v = v WHERE id = 7")
        cur.execute("SELECT CONNECTION_ID()")
        holder = cur.fetchone()[0]
    try:
        with pytest.raises(wb.LockTimeoutError) as caught:
            s.execute(
                f"SELECT * FROM {p}_inno WHERE id = 7 FOR UPDATE", allow_writes=True, timeout=2
            )
        assert "lock" in caught.value.message
        assert any(f"thread {holder}" in b for b in caught.value.blockers), caught.value.blockers
        assert f"thread {holder}" in caught.value.message
    finally:
        conn.rollback()


def test_mariadb_messages_never_quote_parameter_values(maria: tuple[wb.Session, Any, str]) -> None:
    s, _conn, p = maria
    with pytest.raises(wb.QueryError) as caught:
        s.query(
            f"INSERT INTO {p}_inno (id, v) VALUES (:v, 1)", params={"v": CANARY}, allow_writes=True
        )
    error = caught.value
    assert "Incorrect integer value" in error.message
    assert CANARY not in str(error) and CANARY not in (error.engine_message or "")
    assert error.__cause__ is None and error.__suppress_context__


# -- PostgreSQL ----------------------------------------------------------------------------------
@pytest.fixture
def pg_dblink(pg_url: str) -> Iterator[tuple[wb.Session, str, str]]:
    """A scratch database with dblink, a function that commits elsewhere through it, and a
    trigger that calls that function."""
    name = f"wbh_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    remote = "dbname=" + name + " user=postgres host=127.0.0.1 port=5432"
    with engine.connect() as c:
        for statement in (
            "CREATE EXTENSION dblink",
            "CREATE TABLE remote_log (v int)",
            "CREATE TABLE t (id serial PRIMARY KEY, v int)",
            "CREATE TABLE logged (id int PRIMARY KEY, v int)",
            "CREATE FUNCTION remote_write() RETURNS text LANGUAGE sql AS "
            f"$$ SELECT dblink_exec('{remote}', 'INSERT INTO remote_log VALUES (1)') $$",
            "CREATE FUNCTION wrapper() RETURNS text LANGUAGE plpgsql AS "
            "$$ BEGIN RETURN remote_write(); END $$",
            "CREATE FUNCTION harmless() RETURNS int LANGUAGE sql AS $$ SELECT 41 + 1 $$",
            "CREATE FUNCTION log_remote() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM remote_write(); RETURN NEW; END $$",
            "CREATE TRIGGER logged_remote AFTER INSERT ON logged FOR EACH ROW "
            "EXECUTE FUNCTION log_remote()",
        ):
            c.execute(text(statement))
    engine.dispose()
    s = wb.connect(url)
    try:
        yield s, url, name
    finally:
        s.close()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_function_that_commits_elsewhere_is_refused(
    pg_dblink: tuple[wb.Session, str, str],
) -> None:
    s, _url, _name = pg_dblink
    for attempt in (
        lambda: s.query("SELECT remote_write()"),
        lambda: s.query("SELECT wrapper()", allow_writes=True),
        lambda: s.profile("SELECT wrapper()", runs=3, warmup=0),
        lambda: s.explain("SELECT wrapper()", analyze=True, allow_writes=True),
        lambda: s.explain("INSERT INTO logged VALUES (1, 1)", analyze=True, allow_writes=True),
    ):
        with pytest.raises(wb.UnsafeStatementError, match=r"dblink_exec\(\)"):
            attempt()
    assert _count(s, "remote_log") == 0 and _count(s, "logged") == 0
    # a plain EXPLAIN runs nothing: allowed
    assert s.explain("SELECT wrapper()").nodes


def test_a_volatile_function_needs_allow_writes_where_dblink_can_reach_out(
    pg_dblink: tuple[wb.Session, str, str],
) -> None:
    s, _url, _name = pg_dblink
    with pytest.raises(wb.UnsafeStatementError, match=r"VOLATILE.*dblink installed"):
        s.query("SELECT harmless() AS v")
    assert s.query("SELECT harmless() AS v", allow_writes=True).v.tolist() == [42]


def test_postgres_timeouts_and_locks_are_the_workbenchs(pg_url: str, table_name: str) -> None:
    s = wb.connect(pg_url)
    for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"):
        with pytest.raises(wb.ConfigurationError, match="timeout="):
            s.query("SELECT 1", settings={name: "0"})
    with pytest.raises(wb.ConfigurationError):
        s.query("SELECT 1", settings={"session_replication_role": "replica"})
    with pytest.raises(wb.UnsafeStatementError, match="set_config"):
        s.query("SELECT set_config('statement_timeout', '0', false)")
    for bad in (-1, 0, float("inf"), float("nan"), True):
        for call in (
            lambda bad=bad: s.query("SELECT 1", timeout=bad),
            lambda bad=bad: s.explain("SELECT 1", timeout=bad),
            lambda bad=bad: s.profile("SELECT 1", runs=2, timeout=bad),
            lambda bad=bad: wb.connect(pg_url, timeout=bad),
        ):
            with pytest.raises(wb.ConfigurationError, match="timeout"):
                call()
        with pytest.raises(wb.ConfigurationError):
            s.timeout = bad  # type: ignore[assignment]
    assert s.timeout == 30


def test_a_postgres_lock_wait_names_the_holder(pg_url: str, table_name: str) -> None:
    s = wb.connect(pg_url)
    engine = create_engine(pg_url)
    with engine.begin() as c:
        c.execute(text(f"CREATE TABLE {table_name} (id int PRIMARY KEY, v int)"))
        c.execute(text(f"INSERT INTO {table_name} VALUES (1, 1)"))
    holder = engine.connect()
    try:
        holder.execute(text(f"UPDATE {table_name} SET v = 2 WHERE id = 1"))
        pid = holder.execute(text("SELECT pg_backend_pid()")).scalar()
        with pytest.raises(wb.LockTimeoutError) as caught:
            s.execute(f"UPDATE {table_name} SET v = 3 WHERE id = 1", allow_writes=True, timeout=2)
        assert caught.value.sqlstate == "55P03"
        assert any(f"pid {pid}" in b for b in caught.value.blockers), caught.value.blockers
    finally:
        holder.rollback()
        holder.close()
        with engine.begin() as c:
            c.execute(text(f"DROP TABLE {table_name}"))
        engine.dispose()


def test_a_rolled_back_insert_warns_once_about_its_sequence(pg_url: str, table_name: str) -> None:
    s = wb.connect(pg_url)
    engine = create_engine(pg_url)
    with engine.begin() as c:
        c.execute(text(f"CREATE TABLE {table_name} (id serial PRIMARY KEY, v int)"))
    try:
        with pytest.warns(wb.WorkbenchWarning, match=rf"{table_name}_id_seq.*gap") as caught:
            s.explain(f"INSERT INTO {table_name} (v) VALUES (1)", analyze=True, allow_writes=True)
        assert caught[0].filename == __file__  # it points at the caller, not the workbench
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the second time: no warning
            s.explain(f"INSERT INTO {table_name} (v) VALUES (2)", analyze=True, allow_writes=True)
    finally:
        with engine.begin() as c:
            c.execute(text(f"DROP TABLE {table_name}"))
        engine.dispose()


def test_duckdb_sequences_warn_and_exports_are_refused(duckdb_url: str) -> None:
    s = wb.connect(duckdb_url)
    with s.engine.begin() as c:
        c.exec_driver_sql("CREATE SEQUENCE ids")
        c.exec_driver_sql("CREATE TABLE t (id INTEGER DEFAULT nextval('ids'), v INTEGER)")
    with pytest.warns(wb.WorkbenchWarning, match="ids"):
        s.explain("INSERT INTO t (v) VALUES (1)", analyze=True, allow_writes=True)
    with pytest.raises(wb.UnsafeStatementError):
        s.query("EXPORT DATABASE '/tmp/never'", allow_writes=True)


def test_try_fix_refuses_destruction(pg_url: str) -> None:
    s = wb.connect(pg_url)
    for fix in ("DROP TABLE orders", "TRUNCATE orders", "DROP INDEX orders_pkey"):
        with pytest.raises(wb.UnsafeStatementError, match="not a fix to try"):
            s.try_fix(fix, sql="SELECT * FROM orders WHERE id = 1")
    assert _count(s, "orders") > 0


def test_postgres_errors_never_quote_parameter_values(pg_url: str) -> None:
    s = wb.connect(pg_url)
    with pytest.raises(wb.QueryError) as caught:
        s.query("SELECT CAST(:v AS integer)", params={"v": CANARY})
    assert "invalid input syntax" in caught.value.message
    assert CANARY not in str(caught.value) and CANARY not in (caught.value.engine_message or "")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_cancel_is_one_clear_interrupt(pg_url: str) -> None:
    s = wb.connect(pg_url)
    threading.Timer(0.5, s.cancel).start()
    with pytest.raises(wb.QueryCancelled, match="cancelled on the server after") as caught:
        s.query("SELECT pg_sleep(20)")
    assert isinstance(caught.value, KeyboardInterrupt)
    assert caught.value._render_traceback_()[0].endswith(caught.value.message)
    assert s.query("SELECT 1 AS one").one.tolist() == [1]


def test_the_pool_running_dry_says_so(pg_url: str) -> None:
    s = wb.connect(pg_url, pool_size=1, max_overflow=0, pool_timeout=1)
    held = s.engine.raw_connection()
    try:
        with pytest.raises(wb.ConnectionFailedError, match="pool") as caught:
            s.query("SELECT 1")
        assert "pool_size" in (caught.value.hint or "")
    finally:
        held.close()


# -- SQLite, DuckDB ------------------------------------------------------------------------------
def test_sqlite_locked_says_another_connection_holds_it(sqlite_url: str) -> None:
    import sqlite3

    s = wb.connect(sqlite_url, timeout=2)
    with s.engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(wb.QueryError, match="another connection holds a write lock") as caught:
            s.execute("INSERT INTO t VALUES (1)", allow_writes=True)
        assert "fix the SQL" not in (caught.value.hint or "")
    finally:
        other.rollback()
        other.close()


# -- the architect and the rules -----------------------------------------------------------------
def test_evidence_plainly_over_budget_is_never_sent(tmp_path: Any) -> None:
    import anthropic

    fake = FakeAnthropic()
    try:
        client = anthropic.Anthropic(api_key="sk-ant-test-0000000000", base_url=fake.url)
        arch = wb.Architect(client=client, save_dir=tmp_path, on_text=lambda _: None)
        ev = wb.Evidence(dialect="postgresql", notes=["x " * 260_000])  # ~520 KB of text
        with pytest.raises(wb.ArchitectError, match=r"counted locally.*nothing was sent"):
            arch.analyze(ev)
        assert fake.requests == []  # not even count_tokens
    finally:
        fake.close()


def test_a_generated_20000_term_or_is_read_without_recursion(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sql = "SELECT * FROM t WHERE " + " OR ".join(f"a = {i}" for i in range(20_000))
    with caplog.at_level(logging.WARNING, logger="workbench"):
        wb.analyze(wb.Evidence(dialect="postgresql", sql=sql))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    payload = wb.Evidence(dialect="postgresql", sql=sql).payload()
    assert "more characters of the statement left out" in payload
