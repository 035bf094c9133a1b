"""Scenarios 7-11: what the plan does with rows (pagination, aggregation, joins, estimates,
memory)."""

from __future__ import annotations

from workbench.demo.pathologies import pathology
from workbench.demo.workshop.model import Scenario, WrongAnswer

__all__ = ["NEW_ORDERS", "PLAN_SCENARIOS"]

_PAGE = (
    "SELECT id, user_id, total_cents, created_at FROM orders {where}"
    "ORDER BY created_at DESC, id DESC LIMIT 20{offset}"
)
_MIDDLE = "(SELECT count(*) / 2 / 20 * 20 FROM orders)"
# the other pages a check tries: a fifth and two fifths of the way in (before the task's page,
# which the check's tie row would shift by one for the pages after it)
_OTHER_PAGE = "(SELECT count(*) * (1 + {draw}) / 5 / 20 * 20 FROM orders)"
_NEWEST = (
    "SELECT u.id, u.email, {count} AS orders FROM users u {join} orders o ON o.user_id = u.id "
    "GROUP BY u.id ORDER BY u.id DESC LIMIT 20"
)
# the newest users have placed no order yet in the demo data: the checks give two in three of
# them a few (1 to 3 each, at random, placed at any time; the others keep none), so that an
# answer which leaves the orders out, guesses them, or drops the users without any, cannot
# return the same rows
NEW_ORDERS = (
    "INSERT INTO orders (id, user_id, status, total_cents, currency, shipping_country, "
    "created_at) SELECT m.top + row_number() OVER (ORDER BY u.id, g), u.id, 'paid', "
    "100 + (random() * 99999)::int, 'EUR', 'DE', "
    "timestamp '2022-01-01' + random() * interval '1200 days' "
    "FROM ({users}) u CROSS JOIN LATERAL generate_series(1, CASE WHEN u.id % 3 = 0 THEN 0 "
    "ELSE 1 + floor(random() * 3)::int END) g "
    "CROSS JOIN (SELECT max(id) AS top FROM orders) m"
)
_PENDING = (
    "SELECT o.id, o.created_at, o.total_cents, u.email FROM orders o "
    "JOIN users u ON u.id = o.user_id WHERE o.status = 'pending' "
    "ORDER BY o.created_at, o.id LIMIT 20"
)
_SORT = (
    "SELECT id, order_id, unit_price_cents * quantity AS line_value FROM order_items "
    "ORDER BY unit_price_cents * quantity DESC, id LIMIT {limit}"
)


_CORRELATED = pathology("misestimate_correlated").sql

