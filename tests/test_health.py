"""``s.health()`` on real databases: the demo's planted problems are found, a fresh healthy
schema yields nothing, and each check fires on the problem it names (and not on its look-alike:
a DESC index is no duplicate of an ASC one, a partial index is no duplicate of its full twin).

Whole-database results depend on everything in a database, so each PostgreSQL and MariaDB
test works in a scratch database of its own, dropped afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import workbench as wb
from workbench.findings import CODES
from workbench.health import HealthReport
from workbench.health.indexes import Index, existing_for

from .conftest import MARIADB_URL, PG_URL
from .scratch import run_sql, scratch_database


@pytest.fixture
def pg_scratch(pg_url: str) -> Iterator[str]:
    """A fresh PostgreSQL 15 database (pg_stat_statements created in it), dropped after."""
    with scratch_database(PG_URL, extensions=("pg_stat_statements",)) as url:
        yield url


@pytest.fixture
def mariadb_scratch(mariadb_url: str) -> Iterator[str]:
    with scratch_database(MARIADB_URL) as url:
        yield url


def codes(report: HealthReport) -> set[str]:
    return {f.code for f in report}


def named(report: HealthReport, code: str, name: str) -> wb.Finding:
    found = [f for f in report.by_code(code) if any(name in t for t in f.tables)]
    assert found, f"no {code} naming {name} in {report!r}"
    return found[0]


def well_formed(f: wb.Finding) -> None:
    assert f.code in CODES and f.title and f.detail and f.fix and f.risk and f.tables


# -- the demo database -----------------------------------------------------------------------------
def test_demo_on_postgres_15(pg_scratch: str) -> None:
    wb.demo.load(pg_scratch, scale=0.1)
    report = wb.connect(pg_scratch).health()
    duplicate = named(report, "duplicate_index", "events_user_idx")
    well_formed(duplicate)
    assert duplicate.fix == "DROP INDEX CONCURRENTLY public.events_user_idx"
    assert duplicate.evidence["kept"] == "public.events_user_id_idx"
    assert duplicate.evidence["bytes"] > 0
    unused = named(report, "unused_index", "orders_shipping_country_created_at_idx")
    well_formed(unused)
    assert unused.evidence["table_scans"] >= 50 and "stats_age_days" in unused.evidence
    assert unused.severity == "low" and "old" in unused.detail  # young statistics say so
    bloat = named(report, "table_bloat", "accounts")
    assert bloat.evidence["dead_rows"] >= 1_000 and bloat.fix == "VACUUM (ANALYZE) accounts"
    assert named(report, "vacuum_overdue", "accounts").fix == (
        "ALTER TABLE accounts RESET (autovacuum_enabled)"
    )
    fk = named(report, "unindexed_foreign_key", "orders")
    assert fk.fix == "CREATE INDEX CONCURRENTLY orders_user_id_idx ON public.orders (user_id)"
    # nothing about what is fine: the primary keys, the used indexes
    assert not [f for f in report if "pkey" in " ".join(f.tables)]


def test_demo_on_the_embedded_postgres(embedded_session: wb.Session) -> None:
    s = embedded_session
    wb.demo.run_workload(s)  # the tables' scans counted now, whatever ran before
    report = s.health()
    named(report, "duplicate_index", "events_user_idx")
    named(report, "unused_index", "orders_shipping_country_created_at_idx")
    bloat = named(report, "table_bloat", "accounts")
    assert bloat.evidence["wasted_bytes"] > 1024**2  # the file stays seven times too large
    assert report.dialect == "postgresql" and "unused_index" in report.checks


def test_a_fresh_healthy_schema_has_nothing(pg_scratch: str) -> None:
    run_sql(
        pg_scratch,
        "CREATE TABLE parent (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text)",
        "CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint NOT NULL REFERENCES "
        "parent (id), created_at timestamptz NOT NULL, note text)",
        "CREATE INDEX child_parent_id_created_at_idx ON child (parent_id, created_at)",
        "INSERT INTO parent (name) SELECT 'p' || g FROM generate_series(1, 2000) g",
        "INSERT INTO child SELECT g, 1 + g % 2000, now() - g * interval '1 minute', 'n' "
        "FROM generate_series(1, 20000) g",
        "ANALYZE parent, child",
    )
    report = wb.connect(pg_scratch).health()
    assert list(report) == [], report
    assert {"duplicate_index", "unused_index", "table_bloat", "sequence_near_limit"} <= set(
        report.checks
    )


def test_postgres_index_checks_tell_look_alikes_apart(pg_scratch: str) -> None:
    run_sql(
        pg_scratch,
        "CREATE TABLE t (id int PRIMARY KEY, a int, b int, c text)",
        "INSERT INTO t SELECT g, g % 100, g % 7, 'x' || g FROM generate_series(1, 5000) g",
        "CREATE INDEX t_a_idx ON t (a)",
        "CREATE INDEX t_a_b_idx ON t (a, b)",  # makes t_a_idx redundant
        "CREATE INDEX t_b_desc_idx ON t (b DESC, a)",
        "CREATE INDEX t_b_asc_idx ON t (b, a)",  # not a duplicate: the order differs
        "CREATE INDEX t_c_idx ON t (c)",
        "CREATE INDEX t_c_partial_idx ON t (c) WHERE a > 50",  # not a duplicate: partial
        "CREATE INDEX t_c_lower_idx ON t (lower(c))",  # not a duplicate: an expression
        "CREATE INDEX t_c_again ON t (c)",  # a duplicate
        "CREATE UNIQUE INDEX t_id_unique ON t (id)",  # a duplicate of the primary key
        "ANALYZE t",
    )
    report = wb.connect(pg_scratch).health()
    duplicates = {
        (f.evidence["kept"], f.evidence["index"]) for f in report.by_code("duplicate_index")
    }
    # the older index stays; the primary key stays whatever its age
    assert duplicates == {
        ("public.t_c_idx", "public.t_c_again"),
        ("public.t_pkey", "public.t_id_unique"),
    }
    redundant = report.by_code("redundant_index")
    assert [(f.evidence["index"], f.evidence["covered_by"]) for f in redundant] == [
        ("public.t_a_idx", "public.t_a_b_idx")
    ]
    assert "medium" in (redundant[0].risk or "")


def test_postgres_invalid_index_sequences_and_keys(pg_scratch: str) -> None:
    run_sql(
        pg_scratch,
        "CREATE TABLE dup (id int PRIMARY KEY, v int)",
        "INSERT INTO dup SELECT g, g % 10 FROM generate_series(1, 100) g",
    )
    with pytest.raises(Exception, match="could not create unique index"):
        run_sql(pg_scratch, "CREATE UNIQUE INDEX CONCURRENTLY dup_v_key ON dup (v)")
    run_sql(
        pg_scratch,
        "CREATE TABLE tickets (id serial PRIMARY KEY, note text)",  # int4 column, int8 sequence
        "SELECT setval('tickets_id_seq', 2000000000)",
        "CREATE TABLE legacy (id int PRIMARY KEY)",  # an application-chosen int4 key
        "INSERT INTO legacy VALUES (1), (2100000000)",
        "CREATE SEQUENCE small_seq AS smallint",
        "SELECT setval('small_seq', 100)",
        "ANALYZE",
    )
    report = wb.connect(pg_scratch).health()
    invalid = named(report, "invalid_index", "dup_v_key")
    assert invalid.severity == "high"
    assert invalid.fix == "REINDEX INDEX CONCURRENTLY public.dup_v_key"
    near = {f.title.split(" ")[0]: f for f in report.by_code("sequence_near_limit")}
    assert set(near) == {"tickets.id", "legacy.id"}, near
    assert near["tickets.id"].severity == "high" and "TYPE bigint" in (near["tickets.id"].fix or "")
    assert near["legacy.id"].severity == "critical"


def test_postgres_statistics_never_gathered(pg_scratch: str) -> None:
    run_sql(
        pg_scratch,
        "CREATE TABLE quiet (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = false)",
        "INSERT INTO quiet SELECT g, g FROM generate_series(1, 5000) g",
    )
    report = wb.connect(pg_scratch).health()
    stale = named(report, "stale_statistics", "quiet")
    assert stale.fix == "ANALYZE quiet" and "never" in stale.title


# -- MariaDB, SQLite, DuckDB ------------------------------------------------------------------------
def test_mariadb(mariadb_scratch: str) -> None:
    run_sql(
        mariadb_scratch,
        "CREATE TABLE orders (id INT PRIMARY KEY, user_id INT, created_at DATETIME, note TEXT)",
        "CREATE INDEX orders_user_idx ON orders (user_id)",
        "CREATE INDEX orders_user_created_idx ON orders (user_id, created_at)",
        "CREATE INDEX orders_created_idx ON orders (created_at)",
        "CREATE INDEX orders_created_again ON orders (created_at)",
        "CREATE TABLE log_lines (at DATETIME, line TEXT)",
    )
    report = wb.connect(mariadb_scratch).health()
    assert codes(report) == {"duplicate_index", "redundant_index", "missing_primary_key"}
    duplicate = report.by_code("duplicate_index")[0]
    assert duplicate.fix is not None and duplicate.fix.startswith("ALTER TABLE orders DROP INDEX")
    assert "LOCK=NONE" in duplicate.fix
    assert report.by_code("redundant_index")[0].evidence["index"] == "orders_user_idx"
    assert report.by_code("missing_primary_key")[0].tables == ["log_lines"]
    assert any("performance_schema" in note for note in report.notes)


def test_mariadb_healthy(mariadb_scratch: str) -> None:
    run_sql(
        mariadb_scratch,
        "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT)",
        "CREATE INDEX t_a_b ON t (a, b)",
    )
    assert list(wb.connect(mariadb_scratch).health()) == []


def test_sqlite_demo_and_statistics(sqlite_url: str) -> None:
    wb.demo.load(sqlite_url, scale=0.01)
    s = wb.connect(sqlite_url)
    report = s.health()
    assert named(report, "duplicate_index", "events_user_idx").fix == "DROP INDEX events_user_idx"
    assert named(report, "unindexed_foreign_key", "order_items").fix == (
        "CREATE INDEX order_items_product_id_idx ON order_items (product_id)"
    )
    assert "stale_statistics" not in codes(report)  # the loader ran ANALYZE
    run_sql(
        sqlite_url,
        "INSERT INTO events SELECT id + 1000000, user_id, type, created_at, payload FROM events",
    )
    stale = named(s.health(), "stale_statistics", "events")
    assert stale.fix == "ANALYZE events"


def test_duckdb(duckdb_url: str) -> None:
    run_sql(
        duckdb_url,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER)",
        "CREATE INDEX t_a ON t (a)",
        "CREATE INDEX t_a2 ON t (a)",
        "CREATE INDEX t_ab ON t (a, b)",
    )
    report = wb.connect(duckdb_url).health()
    duplicate = report.by_code("duplicate_index")[0]
    redundant = report.by_code("redundant_index")[0]
    assert (duplicate.evidence["kept"], duplicate.evidence["index"]) == ("t_a", "t_a2")
    assert duplicate.fix == "DROP INDEX t_a2"
    # the twin kept is still the leading part of (a, b): named once, as redundant
    assert (redundant.evidence["index"], redundant.evidence["covered_by"]) == ("t_a", "t_ab")
    assert len(report) == 2 and report.notes


# -- the report object -----------------------------------------------------------------------------
def test_report_round_trips_renders_safely_and_is_recorded(
    sqlite_url: str, tmp_path: pytest.TempPathFactory
) -> None:
    run_sql(
        sqlite_url,
        'CREATE TABLE "<b>t</b>" (id INTEGER PRIMARY KEY, a INTEGER)',
        'CREATE INDEX "<script>x</script>" ON "<b>t</b>" (a)',
        'CREATE INDEX "second" ON "<b>t</b>" (a)',
    )
    report = wb.connect(sqlite_url).health()
    assert len(report) == 1
    html = report._repr_html_()
    assert "<script>x" not in html and "&lt;script&gt;" in html
    again = HealthReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert [f.to_dict() for f in again] == [f.to_dict() for f in report]
    assert list(report.to_frame().code) == ["duplicate_index"]
    inv = wb.Investigation("health", folder=tmp_path / "inv")  # type: ignore[operator]
    step = inv.record(report)
    assert step.kind == wb.StepKind.FINDINGS and len(step.data["findings"]) == 1


def test_existing_index_matching_rules() -> None:
    index = Index("orders", "orders_user_created", ("user_id", "created_at"))
    assert existing_for("orders", ["user_id"], [index]) is index
    assert existing_for("orders", ["user_id", "created_at"], [index], directions=["desc", "desc"])
    mixed = existing_for("orders", ["user_id", "created_at"], [index], directions=["asc", "desc"])
    assert mixed is None
    assert existing_for("orders", ["created_at"], [index]) is None
    partial = Index("orders", "p", ("user_id",), predicate="status = 'x'")
    assert existing_for("orders", ["user_id"], [partial]) is None
    assert existing_for("orders", ["user_id"], [partial], predicate="status = 'x'") is partial


# -- the command line -------------------------------------------------------------------------------
def test_command_line(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from workbench.cli import main

    wb.demo.load(sqlite_url, scale=0.01)
    assert main(["health", sqlite_url]) == 0
    out = capsys.readouterr().out
    assert "duplicate_index" in out and "DROP INDEX events_user_idx" in out
    assert main(["health", sqlite_url, "--json", "--fail-on", "medium"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["dialect"] == "sqlite" and {f["code"] for f in data["findings"]} >= {
        "duplicate_index"
    }
    assert main(["health", sqlite_url, "--fail-on", "high"]) == 0  # nothing that severe
    capsys.readouterr()
    assert main(["health"]) == 2
    assert "no database URL" in capsys.readouterr().err
