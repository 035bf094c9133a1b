"""The safety guard on real databases: PostgreSQL 15, MariaDB, SQLite, DuckDB.

Each test runs once per engine (the ``scratch_table`` fixture), and checks the database itself
afterwards: nothing may have changed.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

import workbench as wb

SLEEP_30 = {
    "postgresql": "SELECT pg_sleep(30)",
    "mariadb": "SELECT SLEEP(30)",
    # no sleep function in-process: an endless recursive CTE instead
    "sqlite": "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
    "SELECT count(*) FROM r",
    "duckdb": "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
    "SELECT count(*) FROM r",
}
ENDLESS_CTE = (
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
)


def _count(s: wb.Session, table: str) -> int:
    return int(s.query(f"SELECT count(*) AS n FROM {table}").iloc[0, 0])


def test_explain_analyze_of_a_delete_needs_allow_writes(scratch_table: tuple[str, str]) -> None:
    url, table = scratch_table
    s = wb.connect(url)
    with pytest.raises(wb.UnsafeStatementError, match="allow_writes=True"):
        s.explain(f"DELETE FROM {table}", analyze=True)
    assert _count(s, table) == 10


def test_allowed_write_runs_and_is_rolled_back(scratch_table: tuple[str, str]) -> None:
    url, table = scratch_table
    s = wb.connect(url)
    plan = s.explain(f"DELETE FROM {table}", analyze=True, allow_writes=True)
    assert plan.analyzed
    assert plan.nodes
    result = s.execute(f"DELETE FROM {table} WHERE id <= 5", allow_writes=True)
    assert result.rowcount in (5, -1)
    s.execute(f"UPDATE {table} SET v = 0", allow_writes=True)
    assert _count(s, table) == 10
    assert int(s.query(f"SELECT sum(v) AS s FROM {table}").iloc[0, 0]) == 550


def test_two_statements_are_refused_and_the_table_survives(scratch_table: tuple[str, str]) -> None:
    url, table = scratch_table
    s = wb.connect(url)
    with pytest.raises(wb.UnsafeStatementError, match="2 statements"):
        s.query(f"SELECT 1; DROP TABLE {table}")
    with pytest.raises(wb.UnsafeStatementError):
        s.query(f"SELECT 1; DROP TABLE {table}", allow_writes=True)
    assert _count(s, table) == 10


def test_data_modifying_cte_is_refused(scratch_table: tuple[str, str]) -> None:
    url, table = scratch_table
    s = wb.connect(url)
    with pytest.raises(wb.UnsafeStatementError, match="writes data"):
        s.query(f"WITH d AS (DELETE FROM {table} RETURNING *) SELECT count(*) FROM d")
    assert _count(s, table) == 10


def test_a_read_runs_read_only(scratch_table: tuple[str, str]) -> None:
    url, table = scratch_table
    s = wb.connect(url)
    frame = s.query(f"SELECT id, v FROM {table} WHERE id = :id", params={"id": 3})
    assert frame.to_dict("records") == [{"id": 3, "v": 30}]


def test_timeout_cancels_on_the_server_and_the_session_survives(
    scratch_table: tuple[str, str],
) -> None:
    url, table = scratch_table
    s = wb.connect(url, timeout=2)
    started = time.monotonic()
    with pytest.raises(wb.QueryTimeoutError, match="timeout") as info:
        s.query(SLEEP_30[s.dialect])
    elapsed = time.monotonic() - started
    assert elapsed < 6, f"timeout took {elapsed:.1f} s"
    assert isinstance(info.value, wb.QueryError) and isinstance(info.value, TimeoutError)
    assert "timeout=" in str(info.value)  # says what to do
    assert _count(s, table) == 10  # the next query works


def test_endless_recursive_cte_times_out(scratch_table: tuple[str, str]) -> None:
    url, _ = scratch_table
    s = wb.connect(url, timeout=2)
    # MariaDB stops recursion at max_recursive_iterations (1000 here): lift it for this call
    settings = {"max_recursive_iterations": 4294967295} if s.dialect == "mariadb" else None
    started = time.monotonic()
    with pytest.raises(wb.QueryTimeoutError):
        s.query(ENDLESS_CTE, settings=settings)
    assert time.monotonic() - started < 8
    assert s.query("SELECT 1 AS one").iloc[0, 0] == 1


def test_mariadb_benchmark_cut_short_is_a_timeout_not_a_result(mariadb_url: str) -> None:
    # MariaDB stops BENCHMARK() at max_statement_time and returns 0, with no error or warning
    s = wb.connect(mariadb_url, timeout=1)
    with pytest.raises(wb.QueryTimeoutError):
        s.query("SELECT BENCHMARK(10000000000, MD5('a')) AS b")
    assert s.query("SELECT BENCHMARK(10, MD5('a')) AS b").b.tolist() == [0]  # a real 0 stays


def test_per_call_timeout_overrides_the_session(scratch_table: tuple[str, str]) -> None:
    url, _ = scratch_table
    s = wb.connect(url, timeout=60)
    started = time.monotonic()
    with pytest.raises(wb.QueryTimeoutError):
        s.query(SLEEP_30[s.dialect], timeout=1)
    assert time.monotonic() - started < 6


def test_kernel_interrupt_cancels_the_query(scratch_table: tuple[str, str]) -> None:
    url, table = scratch_table
    s = wb.connect(url, timeout=60)
    timer = threading.Timer(1.0, os.kill, args=(os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as caught:
            s.query(SLEEP_30[s.dialect])
    finally:
        timer.cancel()
    assert time.monotonic() - started < 8
    # one clear line: what happened and that the session is fine
    assert isinstance(caught.value, wb.QueryCancelled)
    assert "cancelled on the server after" in str(caught.value)
    assert _count(s, table) == 10
    if s.dialect == "postgresql":  # nothing left running on the server
        active = s.query(
            "SELECT count(*) AS n FROM pg_stat_activity "
            "WHERE query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'"
        )
        assert int(active.iloc[0, 0]) == 0


def test_syntax_error_is_a_query_error_with_the_engine_message(
    scratch_table: tuple[str, str],
) -> None:
    url, table = scratch_table
    s = wb.connect(url)
    with pytest.raises(wb.QueryError) as info:
        s.query(f"SELECT nonexistent_column FROM {table}")
    assert info.value.engine_message
    assert "nonexistent_column" in str(info.value).lower()
    assert _count(s, table) == 10


def test_missing_parameter_says_which(scratch_table: tuple[str, str]) -> None:
    url, table = scratch_table
    s = wb.connect(url)
    with pytest.raises(wb.QueryError, match=":id"):
        s.query(f"SELECT * FROM {table} WHERE id = :id", params={})
