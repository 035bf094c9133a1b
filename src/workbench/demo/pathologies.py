"""The performance problems planted in the demo data, each with a query that shows it and a fix.

Queries are written for PostgreSQL; :meth:`Pathology.sql_for` transpiles them (sqlglot) for the
other engines, so the same investigation runs everywhere the data is loaded.

>>> from workbench.demo.pathologies import PATHOLOGIES, pathology
>>> pathology("missing_index").fix
'CREATE INDEX orders_user_id_idx ON orders (user_id)'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbench.errors import ConfigurationError

__all__ = ["PATHOLOGIES", "WORKLOAD", "Pathology", "WorkloadStatement", "pathology"]


@dataclass(frozen=True)
class Pathology:
    """One planted problem.

    ``code`` is the finding code the offline rules should report for ``sql``; ``fix`` is the
    DDL (``fix_kind="ddl"``) or rewritten query (``"rewrite"``) that cures it.
    """

    name: str
    code: str
    title: str
    story: str
    sql: str
    fix: str
    fix_kind: str = "ddl"
    settings: dict[str, str] = field(default_factory=dict)
    handler: str | None = None  # the app function that issues it, if any

    def sql_for(self, dialect: str) -> str:
        """``sql`` in ``dialect``'s syntax."""
        return _transpile(self.sql, dialect)

    def fix_for(self, dialect: str) -> str:
        return self.fix if dialect == "postgresql" else _transpile(self.fix, dialect)


def _transpile(sql: str, dialect: str) -> str:
    if dialect == "postgresql":
        return sql
    import sqlglot

    from workbench.sqltext import sqlglot_dialect

    return sqlglot.transpile(sql, read="postgres", write=sqlglot_dialect(dialect))[0]


PATHOLOGIES: tuple[Pathology, ...] = (
    Pathology(
        name="missing_index",
        code="missing_index",
        title="Orders of one user: a foreign key without an index",
        story="Every page that shows a user's orders scans all of `orders`: `orders.user_id` "
        "references `users` but has no index.",
        sql="SELECT id, status, total_cents, created_at FROM orders WHERE user_id = 4242",
        fix="CREATE INDEX orders_user_id_idx ON orders (user_id)",
        handler="list_users",
    ),
    Pathology(
        name="n_plus_one",
        code="n_plus_one",
        title="GET /api/users: one query per user (N+1)",
        story="`list_users()` loads 50 users, then lazily loads each user's orders and account: "
        "101 round trips, 50 of them full scans of `orders`.",
        sql="SELECT id, user_id, status, total_cents, created_at FROM orders WHERE user_id = 4242",
        fix="selectinload(User.orders), joinedload(User.account)  -- see list_users_fixed()",
        fix_kind="code",
        handler="list_users",
    ),
    Pathology(
        name="non_sargable_predicate",
        code="non_sargable_predicate",
        title="Login by e-mail: lower(email) cannot use the index on email",
        story="`find_user_by_email()` compares `lower(email)`, so the unique index on `email` is "
        "useless and every login scans `users`.",
        sql="SELECT id, email FROM users WHERE lower(email) = 'olivia.kowalski1@gmail.com'",
        fix="CREATE INDEX users_lower_email_idx ON users (lower(email))",
        handler="find_user_by_email",
    ),
    Pathology(
        name="non_sargable_date",
        code="non_sargable_predicate",
        title="Orders of one day: a function on the indexed column",
        story="`date(created_at) = ...` hides `created_at` from its index; a range on the "
        "column itself uses it.",
        sql="SELECT count(*) FROM orders WHERE date(created_at) = '2025-06-01'",
        fix="SELECT count(*) FROM orders WHERE created_at >= '2025-06-01' "
        "AND created_at < '2025-06-02'",
        fix_kind="rewrite",
    ),
    Pathology(
        name="leading_wildcard_like",
        code="leading_wildcard_like",
        title="Admin search: LIKE '%term%' cannot use a B-tree index",
        story="The admin user search matches anywhere in the e-mail; a leading `%` forces a scan "
        "of every row.",
        sql="SELECT id, email FROM users WHERE email LIKE '%owalski42%'",
        fix="CREATE EXTENSION IF NOT EXISTS pg_trgm; "
        "CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops)",
    ),
    Pathology(
        name="offset_pagination",
        code="offset_pagination",
        title="Deep pages: OFFSET 200000 reads and discards 200,000 rows",
        story="`recent_orders_page(page=10001)` gets slower with every page; keyset pagination "
        "costs the same on every page.",
        sql="SELECT id, user_id, total_cents, created_at FROM orders "
        "ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 200000",
        fix="SELECT id, user_id, total_cents, created_at FROM orders "
        "WHERE (created_at, id) < ('2024-03-01 00:00:00', 0) "
        "ORDER BY created_at DESC, id DESC LIMIT 20",
        fix_kind="rewrite",
        handler="recent_orders_page",
    ),
    Pathology(
        name="misestimate_correlated",
        code="misestimate",
        title="Users in Stockholm: correlated columns fool the planner",
        story="The planner multiplies the selectivities of `country = 'SE'` and `city = "
        "'Stockholm'` as if independent, and expects ~25× fewer rows than there are; extended "
        "statistics teach it that city determines country.",
        sql="SELECT u.id, u.email, count(o.id) AS orders FROM users u "
        "LEFT JOIN orders o ON o.user_id = u.id "
        "WHERE u.country = 'SE' AND u.city = 'Stockholm' GROUP BY u.id, u.email",
        fix="CREATE STATISTICS users_country_city (dependencies, mcv) ON country, city FROM users; "
        "ANALYZE users",
    ),
    Pathology(
        name="misestimate_recent_pending",
        code="misestimate",
        title="Pending orders: status and date are correlated",
        story="'pending' orders only exist in the last two weeks, but the planner assumes status "
        "and created_at are independent and expects 60× fewer rows, then picks a nested loop.",
        sql="SELECT o.id, o.total_cents, u.email FROM orders o JOIN users u ON u.id = o.user_id "
        "WHERE o.status = 'pending' AND o.created_at >= '2025-06-16'",
        fix="CREATE INDEX orders_pending_idx ON orders (created_at) WHERE status = 'pending'",
    ),
    Pathology(
        name="sort_spill",
        code="sort_spill",
        title="Big sort with small work_mem: the sort spills to disk",
        story="Sorting 800,000 order lines by value with `work_mem = 1MB` writes temporary files.",
        sql="SELECT id, order_id, unit_price_cents * quantity AS line_value FROM order_items "
        "ORDER BY unit_price_cents * quantity DESC LIMIT 100000",
        fix="SET work_mem = '64MB'  -- or an index on the expression, or a smaller LIMIT",
        fix_kind="setting",
        settings={"work_mem": "1MB"},
    ),
    Pathology(
        name="select_star_wide_rows",
        code="select_star_wide_rows",
        title="SELECT * drags a 0.3 kB JSON payload along",
        story="The activity feed selects every column of `events`, including `payload`, to show "
        "the type and date.",
        sql="SELECT * FROM events WHERE created_at >= '2025-06-01' ORDER BY created_at DESC",
        fix="SELECT id, user_id, type, created_at FROM events WHERE created_at >= '2025-06-01' "
        "ORDER BY created_at DESC",
        fix_kind="rewrite",
    ),
)


