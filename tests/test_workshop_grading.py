"""The workshop's checks against a hostile learner: answers that return the right rows for the
task's one value (typed in, looked up by hand, a partial index on the literal), answers that
only work because the demo data hides a trap, a cached handler result, a rewritten estimate
query, and a work_mem nobody should ask for. Each must fail, and say why; real alternatives to
the reference solution must still pass.

On a learner database made by ``workshop setup`` (scale 0.2) on PostgreSQL 15.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import workbench as wb
import workbench.demo.workshop as ws

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def learner(pg_url: str) -> Iterator[wb.Session]:
    server = pg_url.rsplit("/", 1)[0] + "/postgres"
    prefix = f"wbg{uuid.uuid4().hex[:8]}"
    classroom = ws.setup(server, learners=1, prefix=prefix, progress=False)
    try:
        with ws.connect(classroom.learners[0].url) as s:
            yield s
    finally:
        ws.teardown(server, prefix=prefix)


#: how a check turns down rows typed in: not the task's value, not the rows of the check's own
#: data (it plants some), or not the rows with another value
_TYPED = ("does not use", "rows differ", "another value", "your query returns")


def _check(s: wb.Session, name: str, answer: Any) -> ws.CheckResult:
    return ws.check(s, name, answer, record=False)


def _values_list(s: wb.Session, sql: str) -> str:
    """The rows of ``sql`` typed in as a VALUES list (what a learner copies from an output)."""
    rows = s.query(sql).itertuples(index=False)
    return (
        "SELECT * FROM (VALUES "
        + ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
        + ") AS typed"
    )


def _literal(value: Any) -> str:
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _failing(result: ws.CheckResult, *said: str) -> None:
    assert not result.passed, result.message
    assert result.wrong and result.next, result.message
    text = " ".join(result.wrong).lower()
    assert any(s in text for s in said), result.message


def test_typed_in_rows_and_lookups_by_hand_fail(learner: wb.Session) -> None:
    s = learner
    login = ws.scenario("login_by_email").bind(s)
    (user_id, stored, name) = s.query(login.sql).iloc[0]
    typed = f"SELECT {user_id}, '{stored}', '{name}'"
    _failing(_check(s, "login_by_email", typed), *_TYPED)
    by_id = f"SELECT id, email, full_name FROM users WHERE id = {user_id}"
    _failing(_check(s, "login_by_email", by_id), "does not use the task's {email}")
    # the stored capitalisation, through the unique index: right for this address only
    exact = f"SELECT id, email, full_name FROM users WHERE email = '{stored}'"
    _failing(_check(s, "login_by_email", exact), *_TYPED)

    search = ws.scenario("search_by_fragment").bind(s)
    typed = _values_list(s, search.sql)
    _failing(_check(s, "search_by_fragment", typed), *_TYPED)

    page = ws.scenario("deep_pages").bind(s)
    ids = ", ".join(str(i) for i in s.query(page.sql)["id"])
    by_ids = (
        f"SELECT id, user_id, total_cents, created_at FROM orders WHERE id IN ({ids}) "
        "ORDER BY created_at DESC, id DESC LIMIT 20"
    )
    _failing(_check(s, "deep_pages", by_ids), "does not use", "rows differ")


def test_an_index_on_the_task_s_one_value_fails_with_another(learner: wb.Session) -> None:
    s = learner
    login = ws.scenario("login_by_email").bind(s)
    email = login.sql.split("'")[1]
    partial = f"CREATE INDEX ON users (id) WHERE lower(email) = '{email}';\n{login.sql}"
    _failing(_check(s, "login_by_email", partial), "fast only for the value")

    search = ws.scenario("search_by_fragment").bind(s)
    fragment = search.sql.split("'%")[1].split("%'")[0]
    partial = f"CREATE INDEX ON users (id) WHERE email ILIKE '%{fragment}%'"
    _failing(_check(s, "search_by_fragment", partial), "fast only for the value")

    history = ws.scenario("customer_history").bind(s)
    user = history.sql.split("user_id = ")[1].split()[0]
    partial = f"CREATE INDEX ON orders (created_at) WHERE user_id = {user}"
    _failing(_check(s, "customer_history", partial), "fast only for the value")


def test_traps_the_demo_data_would_hide_are_planted_by_the_check(learner: wb.Session) -> None:
    s = learner
    day = "SELECT id, user_id, total_cents, created_at FROM orders WHERE created_at {}"
    for where in (
        "BETWEEN '2025-06-01' AND '2025-06-02'",
        "BETWEEN '2025-06-01' AND '2025-06-01 23:59:59'",
        "> '2025-06-01' AND created_at < '2025-06-02'",
    ):
        _failing(_check(s, "orders_of_a_day", day.format(where)), "row")
    zero = "SELECT id, email, 0 AS orders FROM users ORDER BY id DESC LIMIT 20"
    _failing(_check(s, "newest_users_orders", zero), "rows differ")


def test_a_handler_that_returns_an_earlier_result_or_no_orders_fails(learner: wb.Session) -> None:
    s = learner
    cached = ws.run_handler(s, wb.demo.app.list_users)

    def from_cache(db: Any) -> list[dict[str, Any]]:
        return cached

    _failing(_check(s, "api_users_n_plus_one", from_cache), "list_users says")
    no_orders: Callable[[Any], list[dict[str, Any]]] = lambda db: [  # noqa: E731
        {**item, "orders": 0, "lifetime_value_cents": 0, "last_order_at": None}
        for item in from_cache(db)
    ]
    _failing(_check(s, "api_users_n_plus_one", no_orders), "list_users says")

    kept: dict[str, Any] = {}

    def sticky(db: Any) -> Any:  # right on its first call, then the same result forever
        if "result" not in kept:
            kept["result"] = wb.demo.app.list_users_fixed(db)
        return kept["result"]

    _failing(_check(s, "api_users_n_plus_one", sticky), "keep results between calls")
    assert _check(s, "api_users_n_plus_one", wb.demo.app.list_users_fixed).passed


def test_the_estimate_is_judged_on_the_planted_query(learner: wb.Session) -> None:
    s = learner
    sc = ws.scenario("stockholm_estimate").bind(s)
    _failing(_check(s, "stockholm_estimate", _values_list(s, sc.sql)), "keeps the query")
    rewrite = sc.sql.replace("country = 'SE' AND ", "")
    assert rewrite != sc.sql
    _failing(_check(s, "stockholm_estimate", rewrite), "keeps the query")


def test_work_mem_must_be_reasonable(learner: wb.Session) -> None:
    s = learner
    result = _check(s, "big_sort", "SET work_mem = '1GB'")
    _failing(result, "what the sort wrote to disk")
    assert "nothing spills" in " ".join(result.right)
    assert _check(s, "big_sort", "SET work_mem = '32MB'").passed


def test_real_alternatives_to_the_reference_pass(learner: wb.Session) -> None:
    s = learner
    login = ws.scenario("login_by_email").bind(s)
    hashed = f"CREATE INDEX ON users USING hash (lower(email));\n{login.sql}"
    assert _check(s, "login_by_email", hashed).passed
    history = "CREATE INDEX ON orders (user_id, created_at) INCLUDE (status, total_cents)"
    assert _check(s, "customer_history", history).passed
    page = ws.scenario("deep_pages").bind(s)
    assert isinstance(page.solution, str)
    # the same keyset, spelled with the values as the task shows them, in another layout
    assert _check(s, "deep_pages", page.solution.replace(" FROM ", "\n  FROM ")).passed


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("SELECT id FROM users WHERE id = 1 FOR UPDATE", "locks or changes rows"),
        ("SET role = 'postgres'", "not a setting a fix changes"),
        ("SET search_path = elsewhere, public", "not a setting a fix changes"),
        ("SET idle_session_timeout = 0", "the workbench's to set"),
        ("DELETE FROM orders", "does not DELETE"),
    ],
)
def test_answers_that_are_not_fixes_are_refused_in_words(answer: str, said: str) -> None:
    from workbench.demo.workshop.answers import AnswerError, parse

    with pytest.raises(AnswerError, match=said):
        parse(answer, token="t0")


def test_second_round_of_hostile_answers_fails(learner: wb.Session) -> None:
    """What a second hostile review found: a dummy index-only subquery, parallel workers that
    spill where the leader does not, filters that fit the demo data's accidents, a fraction of
    a second closer to midnight, and indexes on a part of the data the task's value is in."""
    s = learner
    signups = ws.scenario("signups_report").bind(s)
    dummy = (
        f"CREATE INDEX ON events (type, created_at);\n{signups.sql} "
        "AND NOT EXISTS (SELECT 1 FROM events WHERE id < 0)"
    )
    _failing(_check(s, "signups_report", dummy), "not an index only scan")
    parallel = (
        "SET max_parallel_workers_per_gather = 4; SET parallel_leader_participation = off; "
        "SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "
        "SET min_parallel_table_scan_size = 0"
    )
    _failing(_check(s, "big_sort", parallel), "still spills")

    pending = ws.scenario("oldest_pending").bind(s).sql
    oldest = s.query("SELECT min(created_at) AS at FROM orders WHERE status = 'pending'")
    since = f"WHERE o.created_at >= '{oldest.iloc[0]['at']}' AND o.status"
    recent = pending.replace("WHERE o.status", since)  # right on this data, by its accident
    _failing(_check(s, "oldest_pending", recent), "rows differ", "your query returns")
    formula = "SELECT id, email, id % 4 AS orders FROM users ORDER BY id DESC LIMIT 20"
    _failing(_check(s, "newest_users_orders", formula), "rows differ")
    day = "SELECT id, user_id, total_cents, created_at FROM orders WHERE created_at {}"
    for end in ("<= '2025-06-01 23:59:59.5'", "<= '2025-06-01 23:59:59.999'"):
        where = f">= '2025-06-01' AND created_at {end}"
        _failing(_check(s, "orders_of_a_day", day.format(where)), "your query returns")

    # an index over the half of the users the task's address is in, and the query kept to
    # that half (the other values come from both halves: one of them is always outside)
    login = ws.scenario("login_by_email").bind(s)
    half = int(s.query("SELECT count(*) / 2 AS n FROM users").iloc[0]["n"])
    first_half = (
        f"CREATE INDEX ON users (lower(email)) WHERE id < {half};\n{login.sql} AND id < {half}"
    )
    _failing(_check(s, "login_by_email", first_half), "another value")
    history = ws.scenario("customer_history").bind(s)
    user = int(history.sql.split("user_id = ")[1].split()[0])
    half = f"CREATE INDEX ON orders (user_id, created_at) WHERE user_id <= {user + 500}"
    _failing(_check(s, "customer_history", half), "another value")


