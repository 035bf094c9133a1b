"""The demo dataset: deterministic, the same in every engine, and its pathologies are real."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session as OrmSession

import workbench as wb
from workbench.demo import generate, row_counts
from workbench.demo.pathologies import PATHOLOGIES, pathology

ROOT = Path(__file__).resolve().parents[1]

CHECKSUM_SQL = {
    "accounts": "SELECT count(*), sum(id), count(DISTINCT name) FROM accounts",
    "users": "SELECT count(*), count(DISTINCT email), count(last_login_at), "
    "sum(account_id) FROM users",
    "products": "SELECT count(*), sum(price_cents), count(DISTINCT sku) FROM products",
    "orders": "SELECT count(*), sum(total_cents), sum(user_id), "
    "sum(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) FROM orders",
    "order_items": "SELECT count(*), sum(quantity), sum(product_id) FROM order_items",
    "events": "SELECT count(*), sum(user_id), sum(length(payload)) FROM events",
}


def test_generation_is_deterministic() -> None:
    a, b = generate(0.01), generate(0.01)
    for name in a:
        assert a[name].equals(b[name]), name
    assert not generate(0.01, seed=7)["users"].equals(a["users"])


def test_scale_knob_and_size() -> None:
    full = row_counts(1.0)
    assert 1_500_000 <= sum(full.values()) <= 2_000_000
    small = row_counts(0.05)
    assert small["orders"] == 20_000 and small["users"] == 5_000
    with pytest.raises(wb.ConfigurationError, match="scale"):
        row_counts(0)


def test_planted_distributions() -> None:
    data = generate(0.2)
    users, orders = data["users"], data["orders"]
    # skew: account 1 owns ~8% of users
    assert users.account_id.eq(1).mean() == pytest.approx(0.08, abs=0.01)
    # correlation: each city belongs to exactly one country
    assert users.groupby("city").country.nunique().max() == 1
    # 'pending' only in the last two weeks
    pending = orders[orders.status == "pending"]
    assert pending.created_at.min() >= orders.created_at.max() - __import__("pandas").Timedelta(
        days=15
    )
    # ids grow with time (physical correlation)
    assert orders.created_at.is_monotonic_increasing


@pytest.fixture(scope="module")
def loaded_everywhere(
    tmp_path_factory: pytest.TempPathFactory, pg_url: str, mariadb_url: str
) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("demo")
    urls = {
        "sqlite": f"sqlite:///{folder / 'demo.sqlite'}",
        "duckdb": f"duckdb:///{folder / 'demo.duckdb'}",
        "postgresql": pg_url,
        "mariadb": mariadb_url,
    }
    for url in urls.values():
        report = wb.demo.load(url, scale=0.02, replace=True)
        assert report.total_rows > 30_000
    return urls


def test_same_data_in_every_engine(loaded_everywhere: dict[str, str]) -> None:
    sums: dict[str, dict[str, tuple[object, ...]]] = {}
    for dialect, url in loaded_everywhere.items():
        s = wb.connect(url)
        sums[dialect] = {
            t: tuple(int(v) for v in s.execute(q).rows[0]) for t, q in CHECKSUM_SQL.items()
        }
    reference = sums["postgresql"]
    for dialect, found in sums.items():
        assert found == reference, dialect


def test_load_is_idempotent(loaded_everywhere: dict[str, str]) -> None:
    report = wb.demo.load(loaded_everywhere["sqlite"], scale=0.02)
    assert report.already_loaded and report.seconds < 1
    assert wb.demo.is_loaded(loaded_everywhere["duckdb"])


def test_same_schema_and_indexes_in_every_engine(loaded_everywhere: dict[str, str]) -> None:
    for dialect, url in loaded_everywhere.items():
        s = wb.connect(url)
        orders = s.table("orders")
        leading = {ix.columns[0] for ix in orders.indexes}
        assert "user_id" not in leading, dialect  # the planted missing index, everywhere
        assert {"id", "created_at", "status"} <= leading, dialect


@pytest.mark.parametrize("item", PATHOLOGIES, ids=lambda p: p.name)
def test_every_pathology_query_runs_on_every_engine(item, loaded_everywhere) -> None:  # type: ignore[no-untyped-def]
    for dialect, url in loaded_everywhere.items():
        s = wb.connect(url)
        s.execute(item.sql_for(dialect))


def test_pathologies_show_on_postgres(embedded_session: wb.Session) -> None:
    s = embedded_session

    def plan(name: str) -> wb.Plan:
        item = pathology(name)
        return s.explain(item.sql, analyze=True, settings=item.settings or None)

    missing = plan("missing_index")
    assert any(n.operation.endswith("Seq Scan") and n.relation == "orders" for n in missing.nodes)
    sargable = plan("non_sargable_predicate")
    assert any(n.operation.endswith("Seq Scan") and n.relation == "users" for n in sargable.nodes)
    offset = plan("offset_pagination")
    assert max(n.actual_rows or 0 for n in offset.nodes) >= 200_000
    correlated = plan("misestimate_correlated")
    scans = [n for n in correlated.nodes if n.relation == "users"]
    assert scans[0].misestimate is not None
    assert scans[0].misestimate.direction == "under"
    assert scans[0].misestimate.factor >= 10
    assert any(n.spill and n.spill.kind == "sort" for n in plan("sort_spill").nodes)


def test_pathology_fixes_work(embedded_session: wb.Session) -> None:
    s = embedded_session
    with s.sandbox() as tx:
        tx.execute(pathology("missing_index").fix)
        rows = tx.execute("EXPLAIN (FORMAT JSON) " + pathology("missing_index").sql).rows
    after = wb.parse_plan(rows[0][0])
    assert any("Index" in n.operation and n.relation == "orders" for n in after.nodes)
    assert "orders_user_id_idx" not in {ix.name for ix in s.table("orders").indexes}


def _count_statements(engine, fn) -> int:  # type: ignore[no-untyped-def]
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def test_the_sample_app_has_an_n_plus_one(embedded_session: wb.Session) -> None:
    engine = embedded_session.engine
    with OrmSession(engine) as db:
        slow: list = []
        n_slow = _count_statements(engine, lambda: slow.extend(wb.demo.app.list_users(db)))
    with OrmSession(engine) as db:
        fast: list = []
        n_fast = _count_statements(engine, lambda: fast.extend(wb.demo.app.list_users_fixed(db)))
    assert len(slow) == 50 and slow == fast
    assert n_slow >= 51 + 1  # the page, one orders query per user, plus account loads
    assert n_fast <= 3


def test_app_handlers_run(embedded_session: wb.Session) -> None:
    with OrmSession(embedded_session.engine) as db:
        user = wb.demo.app.find_user_by_email(db, "OLIVIA.KOWALSKI1@gmail.com")
        assert user is not None and user.id == 1
        assert len(wb.demo.app.recent_orders_page(db, page=3)) == 20


def test_dataset_card_matches_the_generator() -> None:
    card = (ROOT / "data" / "README.md").read_text()
    for table, rows in wb.demo.BASE_ROWS.items():
        assert re.search(rf"`{table}`\s*\|\s*{rows:,}", card), table
    for item in PATHOLOGIES:
        assert item.name in card, item.name


def test_demo_loads_into_a_fresh_engine_object(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    report = wb.demo.load(engine, scale=0.01)
    assert report.rows["users"] == 1_000 and not report.already_loaded
