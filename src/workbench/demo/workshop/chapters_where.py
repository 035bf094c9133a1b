"""Scenarios 1-6: what an index can do for a WHERE clause and an ORDER BY (after Markus
Winand's "Use The Index, Luke": functions, LIKE, ranges, column order, covering, top-N)."""

from __future__ import annotations

from workbench.demo.workshop.model import Scenario, WrongAnswer

__all__ = ["ANY_CUSTOMER", "WHERE_SCENARIOS"]

_EMAIL = "SELECT id, email, full_name FROM users WHERE lower(email) = '{email}'"
_FRAGMENT = "SELECT id, email FROM users WHERE email ILIKE '%{fragment}%'"
_DAY = "SELECT id, user_id, total_cents, created_at FROM orders WHERE {where}"
_HISTORY = (
    "SELECT id, status, total_cents, created_at FROM orders "
    "WHERE user_id = {user} AND created_at >= '2023-07-01'"
)
_SIGNUPS = (
    "SELECT user_id, created_at FROM events WHERE type = 'signup' AND created_at >= '2025-04-01'"
)
_BIGGEST = "SELECT id, user_id, total_cents, created_at FROM orders ORDER BY {order} LIMIT 20"

# Rows each check adds in its rolled-back transaction, with random ids and values: rows typed
# in from an earlier output, or looked up by id, never hold them
_NEW_ORDER = (
    "INSERT INTO orders (id, user_id, status, total_cents, currency, shipping_country, "
    "created_at) SELECT m.top + 1 + (random() * 999)::int, {user}, '{status}', {total}, 'EUR', "
    "'DE', {at} FROM (SELECT max(id) AS top FROM orders) m"
)
# another value for a check to try: anywhere in the lower half of the users for the first
# draw, the upper half for the second (``{draw}``), at random
_ANY = "(SELECT ((random() + {draw}) / 2 * (count(*) - 1))::int FROM users)"
ANY_CUSTOMER = (
    "WITH c AS (SELECT user_id FROM orders WHERE user_id >= 1000 GROUP BY user_id "
    "HAVING count(*) BETWEEN {low} AND {high}) SELECT user_id FROM c "
    "WHERE user_id >= (SELECT max(user_id) FROM c) * {{draw}} / 2 "
    "AND user_id <= (SELECT max(user_id) FROM c) * ({{draw}} + 1) / 2 ORDER BY random() LIMIT 1"
)
_SOME_USER = "(SELECT id FROM users ORDER BY id LIMIT 1 OFFSET (random() * 99)::int)"

