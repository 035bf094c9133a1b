"""Scenarios 12-13: the application's side of performance: the ORM's N+1 (fixed in code) and
the price of an index on every write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.demo.workshop.chapters_plans import NEW_ORDERS
from workbench.demo.workshop.chapters_where import ANY_CUSTOMER
from workbench.demo.workshop.model import Scenario, WrongAnswer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

__all__ = ["APP_SCENARIOS", "list_users_accounts_lazy", "list_users_inner_join"]

_HISTORY = (
    "SELECT id, status, total_cents, created_at FROM orders WHERE user_id = {user} "
    "ORDER BY created_at DESC, id DESC LIMIT 10"
)


def list_users_accounts_lazy(db: OrmSession) -> list[dict[str, Any]]:
    """A common half-fix of ``list_users``: orders eager-loaded, accounts still lazy."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from workbench.demo.app import User, _user_summary

    users = db.scalars(
        select(User)
        .options(selectinload(User.orders))
        .where(User.status == "active")
        .order_by(User.created_at.desc())
        .limit(50)
    ).all()
    return [_user_summary(user, user.orders) for user in users]


def list_users_inner_join(db: OrmSession) -> list[dict[str, Any]]:
    """A common rewrite of ``list_users`` in one statement, with an inner join."""
    from sqlalchemy import text

    rows = db.execute(
        text(
            "SELECT u.id, u.email, u.full_name, a.name, count(o.id), "
            "coalesce(sum(o.total_cents), 0), max(o.created_at) "
            "FROM (SELECT * FROM users WHERE status = 'active' "
            "ORDER BY created_at DESC LIMIT 50) u "
            "JOIN accounts a ON a.id = u.account_id JOIN orders o ON o.user_id = u.id "
            "GROUP BY u.id, u.email, u.full_name, a.name, u.created_at "
            "ORDER BY u.created_at DESC"
        )
    ).all()
    keys = ("id", "email", "name", "account", "orders", "lifetime_value_cents", "last_order_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _app(name: str) -> Any:
    from workbench.demo import app

    return getattr(app, name)


APP_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="api_users_n_plus_one",
        chapter="12 · The ORM's N+1",
        title="GET /api/users takes seconds",
        story="`wb.demo.app.list_users(db)` serves `GET /api/users`: it loads 50 users, then "
        "touches `user.orders` and `user.account` for each. The ORM sends a query per user "
        "per relationship, and each query for orders reads all of `orders`.",
        task="Write `my_list_users(db)` returning exactly what `list_users(db)` returns (the "
        "same users in the same order, the same fields), in a constant number of queries, at "
        "least 10× faster. `db` is a SQLAlchemy ORM session on the demo database; the models "
        "are in `wb.demo.app` (`User`, `Order`, `Account`).",
        sql="SELECT orders.id, orders.user_id, orders.status, orders.total_cents, "
        "orders.created_at FROM orders WHERE orders.user_id = {user}",
        lookups={
            "user": "SELECT id FROM users WHERE status = 'active' ORDER BY created_at DESC LIMIT 1"
        },
        solution=_app("list_users_fixed"),
        planted=_app("list_users"),
        kind="code",
        ordered=True,
        setup=(
            NEW_ORDERS.format(
                users="SELECT id FROM users WHERE status = 'active' "
                "ORDER BY created_at DESC LIMIT 50"
            ),
        ),
        hints=(
            "Run `list_users` under `with s.capture() as cap:` and look at `cap.repeated`: "
            "which statements repeat, and which line of the app sends them?",
            "Lazy loading sends one query each time an unloaded relationship is touched. "
            "The ORM can load a relationship for all the users at once, when it loads the "
            "users.",
            "Look at `sqlalchemy.orm.selectinload` and `joinedload`, given to "
            "`.options(...)` of the `select(User)`.",
        ),
        wrong_answers=(
            WrongAnswer(
                list_users_accounts_lazy,
                "Orders come in one query now, but `user.account` is still lazy: one query "
                "per account, and the N+1 remains.",
            ),
            WrongAnswer(
                list_users_inner_join,
                "One statement, but the inner join drops the users without orders: the page "
                "shows other people.",
            ),
        ),
        objectives=(
            "Find an N+1 with statement capture: the repeated statement and its call site",
            "Fix it in the application with eager loading (selectinload, joinedload)",
            "Measure a handler before and after, not only a statement",
        ),
        minutes=15,
        explanation="`selectinload(User.orders)` loads every user's orders with one `WHERE "
        "user_id IN (...)`, `joinedload(User.account)` joins the accounts into the first "
        "query: two statements whatever the page size. The IN query still reads all of "
        "`orders` without an index on `orders.user_id`, but once instead of fifty times.",
    ),
    Scenario(
        name="index_budget",
        chapter="13 · The price of an index: writes",
        title="An index for every idea",
        story="Checkout inserts rows into `orders` all day, and every index on "
        "`orders` adds an entry to write. A teammate wants the order history page fast and "
        "proposes five indexes at once.",
        task="Make the history query at least 10× faster while each row inserted into "
        "`orders` writes at most one more index entry than today. The check measures a "
        "checkout's insert with and without your indexes.",
        sql=_HISTORY,
        lookups={
            "user": "SELECT user_id FROM orders WHERE user_id >= 1000 GROUP BY user_id "
            "ORDER BY abs(count(*) - 50), user_id LIMIT 1",
            "next_id": "SELECT max(id) + 1 FROM orders",
        },
        variants={"user": ANY_CUSTOMER.format(low=20, high=100)},
        # checkout as it happens: the customer's order and eight like others spread over the
        # table (every status, country, amount: an index made partial to leave one kind of
        # order out still costs for the rest)
        write_sql="INSERT INTO orders (id, user_id, status, total_cents, currency, "
        "shipping_country, created_at) SELECT {next_id} + row_number() OVER (ORDER BY o.id), "
        "o.user_id, o.status, o.total_cents, o.currency, o.shipping_country, o.created_at "
        "FROM orders o WHERE o.id IN (SELECT (n * (SELECT max(id) FROM orders) / 9)::int "
        "FROM generate_series(1, 8) n) UNION ALL SELECT {next_id} + 9, {user}, 'pending', "
        "4200, 'EUR', 'DE', timestamp '2025-06-30 12:00:00'",
        solution="CREATE INDEX orders_user_id_created_at_idx ON orders (user_id, created_at)",
        kind="write_cost",
        ordered=True,
        table="orders",
        tight=True,
        hints=(
            "Explain the insert with `analyze=True, allow_writes=True` (it is rolled back): "
            "what does a plan say about WAL records? (`plan.root.buffers['wal_records']`: one "
            "per row written and one per index entry; the check inserts `sc.write_sql`, a "
            "checkout's nine rows)",
            "Each index on a table gets one entry per inserted row. One index can serve a "
            "query's equality filter and its ORDER BY at once.",
            "Which single index puts one user's orders together, already sorted by date?",
        ),
        wrong_answers=(
            WrongAnswer(
                "CREATE INDEX ON orders (user_id);\n"
                "CREATE INDEX ON orders (user_id, created_at);\n"
                "CREATE INDEX ON orders (user_id, status);\n"
                "CREATE INDEX ON orders (total_cents);\n"
                "CREATE INDEX ON orders (currency, created_at)",
                "The history page is fast (one of the five does that), but every checkout now "
                "writes five more index entries, four of them for queries nobody runs.",
            ),
            WrongAnswer(
                "CREATE INDEX ON orders (user_id);\nCREATE INDEX ON orders (user_id, created_at)",
                "Two indexes where one serves: (user_id, created_at) answers everything "
                "(user_id) does.",
            ),
        ),
        objectives=(
            "Measure what an index costs on writes (WAL records, insert latency)",
            "Serve a filter and an ORDER BY with one composite index",
            "Say no to an index that no query needs",
        ),
        minutes=10,
        explanation="One index (user_id, created_at) serves the filter and the order: the "
        "history is ten index entries read backwards. Every index is paid on every insert, "
        "update of its columns and delete, forever; `s.health()` finds the unused ones later.",
    ),
)
