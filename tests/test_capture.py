"""Statement capture, fingerprints, N+1 detection, profiling an app handler, server statistics."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session as OrmSession

import workbench as wb
from workbench.fingerprint import fingerprint, normalize


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("SELECT * FROM t WHERE id = 1", "select *  from t where id = 42"),
        ("SELECT * FROM t WHERE name = 'x'", "SELECT * FROM t WHERE name = 'it''s'"),
        ("SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (4)"),
        ("SELECT * FROM t WHERE id = %(id_1)s", "SELECT * FROM t WHERE id = :id"),
        ("SELECT * FROM t WHERE id = $1", "SELECT * FROM t WHERE id = ?"),
        ("INSERT INTO t VALUES (1, 'a'), (2, 'b')", "INSERT INTO t VALUES (3, 'c')"),
    ],
)
def test_fingerprints_ignore_values(a: str, b: str) -> None:
    assert fingerprint(a) == fingerprint(b)


def test_fingerprints_keep_structure() -> None:
    assert fingerprint("SELECT * FROM t1 WHERE id = 1") != fingerprint(
        "SELECT * FROM t2 WHERE id = 1"
    )
    assert normalize("SELECT a::int FROM t") == "select a::int from t"


def test_capture_finds_the_demo_n_plus_one(embedded_session: wb.Session) -> None:
    s = embedded_session
    with s.capture() as cap, OrmSession(s.engine) as db:
        users = wb.demo.app.list_users(db, per_page=50)
    assert len(users) == 50
    candidates = cap.n_plus_one()
    orders = next(c for c in candidates if "from orders" in c["sql"])
    assert orders["count"] == 50 and orders["distinct_values"] == 50
    assert any("app.py" in site and "list_users" in site for site in orders["call_sites"])
    accounts = [c for c in candidates if "from accounts" in c["sql"]]
    assert accounts and "_user_summary" in " ".join(accounts[0]["call_sites"])
    summary = cap.summary()
    assert summary["statements"] == len(cap) >= 52
    assert summary["db_ms"] > 0 and summary["n_plus_one"]
    repeated = cap.repeated
    assert repeated["count"].max() == 50
    top = repeated.loc[repeated["count"].idxmax()]
    assert top["relationship"] == "User.orders" and "list_users" in top["call_sites"]
    frame = cap.statements
    assert len(frame) == len(cap) and (frame.source == "engine").all()
    assert "<b>" in cap._repr_html_() and "N+1" in cap._repr_html_()


def test_the_fixed_handler_has_no_n_plus_one(embedded_session: wb.Session) -> None:
    with embedded_session.capture() as cap, OrmSession(embedded_session.engine) as db:
        wb.demo.app.list_users_fixed(db, per_page=50)
    assert len(cap) <= 3 and not cap.n_plus_one()


def test_capture_sees_the_workbench_and_errors(sqlite_url: str) -> None:
    s = wb.connect(sqlite_url)
    with s.capture() as cap:
        s.query("SELECT 1")
        with pytest.raises(wb.QueryError):
            s.query("SELECT * FROM no_such_table")
    assert [e.source for e in cap.entries] == ["workbench", "workbench"]
    assert cap.entries[1].error and "no_such_table" in cap.entries[1].error
    assert cap.entries[0].call_site and "test_capture.py" in cap.entries[0].call_site
    # outside the block nothing is recorded
    s.query("SELECT 2")
    assert len(cap) == 2


def test_profiling_a_handler_splits_database_and_python_time(embedded_session: wb.Session) -> None:
    def handler() -> None:
        with OrmSession(embedded_session.engine) as db:
            wb.demo.app.list_users(db, per_page=20)

    prof = embedded_session.profile(handler, runs=3, warmup=1)
    assert prof.mode == "callable" and prof.runs == 3
    trips = prof.extra["round_trips"]
    assert (trips >= 21).all()
    assert (prof.extra["db_ms"] > 0).all()
    assert (prof.extra["db_ms"] <= prof.all_latencies_ms).all()
    assert "round trips" in prof.notes[0] and "in the database" in prof.notes[0]
    fig = wb.charts.split_chart(prof)
    assert fig.axes[0].get_ylabel() == "time (ms)"


def test_pg_stat_statements(embedded_session: wb.Session, pg_url: str) -> None:
    import uuid

    import sqlalchemy as sa

    embedded_session.query("SELECT count(*) FROM orders WHERE status = 'pending'")
    top = embedded_session.top_statements(limit=5)
    assert 0 < len(top) <= 5
    assert {"calls", "total_ms", "mean_ms", "query"} <= set(top.columns)
    assert not top["query"].str.match(r"(?i)\s*(begin|rollback|set )").any()
    # PostgreSQL 15 loads the extension (CI preloads it); a new database has not created it
    name = f"wb_nopss_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        plain = wb.connect(pg_url.rsplit("/", 1)[0] + f"/{name}")
        with plain, pytest.raises(wb.ConfigurationError, match="not created") as info:
            plain.top_statements()
        assert "CREATE EXTENSION pg_stat_statements" in str(info.value)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def test_n_plus_one_fix_names_the_real_relationship(pg_url: str, table_name: str) -> None:
    """The capture hears SQLAlchemy name each lazy load, so the fix uses the app's own model
    and attribute, whatever its tables and foreign keys are called."""
    from sqlalchemy import Column, ForeignKey, Integer, select
    from sqlalchemy.orm import DeclarativeBase, relationship, selectinload

    class Base(DeclarativeBase):
        pass

    class Author(Base):  # names unlike the tables', on purpose
        __tablename__ = f"{table_name}_people"
        id = Column(Integer, primary_key=True)
        books = relationship("Book", back_populates="writer")

    class Book(Base):
        __tablename__ = f"{table_name}_volumes"
        id = Column(Integer, primary_key=True)
        writer_id = Column(Integer, ForeignKey(f"{table_name}_people.id"))
        writer = relationship("Author", back_populates="books")

    s = wb.connect(pg_url)
    Base.metadata.create_all(s.engine)
    try:
        with OrmSession(s.engine) as db:
            db.add_all(
                [Author(id=i, books=[Book(id=i * 10 + j) for j in range(3)]) for i in range(12)]
            )
            db.commit()
        with s.capture() as cap, OrmSession(s.engine) as db:
            titles = [len(a.books) for a in db.scalars(select(Author))]
        assert titles == [3] * 12
        (group,) = cap.n_plus_one()
        assert group["count"] == 12 and group["relationships"] == ["Author.books"]
        (finding,) = [f for f in wb.analyze(s.evidence(capture=cap)) if f.code == "n_plus_one"]
        assert finding.fix == "select(Author).options(selectinload(Author.books))"
        with s.capture() as fixed, OrmSession(s.engine) as db:
            loaded = db.scalars(select(Author).options(selectinload(Author.books))).all()
            assert [len(a.books) for a in loaded] == [3] * 12
        assert fixed.n_plus_one() == [] and len(fixed) == 2  # the fix, applied, works
    finally:
        Base.metadata.drop_all(s.engine)
        s.close()


@pytest.mark.parametrize("which", ["sqlite", "postgresql", "mariadb", "duckdb"])
def test_capture_records_raw_dbapi_cursors(
    which: str, sqlite_url: str, pg_url: str, mariadb_url: str, duckdb_url: str
) -> None:
    url = {"sqlite": sqlite_url, "postgresql": pg_url, "mariadb": mariadb_url}.get(
        which, duckdb_url
    )
    s = wb.connect(url)
    with s.capture() as cap:
        raw = s.engine.raw_connection()
        cursor = raw.cursor()
        for i in range(6):
            cursor.execute(f"SELECT {i} + 1")
            assert cursor.fetchall()[0][0] == i + 1
        raw.close()
        s.query("SELECT 42 AS answer")  # recorded once, as the workbench's
    sources = cap.statements.source.tolist()
    assert sources == ["raw"] * 6 + ["workbench"]
    assert all("test_capture.py" in site for site in cap.statements.call_site)
    assert cap.n_plus_one()[0]["count"] == 6  # the same statement, six values
    after = s.engine.raw_connection()  # outside the block: nothing recorded, nothing wrapped
    after.cursor().execute("SELECT 1")
    after.close()
    assert len(cap) == 7