@dataclass(frozen=True)
class WorkloadStatement:
    """A statement the demo shop's application runs often, with the values of its calls.

    On PostgreSQL the loader runs :data:`WORKLOAD` once (``wb.demo.run_workload``), so
    ``pg_stat_statements`` holds a workload for ``s.advise()`` to tune.
    """

    name: str
    sql: str  # named parameters (:name)
    story: str
    calls: int
    values: tuple[tuple[str, tuple[object, ...]], ...]  # parameter -> the values used in turn

    def params(self) -> list[dict[str, object]]:
        """One parameter dict per call (the values cycle)."""
        return [
            {name: options[i % len(options)] for name, options in self.values}
            for i in range(self.calls)
        ]


WORKLOAD: tuple[WorkloadStatement, ...] = (
    WorkloadStatement(
        name="new_users_of_account",
        sql="SELECT id, email, full_name, created_at FROM users "
        "WHERE account_id = :account AND created_at >= :since ORDER BY created_at DESC",
        story="The account admin page lists the users who joined recently. account_id and "
        "created_at each have an index, so the planner combines or filters them; one composite "
        "index (account_id, created_at): the equality column, then the range, reads only the "
        "rows it returns, already in order.",
        calls=120,
        values=(
            ("account", (1, 1, 1, 2, 1, 3)),
            ("since", ("2025-04-01", "2025-03-15", "2025-05-01")),
        ),
    ),
    WorkloadStatement(
        name="orders_of_user",
        sql="SELECT id, status, total_cents, created_at FROM orders WHERE user_id = :user",
        story="The order history page: orders.user_id has no index (the planted missing "
        "index), so every call reads the whole table.",
        calls=60,
        values=(("user", (4242, 17, 93_001, 512, 65_000, 8)),),
    ),
    WorkloadStatement(
        name="user_by_id",
        sql="SELECT id, email, full_name FROM users WHERE id = :id",
        story="The session lookup: a primary-key probe, already as fast as it gets.",
        calls=200,
        values=(("id", tuple(range(1, 2_000, 13))),),
    ),
)


def pathology(name: str) -> Pathology:
    """The planted pathology called ``name`` (see :data:`PATHOLOGIES`)."""
    for item in PATHOLOGIES:
        if item.name == name:
            return item
    raise ConfigurationError(
        f"no pathology {name!r}",
        hint=f"known: {', '.join(p.name for p in PATHOLOGIES)}",
    )