def test_second_round_of_real_alternatives_passes(learner: wb.Session) -> None:
    s = learner
    trigram = "CREATE EXTENSION pg_trgm;\nCREATE INDEX ON users USING gin (email gin_trgm_ops)"
    assert _check(s, "search_by_fragment", trigram).passed  # pg_trgm is there already
    page = ws.scenario("deep_pages").bind(s)
    assert isinstance(page.solution, str)
    stamp = page.solution.split("('")[1].split("'")[0]
    iso = page.solution.replace(stamp, stamp.replace(" ", "T"))
    assert iso != page.solution and _check(s, "deep_pages", iso).passed


def test_every_scenario_with_rows_to_type_in_plants_rows_of_its_own() -> None:
    """Rows typed in from an earlier output never match: each scenario whose answer is a query
    plants random rows, is tried with other values, or refuses a rewrite."""
    for sc in ws.SCENARIOS:
        planted = any("random()" in statement for statement in sc.setup)
        assert planted or sc.variants or sc.kind == "estimate", sc.name


def test_indexes_made_partial_to_dodge_the_measured_insert_still_cost(
    learner: wb.Session,
) -> None:
    s = learner
    sc = ws.scenario("index_budget").bind(s)
    user = int(sc.sql.split("user_id = ")[1].split()[0])
    extra = (
        "CREATE INDEX ON orders (user_id, status) WHERE {where};\n"
        "CREATE INDEX ON orders (total_cents) WHERE {where};\n"
        "CREATE INDEX ON orders (currency, created_at) WHERE {where}"
    )
    solution = "CREATE INDEX ON orders (user_id, created_at);\n"
    for where in (f"user_id <> {user}", "status <> 'pending'"):
        result = _check(s, "index_budget", solution + extra.format(where=where))
        _failing(result, "more index entries per row")
    passed = _check(s, "index_budget", solution)
    assert passed.passed and "an insert of 9 rows" in " ".join(passed.right), passed.message


