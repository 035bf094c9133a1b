"""The guard's classification and policy, without a database."""

from __future__ import annotations

import pytest

from workbench.errors import UnsafeStatementError
from workbench.guard import StatementKind, authorize, classify

K = StatementKind


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT 1", K.READ),
        ("  select * from t where a = 'x;y'  ;  ", K.READ),
        ("WITH x AS (SELECT 1) SELECT * FROM x", K.READ),
        ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r", K.READ),
        ("SELECT a FROM t UNION SELECT b FROM u", K.READ),
        ("DELETE FROM t", K.WRITE),
        ("UPDATE t SET a = 1 WHERE b = 2", K.WRITE),
        ("INSERT INTO t (a) SELECT a FROM u", K.WRITE),
        ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", K.WRITE),
        ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", K.WRITE),
        ("SELECT * FROM t FOR UPDATE", K.WRITE),
        ("SELECT * INTO t2 FROM t", K.DDL),
        ("MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE", K.WRITE),
        ("CREATE INDEX i ON t (a)", K.DDL),
        ("DROP TABLE t", K.DDL),
        ("ALTER TABLE t ADD COLUMN c int", K.DDL),
        ("TRUNCATE t", K.DDL),
        ("VACUUM t", K.DDL),
        ("BEGIN", K.TRANSACTION),
        ("COMMIT", K.TRANSACTION),
        ("SET work_mem = '1GB'", K.SESSION),
        ("EXPLAIN SELECT 1", K.READ),
        ("EXPLAIN DELETE FROM t", K.READ),
        ("EXPLAIN ANALYZE DELETE FROM t", K.WRITE),
        ("EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1", K.WRITE),
        ("EXPLAIN (ANALYZE false) DELETE FROM t", K.READ),
        ("DO $$ BEGIN DELETE FROM t; END $$", K.WRITE),
        ("CALL p()", K.WRITE),
    ],
)
def test_classify_postgresql(sql: str, kind: StatementKind) -> None:
    assert classify(sql, "postgresql").kind is kind


@pytest.mark.parametrize(
    ("sql", "dialect", "kind"),
    [
        ("ANALYZE FORMAT=JSON DELETE FROM t", "mariadb", K.WRITE),
        ("ANALYZE FORMAT=JSON SELECT 1", "mariadb", K.READ),
        ("REPLACE INTO t VALUES (1)", "mysql", K.WRITE),
        ("SHOW TABLES", "mysql", K.READ),
        ("PRAGMA table_info(t)", "sqlite", K.READ),
        ("PRAGMA journal_mode = WAL", "sqlite", K.SESSION),
        ("INSERT INTO t SELECT 1", "duckdb", K.WRITE),
        ("ATTACH 'x.db'", "duckdb", K.SESSION),
    ],
)
def test_classify_other_dialects(sql: str, dialect: str, kind: StatementKind) -> None:
    assert classify(sql, dialect).kind is kind


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; DROP TABLE t",
        "select 1;select 2",
        "DELETE FROM t; SELECT 1",
        "SELECT 1; -- x\n SELECT 2",
    ],
)
def test_several_statements_are_refused(sql: str) -> None:
    with pytest.raises(UnsafeStatementError, match="2 statements") as info:
        classify(sql)
    assert info.value.kind == "multiple"


@pytest.mark.parametrize("sql", ["", "   ", ";;", "-- only a comment"])
def test_empty_input_is_refused(sql: str) -> None:
    with pytest.raises(UnsafeStatementError, match="no SQL statement"):
        classify(sql)


def test_semicolons_in_strings_and_comments_do_not_split() -> None:
    info = classify("SELECT 'a;b' AS x /* ; */ -- ;\n", "postgresql")
    assert info.kind is K.READ


def test_tables_exclude_cte_names_and_name_write_targets() -> None:
    info = classify("WITH x AS (SELECT * FROM users) UPDATE orders SET a = 1 FROM x")
    assert set(info.tables) == {"users", "orders"}
    assert info.written_tables == ("orders",)


def test_write_needs_allow_writes_with_a_hint() -> None:
    info = classify("DELETE FROM t")
    with pytest.raises(UnsafeStatementError, match="allow_writes=True"):
        authorize(info, allow_writes=False, read_only_enforced=True)
    authorize(info, allow_writes=True, read_only_enforced=True)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT nextval('s')",
        "SELECT setval('s', 1)",
        "SELECT dblink_exec('c', 'DELETE FROM t')",
        "SELECT pg_advisory_lock(1)",
        "SELECT pg_terminate_backend(42)",
    ],
)
def test_side_effect_functions_are_refused_even_with_allow_writes(sql: str) -> None:
    info = classify(sql)
    with pytest.raises(UnsafeStatementError, match="survives a rollback"):
        authorize(info, allow_writes=True, read_only_enforced=True)


@pytest.mark.parametrize("sql", ["BEGIN", "COMMIT", "ROLLBACK", "SET work_mem = '1MB'"])
def test_transaction_control_and_session_changes_are_always_refused(sql: str) -> None:
    with pytest.raises(UnsafeStatementError):
        authorize(classify(sql), allow_writes=True, read_only_enforced=True)


def test_copy_to_a_file_is_refused() -> None:
    with pytest.raises(UnsafeStatementError, match="rollback cannot undo"):
        authorize(classify("COPY t TO '/tmp/out.csv'"), allow_writes=True, read_only_enforced=True)


def test_unparseable_runs_only_where_read_only_is_enforced() -> None:
    info = classify("SELEC 1 FRM t", "mysql")
    assert info.kind is K.UNKNOWN
    with pytest.raises(UnsafeStatementError, match="could not classify"):
        authorize(info, allow_writes=False, read_only_enforced=False)
    authorize(info, allow_writes=False, read_only_enforced=True)  # PostgreSQL: the server refuses


def test_non_string_input_is_refused() -> None:
    with pytest.raises(UnsafeStatementError, match="must be a string"):
        classify(42)  # type: ignore[arg-type]
