"""The rollback sandbox on a live database: it waits briefly for locks, says when an index
would block writes to a large table, and judges an index with HypoPG first where the extension
is installed (PostgreSQL 15 in CI has it; the embedded PostgreSQL 18 has none)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

import workbench as wb
from workbench import fixes

from .conftest import PG_URL, require


@pytest.fixture(scope="module")
def hypopg_url(pg_url: str) -> Iterator[str]:
    """A database of its own on PostgreSQL 15 with HypoPG created (the shared one stays as
    it is), and a table the planner would index."""
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        available = connection.execute(
            sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'hypopg'")
        ).scalar()
    require(bool(available), "HypoPG is not installed (Debian: postgresql-15-hypopg)")
    name = f"wb_hypo_{uuid.uuid4().hex[:8]}"
    with engine.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    target = sa.create_engine(url)
    with target.begin() as connection:
        connection.execute(sa.text("CREATE EXTENSION hypopg"))
        connection.execute(
            sa.text(
                "CREATE TABLE events AS SELECT g AS id, g % 1000 AS kind, md5(g::text) AS body "
                "FROM generate_series(1, 100000) g"
            )
        )
        connection.execute(sa.text("ANALYZE events"))
    target.dispose()
    yield url
    with engine.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
    engine.dispose()


QUERY = "SELECT * FROM events WHERE kind = 7"


def _indexes(session: wb.Session) -> list[str]:
    return [index.name for index in session.table("events").indexes]


def test_an_index_the_planner_would_use_is_judged_first_then_built(hypopg_url: str) -> None:
    with wb.connect(hypopg_url) as s:
        trial = s.try_fix("CREATE INDEX events_kind_idx ON events (kind)", sql=QUERY)
        assert not trial.hypothetical and trial.diff.direction == "faster"
        assert any(
            n.startswith("HypoPG first: the planner would use this index") for n in trial.notes
        )
        assert _indexes(s) == []
        # the hypothetical index is gone from the connection too
        assert s.query("SELECT count(*) AS n FROM hypopg_list_indexes").n[0] == 0


def test_an_index_the_planner_would_not_use_is_not_built(hypopg_url: str) -> None:
    with wb.connect(hypopg_url) as s:
        trial = s.try_fix("CREATE INDEX ON events (body)", sql=QUERY)
        assert trial.hypothetical
        assert trial.notes[-1].startswith("HypoPG: the planner would not use this index")
        assert "unchanged" in trial.verdict
        assert "hypothetical index (HypoPG" in trial._repr_html_()


def test_on_a_large_table_only_the_hypothetical_index(
    hypopg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fixes, "LARGE_TABLE_ROWS", 50_000)
    with wb.connect(hypopg_url) as s:
        trial = s.try_fix("CREATE INDEX ON events (kind)", sql=QUERY)
        assert trial.hypothetical and "cheaper" in trial.verdict
        assert any("blocks writes to events" in n for n in trial.notes)
        assert trial.notes[-1].startswith("not built: the table is large")


def test_without_hypopg_the_index_is_built_and_the_large_table_said(
    embedded_session: wb.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fixes, "LARGE_TABLE_ROWS", 1_000)
    sql = "SELECT * FROM orders WHERE user_id = 42"
    trial = embedded_session.try_fix("CREATE INDEX ON orders (user_id)", sql=sql)
    assert not trial.hypothetical
    assert not any("HypoPG" in n for n in trial.notes)
    assert any("orders is large" in n and "blocks writes to orders" in n for n in trial.notes)
    with pytest.raises(wb.ConfigurationError, match="HypoPG"):
        embedded_session.try_fix("CREATE INDEX ON orders (user_id)", sql=sql, hypothetical="only")


def test_the_sandbox_gives_up_on_a_busy_table_within_seconds(hypopg_url: str) -> None:
    holder = sa.create_engine(hypopg_url)
    with holder.connect() as connection, wb.connect(hypopg_url) as s:
        connection.execute(sa.text("UPDATE events SET body = body WHERE id = 1"))  # a writer
        started = time.monotonic()
        with pytest.raises(wb.LockTimeoutError) as info:
            s.try_fix("CREATE INDEX ON events (kind)", sql=QUERY, hypothetical="never")
        elapsed = time.monotonic() - started
        connection.rollback()
    holder.dispose()
    assert elapsed < fixes.SANDBOX_LOCK_TIMEOUT_S + 3
    assert "lock" in str(info.value).lower()


def test_after_a_lock_timeout_nothing_more_runs_in_that_transaction(hypopg_url: str) -> None:
    """Naming the lock's holders rolls the transaction back: a statement after it would run in
    a new transaction, without the sandbox's timeouts. It is refused instead."""
    holder = sa.create_engine(hypopg_url)
    with holder.connect() as connection, wb.connect(hypopg_url, timeout=3) as s:
        connection.execute(sa.text("UPDATE events SET body = body WHERE id = 2"))
        with s.sandbox() as tx:
            tx.execute("CREATE TABLE wb_sandbox_probe (id int)")  # runs: no lock in the way
            with pytest.raises(wb.LockTimeoutError):
                tx.execute("ALTER TABLE events ADD COLUMN extra int")  # waits on the writer
            started = time.monotonic()
            with pytest.raises(wb.QueryError, match="nothing more runs in this transaction"):
                tx.execute("SELECT pg_sleep(20)")
            assert time.monotonic() - started < 1
        connection.rollback()
    holder.dispose()