def test_honest_answers_written_in_other_styles_pass(learner: wb.Session) -> None:
    """What a third review, of honest learners, found refused or miscounted."""
    s = learner
    stats = (
        "CREATE STATISTICS public.users_city_country (dependencies) ON city, country "
        "FROM users;\nANALYZE users;"
    )
    assert _check(s, "stockholm_estimate", stats).passed
    vacuumed = (
        "CREATE STATISTICS (dependencies, mcv) ON country, city FROM users;\nVACUUM ANALYZE users;"
    )
    result = _check(s, "stockholm_estimate", vacuumed)
    assert result.passed and "VACUUM was left out" in result.next, result.message
    wrapped = "BEGIN;\nCREATE INDEX ON orders (user_id, created_at);\nCOMMIT;"
    result = _check(s, "customer_history", wrapped)
    assert result.passed and "BEGIN, COMMIT" in result.next, result.message

    def four_queries(db: Any) -> Any:  # a pager's counts besides the two eager loads
        from sqlalchemy import func, select

        db.scalar(select(func.count()).select_from(wb.demo.app.User))
        db.scalar(select(func.count()).select_from(wb.demo.app.Account))
        return wb.demo.app.list_users_fixed(db)

    passed = _check(s, "api_users_n_plus_one", four_queries)
    assert passed.passed, passed.message
    explained = _check(s, "login_by_email", "EXPLAIN ANALYZE SELECT 1")
    _failing(explained, "is an explain")