PLAN_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="deep_pages",
        chapter="7 · Pagination: keyset instead of OFFSET",
        title="A page deep in the order list",
        story="The back office lists orders newest first, twenty per page, with OFFSET. Page "
        "{page} skips {offset} rows: the database produces every one of them and throws them "
        "away. The previous page ended with the order placed at {last_created_at} with id "
        "{last_id}.",
        task="Write the query for page {page} so that its cost does not depend on the page "
        "number: start right after the last row of the previous page. The same twenty rows in "
        "the same order, at least 10× faster.",
        sql=_PAGE.format(where="", offset=" OFFSET {offset}"),
        lookups={
            "offset": f"SELECT {_MIDDLE}",
            "page": f"SELECT {_MIDDLE} / 20 + 1",
            "last_created_at": "SELECT created_at FROM orders ORDER BY created_at DESC, id DESC "
            f"LIMIT 1 OFFSET {_MIDDLE} - 1",
            "last_id": "SELECT id FROM orders ORDER BY created_at DESC, id DESC "
            f"LIMIT 1 OFFSET {_MIDDLE} - 1",
        },
        variants={
            "offset": f"SELECT {_OTHER_PAGE}",
            "last_created_at": "SELECT created_at FROM orders ORDER BY created_at DESC, id DESC "
            f"LIMIT 1 OFFSET {_OTHER_PAGE} - 1",
            "last_id": "SELECT id FROM orders ORDER BY created_at DESC, id DESC "
            f"LIMIT 1 OFFSET {_OTHER_PAGE} - 1",
        },
        setup=(
            # an order placed at the same moment as the previous page's last one, with a
            # lower id: it belongs first on this page (a keyset on created_at alone skips it,
            # and ids do not follow created_at here)
            "INSERT INTO orders (id, user_id, status, total_cents, currency, shipping_country, "
            "created_at) SELECT -1 - (random() * 999)::int, min(id), 'paid', "
            "100 + (random() * 99999)::int, 'EUR', 'DE', '{last_created_at}' FROM users",
        ),
        solution=_PAGE.format(
            where="WHERE (created_at, id) < ('{last_created_at}', {last_id}) ", offset=""
        ),
        ordered=True,
        hints=(
            "How many rows does the scan hand to the Limit, and how many does the Limit return?",
            "OFFSET cannot jump: it counts rows one by one. Remember where the previous page "
            "ended, and ask for the rows after that point.",
            "A row-value comparison `(created_at, id) < (..., ...)` means 'after this row' in "
            "the order `created_at DESC, id DESC`, ties on created_at included.",
        ),
        wrong_answers=(
            WrongAnswer(
                _PAGE.format(
                    where="WHERE (created_at, id) <= ('{last_created_at}', {last_id}) ", offset=""
                ),
                "`<=` includes the last row of the previous page: this page starts one row "
                "too early.",
            ),
            WrongAnswer(
                _PAGE.format(
                    where="WHERE created_at < '{last_created_at}' OR (created_at = "
                    "'{last_created_at}' AND id < {last_id}) ",
                    offset="",
                ),
                "The right rows, but an OR of two conditions is not one range of the index: "
                "the planner cannot start at the previous page's row and walks from the top. "
                "The row comparison (created_at, id) < (..., ...) is one range (or add "
                "created_at <= ... AND before the OR).",
            ),
            WrongAnswer(
                _PAGE.format(where="WHERE created_at < '{last_created_at}' ", offset=""),
                "After the previous page's moment, but not after its row: an order placed at "
                "the same moment with a lower id belongs on this page and is skipped. Compare "
                "(created_at, id) together.",
            ),
            WrongAnswer(
                _PAGE.format(where="WHERE id < {last_id} ", offset="").replace(
                    "ORDER BY created_at DESC, id DESC", "ORDER BY id DESC"
                ),
                "Ids mostly follow the order dates, but not always: the page is ordered by "
                "created_at, and a row whose id is out of step lands on the wrong page.",
            ),
            WrongAnswer(
                "CREATE INDEX ON orders (created_at DESC, id DESC);\n"
                + _PAGE.format(where="", offset=" OFFSET {offset}"),
                "The index hands the rows out in order, but OFFSET still walks {offset} of "
                "them before the first one it returns.",
            ),
        ),
        objectives=(
            "See why OFFSET gets slower with every page",
            "Write keyset (seek) pagination with a row-value comparison",
            "Know the trade-off: no jumping to page N, every page equally fast",
        ),
        minutes=12,
        explanation="The keyset query starts in the index at the previous page's last row and "
        "reads twenty entries, on page 2 as on page 20,000. The price: a page is reached from "
        "the previous one (a 'next' link carrying the last row's values), not by its number.",
    ),
    Scenario(
        name="newest_users_orders",
        chapter="8 · GROUP BY: aggregate only what is shown",
        title="The newest users and their order counts",
        story="The admin home page shows the twenty newest users with how many orders each "
        "placed. The query groups every user with all of their orders, then keeps twenty.",
        task="Make it at least 10× faster, with the same twenty rows in the same order (an "
        "index, a rewrite, or both).",
        sql=_NEWEST.format(count="count(o.id)", join="LEFT JOIN"),
        setup=(NEW_ORDERS.format(users="SELECT id FROM users ORDER BY id DESC LIMIT 20"),),
        solution="CREATE INDEX orders_user_id_idx ON orders (user_id);\n"
        + _NEWEST.format(count="count(o.id)", join="LEFT JOIN"),
        ordered=True,
        hints=(
            "How many groups does the aggregate build, and how many rows leave the Limit?",
            "A HashAggregate has to see every row before it returns one. If both inputs "
            "arrived sorted by user id, a GroupAggregate could finish one user at a time and "
            "the LIMIT could stop after twenty.",
            "`users` comes in id order through its primary key. What would deliver `orders` "
            "in `user_id` order?",
        ),
        wrong_answers=(
            WrongAnswer(
                "SELECT id, email, 0 AS orders FROM users ORDER BY id DESC LIMIT 20",
                "Fast, and right only while nobody new has ordered: the page must count the "
                "orders, and the check gives some of these users a few.",
            ),
            WrongAnswer(
                _NEWEST.format(count="count(*)", join="LEFT JOIN"),
                "count(*) counts joined rows: a user without orders still has one (with NULLs "
                "for the order), and shows 1 instead of 0. count(o.id) counts real orders.",
            ),
            WrongAnswer(
                "CREATE INDEX ON orders (user_id);\n"
                + _NEWEST.format(count="count(o.id)", join="JOIN"),
                "An inner join drops the users who never ordered: the newest users, the very "
                "ones this page shows.",
            ),
            WrongAnswer(
                "SELECT u.id, u.email, (SELECT count(*) FROM orders o WHERE o.user_id = u.id) "
                "AS orders FROM users u ORDER BY u.id DESC LIMIT 20",
                "Only twenty counts, but each reads all of `orders`: without an index on "
                "`orders.user_id` there is nothing to look a user's orders up in.",
            ),
        ),
        objectives=(
            "Tell a HashAggregate (reads everything first) from a GroupAggregate (pipelined)",
            "Let an index deliver rows in GROUP BY order so a LIMIT stops early",
            "Keep outer-join semantics right: count(column) versus count(*)",
        ),
        minutes=12,
        explanation="With `orders (user_id)` indexed the plan becomes Limit → GroupAggregate → "
        "Merge Left Join over two backward index scans: one user at a time, stopping after the "
        "twentieth. Aggregating after the LIMIT (a subquery per shown row, or LATERAL) works "
        "as well, with the same index.",
    ),
    Scenario(
        name="oldest_pending",
        chapter="9 · Joins: a nested loop that bets on stopping early",
        title="The oldest pending orders",
        story="Support works through pending orders oldest first: the twenty oldest, with the "
        "customer's e-mail. The plan is a Nested Loop under a Limit that reads `orders` in "
        "`created_at` order and keeps the pending ones; the planner expected to find twenty "
        "within a few thousand rows.",
        task="Find out why the bet is lost (compare estimated and actual rows), then make the "
        "query at least 10× faster, with the same rows in the same order.",
        sql=_PENDING,
        setup=(
            # a pending order older than all the others, at a random moment: it comes first
            "INSERT INTO orders (id, user_id, status, total_cents, currency, shipping_country, "
            "created_at) SELECT m.top + 1 + (random() * 999)::int, "
            "(SELECT id FROM users ORDER BY id LIMIT 1 OFFSET (random() * 99)::int), 'pending', "
            "100 + (random() * 99999)::int, 'EUR', 'DE', m.oldest - interval '1 day' - "
            "random() * interval '300 days' FROM (SELECT max(id) AS top, min(created_at) "
            "FILTER (WHERE status = 'pending') AS oldest FROM orders) m",
        ),
        solution="CREATE INDEX orders_pending_created_at_idx ON orders (created_at, id) "
        "WHERE status = 'pending'",
        ordered=True,
        hints=(
            "Look at the scan of `orders`: its 'Rows Removed by Filter' against the rows it "
            "returned. Where in time are the pending orders?",
            "The planner assumes the pending orders are spread evenly over time; they exist "
            "only in the last two weeks. Walking from the oldest order, it reads nearly the "
            "whole table before it finds the first.",
            "Give the planner a way to read only pending orders, already in `created_at` "
            "order: an index whose entries are exactly those rows, or whose leading column is "
            "the status.",
        ),
        wrong_answers=(
            WrongAnswer(
                "CREATE STATISTICS orders_status_created ON status, created_at FROM orders;\n"
                "ANALYZE orders",
                "Extended statistics describe how columns depend on each other for equality "
                "filters, not where in a sort order the matching rows lie: the plan and its "
                "bet stay the same.",
            ),
            WrongAnswer(
                "CREATE INDEX ON orders (status)",
                "`status` is indexed already (`orders_status_idx`). The planner still prefers "
                "walking `created_at` in order, believing it will stop early; it would "
                "otherwise have to fetch and sort every pending order.",
            ),
        ),
        objectives=(
            "Read loops, estimated versus actual rows and Rows Removed by Filter in a plan",
            "Understand why LIMIT plans bet on an even spread of the matching rows",
            "Fix it with a partial or composite index that delivers the matches in order",
        ),
        minutes=12,
        explanation="With `orders (created_at, id) WHERE status = 'pending'` the scan reads "
        "only pending orders, oldest first: twenty index entries, twenty lookups of users. A "
        "partial index is small (a few thousand entries) and costs nothing on inserts of other "
        "statuses; (status, created_at, id) serves as well, at the size of the whole table.",
    ),
    Scenario(
        name="stockholm_estimate",
        chapter="10 · Correlated columns: extended statistics",
        title="Users in Stockholm",
        story="The planner estimates `country = 'SE' AND city = 'Stockholm'` by multiplying the "
        "two selectivities, as if any city could be in any country. Every Stockholm user is in "
        "Sweden, so it expects far fewer rows than there are, and plans the join and the "
        "aggregate for that.",
        task="Teach the planner that the city determines the country, so that its row "
        "estimate for the scan of `users` comes within 3× of the actual rows. The query and "
        "its results stay the same.",
        sql=_CORRELATED,
        solution="CREATE STATISTICS users_country_city_stats (dependencies, mcv) "
        "ON country, city FROM users;\nANALYZE users",
        kind="estimate",
        table="users",
        hints=(
            "Compare estimated and actual rows on the scan of `users`: too high or too low, "
            "and by how much?",
            "Per-column statistics cannot describe how two columns relate. PostgreSQL can "
            "keep statistics on a group of columns.",
            "`CREATE STATISTICS` declares them; they are gathered the next time the table is "
            "analysed.",
        ),
        wrong_answers=(
            WrongAnswer(
                "CREATE STATISTICS users_cc (dependencies) ON country, city FROM users",
                "The statistics object stays empty until ANALYZE gathers it: the estimate "
                "does not change.",
            ),
            WrongAnswer(
                "ANALYZE users",
                "Fresh statistics, but still one column at a time: the product of the two "
                "selectivities stays wrong.",
            ),
            WrongAnswer(
                "CREATE INDEX ON users (country, city)",
                "An index on plain columns gathers no statistics of its own: the estimate is "
                "still the product.",
            ),
        ),
        objectives=(
            "Find a misestimate in a plan and say which way it goes",
            "Explain the independence assumption behind multiplying selectivities",
            "Create extended statistics (dependencies, mcv) and gather them",
        ),
        minutes=10,
        explanation="With dependency and most-common-value statistics on (country, city) the "
        "planner knows that Stockholm implies Sweden and estimates the scan close to the "
        "truth. Estimates decide join algorithms, join order and memory: a 25× underestimate "
        "under a join is where nested loops over 'a few rows' come from.",
    ),
    Scenario(
        name="big_sort",
        chapter="11 · Sorts that spill: work_mem",
        title="The big export",
        story="A nightly export sorts order lines by value. The server runs with `work_mem = "
        "1MB` (set for this scenario), so the sort writes temporary files.",
        task="Make the sort fit in memory (no external sort or other spill in the plan), with "
        "the same rows in the same order. Ask for a reasonable amount of memory: work_mem is "
        "per sort and per connection.",
        sql=_SORT.format(limit=100000),
        solution="SET work_mem = '64MB'",
        kind="spill",
        ordered=True,
        settings={"work_mem": "1MB"},
        setup=(
            # a new line worth more than any other, at random: it heads the export
            "INSERT INTO order_items (id, order_id, product_id, quantity, unit_price_cents, "
            "discount) SELECT m.top + 1 + (random() * 999)::int, m.first_order, m.product, 1, "
            "m.biggest + 1 + (random() * 999)::int, 0 FROM (SELECT max(id) AS top, "
            "max(unit_price_cents * quantity) AS biggest, min(order_id) AS first_order, "
            "min(product_id) AS product FROM order_items) m",
        ),
        hints=(
            "Find the Sort node: its Sort Method, and how much it wrote to disk.",
            "A sort that does not fit in `work_mem` is done in sorted runs on disk, then "
            "merged. The setting can be raised for one statement.",
            "`SET work_mem = '...'` in your answer applies to this query only (inside the "
            "check's transaction). A sort in memory needs several times what it wrote to disk "
            "(three to four times here): try sizes with `s.explain(sc.sql, analyze=True, "
            "settings={'work_mem': '...'})` before you answer.",
        ),
        wrong_answers=(
            WrongAnswer(
                "SET maintenance_work_mem = '256MB'",
                "maintenance_work_mem is for VACUUM and CREATE INDEX; a query's sorts use "
                "work_mem.",
            ),
            WrongAnswer(
                _SORT.format(limit=1000),
                "A thousand rows fit in memory, but it is another export: the rows differ.",
            ),
        ),
        objectives=(
            "Read a Sort node: method (quicksort, top-N heapsort, external merge) and disk use",
            "Raise work_mem for one statement, and know why not for everyone",
            "Know the alternative: an index on the sort expression avoids the sort",
        ),
        minutes=8,
        explanation="With enough work_mem the sort runs in memory (quicksort or top-N "
        "heapsort). work_mem is allowed per sort node per connection: thirty connections each "
        "sorting twice may take 60× the setting, which is why it is raised per statement or "
        "per role, not for the whole server. An index on (unit_price_cents * quantity DESC, "
        "id) removes the sort altogether.",
    ),
)