WHERE_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="login_by_email",
        chapter="1 · Functions in WHERE: expression indexes",
        title="Login is slow for everyone",
        story="Every login runs the query below: the address the person typed, lower-cased, "
        "against `lower(email)`, because people type their address in any case. There is a "
        "unique index on `users.email`, and still each login reads the whole `users` table.",
        task="Make the login query at least 10× faster without changing what it returns: it "
        "must still find `{email}` however the address is capitalised in the table. Your "
        "answer: the DDL it needs, and the query.",
        sql=_EMAIL,
        lookups={
            "email": "SELECT lower(email) FROM users ORDER BY id LIMIT 1 "
            "OFFSET (SELECT count(*) / 3 FROM users)"
        },
        variants={"email": "SELECT lower(email) FROM users ORDER BY id LIMIT 1 OFFSET " + _ANY},
        setup=(
            # the address as someone typed it once, in odd case: only lower() finds it
            "UPDATE users SET email = translate(email, 'aeioumr', 'AEIOUMR') "
            "WHERE lower(email) = '{email}'",
        ),
        solution="CREATE INDEX users_lower_email_idx ON users (lower(email));\n" + _EMAIL,
        hints=(
            "Explain the query with `analyze=True`: which node reads `users`, and how many "
            "rows does its Filter remove?",
            "The index on `email` is sorted by the addresses as stored; the query asks for "
            "`lower(email)`, which sorts differently. The planner can only use an index whose "
            "key is exactly the expression in the WHERE clause.",
            "PostgreSQL indexes expressions too: `CREATE INDEX ... ON users ((expression))` "
            "(double parentheses around an arbitrary expression, single ones around a function "
            "call). Which expression does the WHERE clause compare?",
        ),
        wrong_answers=(
            WrongAnswer(
                "SELECT id, email, full_name FROM users WHERE email = '{email}'",
                "Fast (the unique index on email serves it), but the addresses are stored in "
                "mixed case (`Jonas.Weber42@...`): a case-sensitive comparison with the "
                "lower-cased input finds nothing, 0 rows instead of 1. Keep the function; "
                "index it.",
            ),
            WrongAnswer(
                "CREATE INDEX ON users (email);\n" + _EMAIL,
                "`users.email` is indexed already (`users_email_key`), and no index on the "
                "column can answer `lower(email) = ...`: a B-tree is ordered by the value it "
                "stores, not by a function of it.",
            ),
            WrongAnswer(
                "SELECT id, email, full_name FROM users WHERE email ILIKE '{email}'",
                "The same rows, but ILIKE is a pattern match that no B-tree serves: the "
                "plan still reads every user.",
            ),
        ),
        objectives=(
            "Recognise a function wrapped around an indexed column in a plan's Filter",
            "Create an expression index and see the planner use it (Index Cond)",
            "Know why removing the function changes the results",
        ),
        minutes=10,
        explanation="An index is a sorted copy of its key: `lower(email)` sorts differently "
        "from `email`, so only an index on the expression itself serves the predicate. The "
        "other cure is a data change: store addresses lower-cased (a CHECK constraint keeps "
        "them so) and compare the column as it is.",
    ),
    Scenario(
        name="search_by_fragment",
        chapter="2 · LIKE with a leading wildcard",
        title="The support search box",
        story="Support staff find users by any part of their e-mail address, in any case. "
        "Searching for `{fragment}` runs `email ILIKE '%{fragment}%'`, and takes as long as "
        "reading every user.",
        task="Make the search at least 10× faster, returning exactly the same users. The "
        "pattern must keep matching anywhere in the address, in any case. Your answer: the "
        "DDL, and the query.",
        sql=_FRAGMENT,
        lookups={
            "fragment": "SELECT lower(split_part(split_part(email, '.', 2), '@', 1)) "
            "FROM users ORDER BY id LIMIT 1 OFFSET (SELECT count(*) / 4 FROM users)"
        },
        variants={
            "fragment": "SELECT lower(split_part(split_part(email, '.', 2), '@', 1)) "
            "FROM users ORDER BY id LIMIT 1 OFFSET " + _ANY
        },
        setup=(
            # the fragment elsewhere in an address (a domain, a first name), in another case
            "INSERT INTO users (id, account_id, email, full_name, country, city, status, "
            "created_at) SELECT m.top + n + (random() * 999)::int * 10, a.account_id, "
            "address, 'Planted User', 'DE', 'Berlin', 'active', timestamp '2025-01-01' "
            "FROM (SELECT max(id) AS top FROM users) m, "
            "(SELECT account_id FROM users ORDER BY id LIMIT 1) a, (VALUES "
            "(1, 'sam.lee@' || upper('{fragment}') || '.example'), "
            "(2, initcap('{fragment}') || 'x.jones@mail.example')) AS planted (n, address)",
        ),
        solution="CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
        "CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops);\n" + _FRAGMENT,
        hints=(
            "Is an index used at all? To find a row in a B-tree, what must be known about the "
            "beginning of the value?",
            "A B-tree finds a prefix. With `%` first, every position of every address is a "
            "possible start. An index of the pieces of each string can narrow it down.",
            "The `pg_trgm` extension splits strings into three-letter pieces (trigrams); its "
            "operator class `gin_trgm_ops` lets a GIN index serve `LIKE` and `ILIKE '%...%'`.",
        ),
        wrong_answers=(
            WrongAnswer(
                "SELECT id, email FROM users WHERE email ILIKE '{fragment}%'",
                "Without the leading `%` the pattern has a prefix, but it only finds "
                "addresses that start with the fragment: another question, with fewer rows.",
            ),
            WrongAnswer(
                "CREATE INDEX ON users (lower(email) text_pattern_ops);\n"
                "SELECT id, email FROM users WHERE lower(email) LIKE '%{fragment}%'",
                "The same rows, and `text_pattern_ops` lets a B-tree serve a prefix "
                "(`LIKE 'abc%'`); with a leading `%` there is no prefix, and the plan still "
                "reads every row.",
            ),
        ),
        objectives=(
            "See why a leading wildcard defeats a B-tree",
            "Use a trigram index (pg_trgm, GIN) for substring search",
            "Weigh the alternatives: full-text search, a reversed-string index for suffixes",
        ),
        minutes=10,
        explanation="The GIN index holds every trigram of every address; the pattern becomes "
        "'rows holding all of these trigrams', found in the index and rechecked on the rows "
        "(Bitmap Index Scan, Recheck Cond). A GIN index costs more on every write than a "
        "B-tree: right for a users table searched by staff, worth measuring on a hot insert "
        "path.",
    ),
    Scenario(
        name="orders_of_a_day",
        chapter="3 · Ranges on dates: sargable predicates",
        title="The daily report",
        story="The finance report lists the orders of one day with `date(created_at) = "
        "'2025-06-01'`. `orders.created_at` has an index (`orders_created_at_idx`), and the "
        "plan reads all of `orders` anyway.",
        task="Rewrite the query so that it uses the existing index and runs at least 10× "
        "faster, with the same rows. No new index: the one on `created_at` is there already.",
        sql=_DAY.format(where="date(created_at) = '2025-06-01'"),
        solution=_DAY.format(where="created_at >= '2025-06-01' AND created_at < '2025-06-02'"),
        fix="query",
        setup=(
            # the edges of the day, where a careless range goes wrong (the demo's timestamps
            # are whole seconds and never midnight: without these rows no trap would show)
            "INSERT INTO orders (id, user_id, status, total_cents, currency, shipping_country, "
            "created_at) SELECT m.top + n * 1000 + (random() * 999)::int, m.customer, 'paid', "
            "100 + (random() * 99999)::int, 'EUR', 'DE', at "
            "FROM (SELECT max(id) AS top, (SELECT min(id) FROM users) AS customer "
            "FROM orders) m, (VALUES (1, timestamp '2025-06-01 00:00:00'), "
            "(2, timestamp '2025-06-01 23:59:59.999999'), (3, timestamp '2025-06-02 00:00:00'), "
            "(4, timestamp '2025-06-01 08:00:00' + random() * interval '12 hours')) "
            "AS edges (n, at)",
        ),
        hints=(
            "Which index could serve this query? Look at the Filter line: why can the planner "
            "not turn it into an Index Cond?",
            "The index is sorted by `created_at`, not by `date(created_at)`. Describe the day "
            "as a range of `created_at` values instead of a function of it.",
            "A day is every timestamp from its midnight (included) up to the next midnight "
            "(excluded).",
        ),
        wrong_answers=(
            WrongAnswer(
                _DAY.format(where="created_at = '2025-06-01'"),
                "The index is used, but a date literal compared with a timestamp means "
                "midnight: only orders placed at exactly 00:00:00 match.",
            ),
            WrongAnswer(
                _DAY.format(where="created_at BETWEEN '2025-06-01' AND '2025-06-02'"),
                "BETWEEN includes both ends: an order placed at the next midnight belongs to "
                "June 2 and is listed here too.",
            ),
            WrongAnswer(
                _DAY.format(where="created_at BETWEEN '2025-06-01' AND '2025-06-01 23:59:59'"),
                "Timestamps have fractions of a second: an order at 23:59:59.5 is missed. "
                "Compare with the next midnight, excluded (`<`), instead.",
            ),
            WrongAnswer(
                _DAY.format(where="created_at::date = '2025-06-01'"),
                "The same function in another spelling: the cast hides `created_at` from its "
                "index just as `date()` does.",
            ),
        ),
        objectives=(
            "Spot a function on an indexed column in a plan's Filter",
            "Rewrite a date condition as a half-open range the index serves",
            "Know the off-by-one traps: midnight, BETWEEN, fractions of a second",
        ),
        minutes=8,
        explanation="`created_at >= day AND created_at < next day` is sargable: it becomes an "
        "Index Cond on the range, whatever the precision of the timestamps. `BETWEEN "
        "'2025-06-01' AND '2025-06-01 23:59:59'` misses fractions of the last second; "
        "`BETWEEN '2025-06-01' AND '2025-06-02'` includes the next midnight.",
    ),
    Scenario(
        name="customer_history",
        chapter="4 · Multi-column indexes: equality before range",
        title="A customer's last two years",
        story="The account page shows one customer's orders since a date: `user_id = {user}` "
        "and `created_at >= '2023-07-01'`. `orders` has an index on `created_at`, none on "
        "`user_id`.",
        task="Create one index that makes the query at least 10× faster. Think about the "
        "order of its columns.",
        sql=_HISTORY,
        lookups={
            "user": "SELECT user_id FROM orders WHERE user_id >= 1000 GROUP BY user_id "
            "ORDER BY abs(count(*) - 30), user_id LIMIT 1"
        },
        variants={"user": ANY_CUSTOMER.format(low=10, high=60)},
        setup=(
            _NEW_ORDER.format(
                user="{user}",
                status="paid",
                total="100 + (random() * 99999)::int",
                at="timestamp '2024-01-01' + random() * interval '500 days'",
            ),
        ),
        solution="CREATE INDEX orders_user_id_created_at_idx ON orders (user_id, created_at)",
        table="orders",
        tight=True,
        hints=(
            "How many rows does the plan read, and how many does it return?",
            "A two-column index is sorted by its first column, then by the second among equal "
            "first values. Which order keeps this customer's recent orders next to each other?",
            "Put the column compared with `=` first and the column compared with a range second.",
        ),
        wrong_answers=(
            WrongAnswer(
                "CREATE INDEX ON orders (created_at, user_id)",
                "Range first: this customer's orders are spread over two years of the index, "
                "mixed with everyone else's, so the index would have to be walked over most "
                "of its length (the planner prefers reading the table). Equality first keeps "
                "them together, in date order.",
            ),
        ),
        objectives=(
            "Read a multi-column index as a sort order",
            "Put equality columns before range columns",
            "Tell an Index Cond from a Filter in a plan",
        ),
        minutes=10,
        explanation="The index (user_id, created_at) keeps each customer's orders together, "
        "sorted by date: the scan starts at (customer, 2023-07-01) and stops at the next "
        "customer. An index on `user_id` alone would serve this query too, but reads the "
        "customer's older orders and filters them out; the range column second makes the "
        "index answer both conditions.",
    ),
    Scenario(
        name="signups_report",
        chapter="5 · Index-only scans: covering indexes",
        title="Who signed up since April",
        story="The growth dashboard lists every sign-up since April: who, and when. Each row "
        "of `events` carries half a kilobyte of JSON payload, so reading rows is what costs.",
        task="Make the query at least 10× faster with an index that answers it on its own: "
        "an Index Only Scan, the table not visited.",
        sql=_SIGNUPS,
        solution="CREATE INDEX events_signups_idx ON events (type, created_at) INCLUDE (user_id)",
        table="events",
        index_only=True,
        setup=(
            "INSERT INTO events (id, user_id, type, created_at, payload) "
            "SELECT m.top + 1 + (random() * 999)::int, " + _SOME_USER + ", 'signup', "
            "timestamp '2025-04-02' + random() * interval '60 days', '' "
            "FROM (SELECT max(id) AS top FROM events) m",
        ),
        hints=(
            "Look at the buffers the plan touches (`Buffers: shared hit=...`) and at what "
            "it reads them for.",
            "An index scan still visits the table for every column the index does not hold. "
            "When the index holds every column the query needs, PostgreSQL can answer from "
            "the index alone.",
            "`INCLUDE (...)` adds columns to an index's entries without making them part of "
            "its sort key.",
        ),
        wrong_answers=(
            WrongAnswer(
                "CREATE INDEX ON events (type, created_at)",
                "The right key, but `user_id` is not in the index: every matching entry still "
                "fetches its row from the table (an Index Scan, not an Index Only Scan).",
            ),
            WrongAnswer(
                "CREATE INDEX ON events (created_at) INCLUDE (type, user_id)",
                "Covering, but the key starts with the range: the scan reads every event "
                "since April and throws away those that are not sign-ups.",
            ),
        ),
        objectives=(
            "Tell an Index Scan from an Index Only Scan, and read 'Heap Fetches'",
            "Build a covering index with INCLUDE",
            "Know that index-only scans rely on the visibility map (VACUUM)",
        ),
        minutes=10,
        explanation="With (type, created_at) INCLUDE (user_id) the sign-ups since April are "
        "contiguous in the index and carry every column the query returns: no table page is "
        "read. An index-only scan still checks the visibility map; on a table with many recent "
        "changes 'Heap Fetches' grow until VACUUM has run.",
    ),
    Scenario(
        name="biggest_orders",
        chapter="6 · ORDER BY with LIMIT: pipelined top-N",
        title="The biggest orders",
        story="The sales dashboard shows the twenty biggest orders ever placed. To find them "
        "PostgreSQL reads every order and keeps the best twenty (a top-N heapsort).",
        task="Make it at least 10× faster. The rows and their order must stay the same.",
        sql=_BIGGEST.format(order="total_cents DESC, id DESC"),
        ordered=True,
        setup=(
            # two new biggest orders of the same amount, the lower id written first: only the
            # tie-breaker (id DESC) puts them in the planted order, whatever the index
            "INSERT INTO orders (id, user_id, status, total_cents, currency, shipping_country, "
            "created_at) SELECT m.top + n * 1000 + (random() * 999)::int, " + _SOME_USER + ", "
            "'paid', m.biggest, 'EUR', 'DE', timestamp '2025-03-01' + random() * interval "
            "'90 days' FROM (SELECT max(id) AS top, max(total_cents) + 1 + (random() * 999)::int "
            "AS biggest FROM orders) m, generate_series(1, 2) n ORDER BY n",
        ),
        solution="CREATE INDEX orders_total_cents_id_idx ON orders (total_cents DESC, id DESC)",
        hints=(
            "What does the Sort node read, and how many rows does the Limit take from it?",
            "An index hands out its entries in order; a LIMIT on top of an index scan stops "
            "after twenty of them.",
            "The index must match the ORDER BY: its columns and their directions (or all of "
            "them reversed: a B-tree reads backwards as well).",
        ),
        wrong_answers=(
            WrongAnswer(
                _BIGGEST.format(order="total_cents, id"),
                "Ascending order: the twenty smallest orders, not the biggest.",
            ),
            WrongAnswer(
                "CREATE INDEX ON orders (status, total_cents)",
                "The index leads with `status`, which this query does not filter on: its "
                "entries are in `total_cents` order only within each status, so the sort "
                "stays.",
            ),
        ),
        objectives=(
            "See how a LIMIT lets an index scan stop early (a pipelined top-N)",
            "Match an index's columns and directions to an ORDER BY",
            "Know why a top-N sort must read every row however small N is",
        ),
        minutes=8,
        explanation="With the index the plan is Limit → Index Scan: twenty entries read, "
        "nothing sorted. An index on (total_cents) alone also serves it (an Incremental Sort "
        "orders the ties by id), because a B-tree can be read backwards.",
    ),
)