def test_a_check_never_tells_a_learner_to_run_more_executions(learner: wb.Session) -> None:
    """The check chooses the runs: an answer that is not fast enough is told so, not asked
    for more executions it cannot give."""
    s = learner
    for name, answer in (
        ("oldest_pending", "CREATE INDEX ON orders (status)"),
        ("biggest_orders", "CREATE INDEX ON orders (user_id)"),
    ):
        result = _check(s, name, answer)
        _failing(result, "the bar is 10× faster")
        assert "run more" not in result.message, result.message


def test_dropping_the_tie_breaker_changes_the_order_of_ties(learner: wb.Session) -> None:
    s = learner
    untied = (
        "CREATE INDEX ON orders (total_cents DESC);\n"
        "SELECT id, user_id, total_cents, created_at FROM orders ORDER BY total_cents DESC "
        "LIMIT 20"
    )
    _failing(_check(s, "biggest_orders", untied), "another order", "rows differ")


def test_a_range_first_index_fails_on_pages_however_fast_it_looks(learner: wb.Session) -> None:
    """On small data a (created_at, user_id) index can look 10× faster than reading the table;
    it still walks a large part of itself, and the check counts the pages."""
    s = learner
    range_first = "CREATE INDEX ON orders (created_at, user_id)"
    _failing(_check(s, "customer_history", range_first), "reads a large part of itself")
    # here the planner may also leave it unused and read the table: then the speed says it
    _failing(_check(s, "index_budget", range_first), "reads a large part of itself", "the bar is")
    alone = _check(s, "customer_history", "CREATE INDEX ON orders (user_id)")
    assert alone.passed, alone.message  # fetches the customer's older orders: honest pages
