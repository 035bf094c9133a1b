"""Sessions: connecting, engine-specific safety, introspection, errors, secrets."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import workbench as wb

CANARY = "Canary-Pw-7f3a9"


# -- connecting ----------------------------------------------------------------------------------
def test_connect_accepts_a_url_or_an_engine(sqlite_url: str) -> None:
    s = wb.connect(sqlite_url)
    assert s.dialect == "sqlite"
    engine = create_engine(sqlite_url)
    pool = engine.pool
    s2 = wb.connect(engine)
    assert s2.engine is engine
    s2.close()  # does not dispose an engine it did not create (dispose() replaces the pool)
    assert engine.pool is pool
    own = wb.connect(sqlite_url)
    own_pool = own.engine.pool
    own.close()  # disposes the engine it created
    assert own.engine.pool is not own_pool
    s.close()


@pytest.mark.parametrize("bad", [0, -1, "30", None, True])
def test_timeout_must_be_positive(bad: object, sqlite_url: str) -> None:
    with pytest.raises(wb.ConfigurationError, match="timeout"):
        wb.connect(sqlite_url, timeout=bad)  # type: ignore[arg-type]


def test_a_bad_url_is_a_configuration_error() -> None:
    with pytest.raises(wb.ConfigurationError, match="SQLAlchemy URL"):
        wb.connect("not a url")


def test_dialect_detection(pg_url: str, mariadb_url: str, duckdb_url: str) -> None:
    assert wb.connect(pg_url).dialect == "postgresql"
    assert wb.connect(mariadb_url).dialect == "mariadb"
    assert wb.connect(duckdb_url).dialect == "duckdb"
    # a plain postgresql:// URL means psycopg 3
    assert wb.connect(pg_url.replace("+psycopg", "")).engine.dialect.driver == "psycopg"


def test_server_versions(pg_url: str, mariadb_url: str, duckdb_url: str, sqlite_url: str) -> None:
    assert wb.connect(pg_url).server.version_info[0] >= 15
    maria = wb.connect(mariadb_url).server
    assert maria.version_info >= (10, 6) and "MariaDB" in maria.description
    assert wb.connect(duckdb_url).server.version_info >= (1,)
    assert wb.connect(sqlite_url).server.version_info >= (3,)


# -- secrets -------------------------------------------------------------------------------------
def test_password_never_shows_in_repr_or_errors(pg_url: str) -> None:
    url = pg_url.replace("postgres@", f"postgres:{CANARY}@")
    s = wb.connect(url)  # trust auth: the password is accepted and ignored
    assert CANARY not in repr(s) and CANARY not in str(s.url)
    assert CANARY not in repr(s.engine.url)
    with pytest.raises(wb.QueryError) as info:
        s.query("SELECT * FROM no_such_table_here")
    text_out = "".join(traceback.format_exception(info.value))
    assert CANARY not in text_out


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://app:{CANARY}@127.0.0.1:1/db",
        f"mysql+pymysql://root:{CANARY}@127.0.0.1:1/test",
    ],
)
def test_password_never_shows_in_connection_errors(url: str) -> None:
    with pytest.raises(wb.ConnectionFailedError) as info:
        wb.connect(url)
    assert isinstance(info.value, ConnectionError)
    rendered = "".join(traceback.format_exception(info.value))
    assert CANARY not in rendered
    assert "***" in str(info.value)  # the URL is shown, masked
    assert "server is running" in str(info.value)  # says what to do


def test_a_malformed_url_is_a_configuration_error_without_its_password() -> None:
    with pytest.raises(wb.ConfigurationError) as info:
        wb.connect(f"postgresql+psycopg://app:{CANARY}@127.0.0.1:notaport/db")
    assert CANARY not in "".join(traceback.format_exception(info.value))
    assert "not a database URL" in str(info.value)


def test_wrong_password_on_mariadb_is_scrubbed(mariadb_url: str) -> None:
    with pytest.raises(wb.ConnectionFailedError) as info:
        wb.connect(mariadb_url.replace("root@", f"nobody:{CANARY}@"))
    assert CANARY not in "".join(traceback.format_exception(info.value))


# -- engine-specific safety ----------------------------------------------------------------------
def test_mariadb_refuses_ddl_even_with_allow_writes(mariadb_url: str, table_name: str) -> None:
    s = wb.connect(mariadb_url)
    with pytest.raises(wb.UnsafeStatementError, match="commits DDL"):
        s.execute(f"CREATE TABLE {table_name} (id int)", allow_writes=True)
    assert table_name not in s.tables()


def test_mariadb_refuses_writes_to_non_transactional_tables(
    mariadb_url: str, table_name: str
) -> None:
    engine = create_engine(mariadb_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table_name} (id int) ENGINE=MyISAM"))
        conn.execute(text(f"INSERT INTO {table_name} VALUES (1), (2)"))
    try:
        s = wb.connect(engine)
        with pytest.raises(wb.UnsafeStatementError, match="non-transactional"):
            s.execute(f"DELETE FROM {table_name}", allow_writes=True)
        with pytest.raises(wb.UnsafeStatementError, match="non-transactional"):
            s.explain(f"DELETE FROM {table_name}", analyze=True, allow_writes=True)
        assert s.query(f"SELECT count(*) AS n FROM {table_name}").n.tolist() == [2]
        # explain without analyze does not execute, so it is allowed
        assert s.explain(f"DELETE FROM {table_name}")
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {table_name}"))


def test_mariadb_sees_non_transactional_tables_behind_views_joins_and_replace(
    mariadb_url: str, table_name: str
) -> None:
    m, i = f"{table_name}_m", f"{table_name}_i"
    views = (f"{table_name}_v2", f"{table_name}_v", f"{table_name}_iv")
    engine = create_engine(mariadb_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {m} (id int PRIMARY KEY, v int) ENGINE=MyISAM"))
        conn.execute(text(f"CREATE TABLE {i} (id int PRIMARY KEY, v int) ENGINE=InnoDB"))
        for table in (m, i):
            conn.execute(text(f"INSERT INTO {table} VALUES (1, 1), (2, 2)"))
        conn.execute(text(f"CREATE VIEW {views[1]} AS SELECT * FROM {m}"))
        conn.execute(text(f"CREATE VIEW {views[0]} AS SELECT * FROM {views[1]}"))
        conn.execute(text(f"CREATE VIEW {views[2]} AS SELECT * FROM {i}"))
    try:
        s = wb.connect(engine)
        for statement in (
            f"DELETE FROM {views[1]}",
            f"UPDATE {views[0]} SET v = 0",  # a view on a view on MyISAM
            f"DELETE b FROM {i} a JOIN {m} b ON a.id = b.id",
            f"UPDATE {i} a JOIN {m} b ON a.id = b.id SET b.v = 0",
            f"REPLACE INTO {m} VALUES (1, 50)",
        ):
            with pytest.raises(wb.UnsafeStatementError, match="non-transactional"):
                s.explain(statement, analyze=True, allow_writes=True)
        # InnoDB behind a view, or MyISAM only read by a subquery: rolled back, allowed
        s.explain(f"DELETE FROM {views[2]}", analyze=True, allow_writes=True)
        s.explain(
            f"UPDATE {i} SET v = 0 WHERE id IN (SELECT id FROM {m})",
            analyze=True,
            allow_writes=True,
        )
        for table in (m, i):
            assert s.query(f"SELECT sum(v) AS t FROM {table}").t.tolist() == [3]
    finally:
        with engine.begin() as conn:
            for view in views:
                conn.execute(text(f"DROP VIEW IF EXISTS {view}"))
            conn.execute(text(f"DROP TABLE IF EXISTS {m}, {i}"))


def test_postgres_refuses_nextval(pg_url: str) -> None:
    s = wb.connect(pg_url)
    with pytest.raises(wb.UnsafeStatementError, match="nextval"):
        s.query("SELECT nextval('some_sequence')", allow_writes=True)


def test_postgres_read_that_writes_through_a_function(pg_url: str, table_name: str) -> None:
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table_name} (id int)"))
        conn.execute(
            text(
                f"CREATE FUNCTION {table_name}_f() RETURNS int LANGUAGE sql AS "
                f"$$ INSERT INTO {table_name} VALUES (1) RETURNING id $$"
            )
        )
    try:
        s = wb.connect(engine)
        with pytest.raises(wb.QueryError, match="allow_writes=True") as info:
            s.query(f"SELECT {table_name}_f()")
        assert info.value.sqlstate == "25006"
        s.query(f"SELECT {table_name}_f()", allow_writes=True)  # runs, rolled back
        assert s.query(f"SELECT count(*) AS n FROM {table_name}").n.tolist() == [0]
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {table_name}"))
            conn.execute(text(f"DROP FUNCTION {table_name}_f()"))


def test_postgres_ddl_in_the_sandbox_is_rolled_back(pg_url: str, table_name: str) -> None:
    s = wb.connect(pg_url)
    with s.sandbox() as tx:
        tx.execute(f"CREATE TABLE {table_name} AS SELECT generate_series(1, 100) AS id")
        tx.execute(f"CREATE INDEX ON {table_name} (id)")
        assert tx.execute(f"SELECT count(*) FROM {table_name}").rows == [(100,)]
    assert table_name not in s.tables()


def test_syntax_error_position_is_reported(pg_url: str) -> None:
    s = wb.connect(pg_url)
    with pytest.raises(wb.QueryError) as info:
        s.query("SELECT 1 FROM WHERE")
    assert info.value.position == 15
    assert info.value.sqlstate == "42601"


def test_per_call_settings_apply_inside_the_transaction_only(pg_url: str) -> None:
    s = wb.connect(pg_url)
    assert s.query("SHOW work_mem", settings={"work_mem": "3MB"}).iloc[0, 0] == "3MB"
    assert s.query("SHOW work_mem").iloc[0, 0] != "3MB"
    with pytest.raises(wb.ConfigurationError, match="not a valid setting name"):
        s.query("SELECT 1", settings={"work_mem; DROP TABLE x": "1"})


def test_session_settings_changes_are_refused(any_url: str) -> None:
    s = wb.connect(any_url)
    with pytest.raises(wb.UnsafeStatementError, match="settings="):
        s.query("SET work_mem = '1GB'" if s.dialect == "postgresql" else "SET x = 1")


def test_transaction_control_is_refused(any_url: str) -> None:
    s = wb.connect(any_url)
    with pytest.raises(wb.UnsafeStatementError, match="transaction control"):
        s.query("COMMIT", allow_writes=True)


def test_params_as_a_string_are_refused(sqlite_url: str) -> None:
    with pytest.raises(wb.QueryError, match="params must be a dict"):
        wb.connect(sqlite_url).query("SELECT :x", params="1")  # type: ignore[arg-type]


def test_positional_params_pass_through(sqlite_url: str, pg_url: str) -> None:
    assert wb.connect(sqlite_url).query("SELECT ? + 1 AS x", params=[41]).x.tolist() == [42]
    assert wb.connect(pg_url).query("SELECT %s::int + 1 AS x", params=[41]).x.tolist() == [42]


def test_percent_signs_survive_with_and_without_params(pg_url: str, mariadb_url: str) -> None:
    for url in (pg_url, mariadb_url):
        s = wb.connect(url)
        assert s.query("SELECT 'a%b' AS x").x.tolist() == ["a%b"]
        assert s.query("SELECT 'a%b' AS x, :n AS n", params={"n": 1}).x.tolist() == ["a%b"]


# -- introspection -------------------------------------------------------------------------------
def test_table_introspection_on_each_engine(scratch_table: tuple[str, str]) -> None:
    url, table = scratch_table
    s = wb.connect(url)
    info = s.table(table)
    assert [c.name for c in info.columns] == ["id", "v"]
    assert any(ix.primary and ix.columns == ("id",) for ix in info.indexes)
    assert table in s.tables()
    with pytest.raises(wb.QueryError, match="no table named"):
        s.table("no_such_table_xyz")


def test_settings_introspection(any_url: str) -> None:
    s = wb.connect(any_url)
    frame = s.settings()
    assert list(frame.columns) == ["name", "value", "unit", "source", "description"]
    assert len(frame) >= 3


def test_tables_in_a_query_with_statistics(embedded_session: wb.Session) -> None:
    infos = embedded_session.tables_in(
        "SELECT u.email, count(*) FROM users u JOIN orders o ON o.user_id = u.id GROUP BY 1"
    )
    by_name = {t.name: t for t in infos}
    assert set(by_name) == {"users", "orders"}
    orders = by_name["orders"]
    assert orders.row_estimate == pytest.approx(400_000, rel=0.05)
    assert orders.last_analyzed is not None
    assert {fk["columns"][0] for fk in orders.foreign_keys} == {"user_id"}
    indexed = {ix.columns[0] for ix in orders.indexes}
    assert "user_id" not in indexed and "created_at" in indexed
    assert any(ix.unique and ix.columns == ("email",) for ix in by_name["users"].indexes)


def test_embedded_has_the_extensions(embedded_session: wb.Session) -> None:
    libs = embedded_session.query("SHOW shared_preload_libraries").iloc[0, 0]
    assert "pg_stat_statements" in libs and "auto_explain" in libs
    assert embedded_session.server.version_info[0] == 18
    calls = embedded_session.query("SELECT count(*) AS n FROM pg_stat_statements")
    assert int(calls.n.iloc[0]) >= 0


def test_sqlite_sees_what_another_connection_built(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "app.db"
    s = wb.connect(f"sqlite:///{path}")
    app = sqlite3.connect(path)  # the application, on its own connection
    app.execute("CREATE TABLE t (a INTEGER, b INTEGER)")
    app.executemany("INSERT INTO t VALUES (?, ?)", [(i, i % 7) for i in range(2_000)])
    app.commit()
    assert "SCAN" in s.explain("SELECT * FROM t WHERE a = 5").root.operation
    app.execute("CREATE INDEX t_a ON t (a)")
    app.execute("CREATE INDEX t_a_plus_b ON t (a + b DESC)")
    app.commit()
    plan = s.explain("SELECT * FROM t WHERE a = 5")
    assert plan.root.index == "t_a"  # the same session plans with the new index
    columns = {ix.name: ix.columns for ix in s.table("t").indexes}
    assert columns["t_a_plus_b"] == ("a + b",)  # an expression key, not "None"
    app.close()


def test_tables_in_says_what_it_could_not_find(sqlite_url: str) -> None:
    from workbench.errors import WorkbenchWarning

    s = wb.connect(sqlite_url)
    from sqlalchemy import text

    with s.engine.begin() as conn:  # the session's own writes are always rolled back
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    with pytest.warns(WorkbenchWarning, match="did not parse"):
        assert s.tables_in("SELECT ... FROM users JOIN orders ...") == []
    with pytest.warns(WorkbenchWarning, match="not found in the database: nope"):
        assert [t.name for t in s.tables_in("SELECT * FROM t JOIN nope ON 1 = 1")] == ["t"]
