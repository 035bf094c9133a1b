"""PostgreSQL's tables and server: bloat and dead tuples, vacuum and analyze, the buffer cache,
connections, and sequences and integer keys near their type's limit.

Table bloat is estimated the usual way: the pages the live rows need (rows × (tuple header +
the columns' average widths from ``pg_stats``, aligned) + line pointers, at the table's
fillfactor) against the pages the table holds; dead tuples come from
``pg_stat_user_tables``. Both are estimates and the findings say so.
"""

from __future__ import annotations

import math
from typing import Any

from workbench import formatting as fmt
from workbench.dialects.base import fetch_dicts
from workbench.health.common import Checkup, quote
from workbench.health.postgresql import USER_TABLES
from workbench.health.report import health_finding, size

__all__ = ["check_server", "check_tables"]

DEAD_MIN = 1_000
DEAD_SHARE = 0.2
BLOAT_SHARE = 0.5
BLOAT_MIN_BYTES = 1024**2
STALE_MIN_ROWS = 1_000
STALE_SHARE = 0.2
CACHE_MIN_BLOCKS = 100_000
CACHE_RATIO = 0.95
CONNECTIONS_SHARE = 0.8
LIMIT_SHARE = 0.75
_TYPE_MAX = {"smallint": 32_767, "integer": 2_147_483_647, "bigint": 9_223_372_036_854_775_807}

_TABLES_SQL = f"""
SELECT n.nspname AS schema, t.relname AS table_name, greatest(t.reltuples, 0) AS reltuples,
       t.reltuples < 0 AS never_counted, pg_relation_size(t.oid) AS bytes,
       current_setting('block_size')::int AS block_size, t.reloptions::text[] AS options,
       st.n_live_tup, st.n_dead_tup, st.n_mod_since_analyze,
       greatest(st.last_vacuum, st.last_autovacuum) AS last_vacuum,
       greatest(st.last_analyze, st.last_autoanalyze) AS last_analyze,
       (SELECT sum(ps.avg_width) FROM pg_stats ps
         WHERE ps.schemaname = n.nspname AND ps.tablename = t.relname) AS row_width,
       (SELECT count(*) FROM pg_stats ps
         WHERE ps.schemaname = n.nspname AND ps.tablename = t.relname) AS stats_columns,
       current_setting('autovacuum')::bool AS autovacuum,
       current_setting('autovacuum_vacuum_threshold')::float AS vacuum_threshold,
       current_setting('autovacuum_vacuum_scale_factor')::float AS vacuum_scale,
       now() AS now
FROM pg_class t
JOIN pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_stat_user_tables st ON st.relid = t.oid
WHERE t.relkind IN ('r', 'm') AND {USER_TABLES}
ORDER BY 1, 2
"""

_SEQUENCES_SQL = """
SELECT s.schemaname AS schema, s.sequencename AS name, s.data_type::text AS data_type,
       s.last_value, s.max_value, s.increment_by,
       col.table_name, col.column_name, col.column_type
FROM pg_sequences s
LEFT JOIN LATERAL (
  SELECT c.relname AS table_name, a.attname AS column_name,
         format_type(a.atttypid, NULL) AS column_type
  FROM pg_depend d
  JOIN pg_class c ON c.oid = d.refobjid
  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
  WHERE d.classid = 'pg_class'::regclass
    AND d.objid = format('%I.%I', s.schemaname, s.sequencename)::regclass
    AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
  LIMIT 1) col ON true
WHERE s.schemaname NOT IN ('pg_catalog', 'information_schema')
"""

# integer primary keys with no sequence behind them (the application picks the values)
_INT_KEYS_SQL = f"""
SELECT n.nspname AS schema, t.relname AS table_name, a.attname AS column_name,
       format_type(a.atttypid, NULL) AS column_type
FROM pg_index x
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
WHERE x.indisprimary AND x.indnkeyatts = 1 AND t.relkind = 'r' AND {USER_TABLES}
  AND a.atttypid IN ('int2'::regtype, 'int4'::regtype) AND a.attidentity = ''
  AND NOT EXISTS (SELECT 1 FROM pg_attrdef ad WHERE ad.adrelid = t.oid AND ad.adnum = a.attnum)
ORDER BY 1, 2 LIMIT 200
"""


def check_tables(dbapi: Any, found: Checkup) -> None:
    found.ran("table_bloat", "vacuum_overdue", "stale_statistics")
    for row in fetch_dicts(dbapi, _TABLES_SQL):
        name = (
            row["table_name"]
            if row["schema"] == "public"
            else f"{row['schema']}.{row['table_name']}"
        )
        _bloat(found, row, name)
        _vacuum(found, row, name)
        _statistics(found, row, name)


def _options(row: dict[str, Any]) -> dict[str, str]:
    return dict(o.split("=", 1) for o in row["options"] or [] if "=" in o)


def _bloat(found: Checkup, row: dict[str, Any], name: str) -> None:
    live = float(row["n_live_tup"] or 0)
    dead = float(row["n_dead_tup"] or 0)
    dead_share = dead / (live + dead) if live + dead else 0.0
    actual = int(row["bytes"] or 0)
    block = int(row["block_size"])
    needed: float | None = None
    if row["row_width"] and row["stats_columns"]:
        fill = float(_options(row).get("fillfactor", 100)) / 100
        tuple_bytes = 24 + math.ceil(float(row["row_width"]) / 8) * 8 + 4
        per_page = max(1, math.floor((block - 24) * fill / tuple_bytes))
        needed = math.ceil(float(row["reltuples"]) / per_page) * block
    wasted = actual - needed if needed is not None else None
    by_dead = dead >= DEAD_MIN and dead_share >= DEAD_SHARE
    by_space = bool(
        wasted is not None
        and actual
        and wasted >= BLOAT_MIN_BYTES
        and wasted / actual >= BLOAT_SHARE
    )
    if not by_dead and not by_space:
        return
    table = quote(name, "postgresql")
    estimate = (
        f" The table takes {size(actual)}; its {fmt.count(row['reltuples'])} live rows need "
        f"about {size(needed)} (an estimate from the column statistics)."
        if needed is not None
        else f" The table takes {size(actual)}."
    )
    full = by_space and not by_dead
    found.findings.append(
        health_finding(
            "table_bloat",
            "high" if (wasted or 0) >= 1024**3 or dead >= 10_000_000 else "medium",
            f"{name} holds {fmt.count(dead)} dead rows ({fmt.percent(dead_share)})"
            if by_dead
            else f"{name} takes {size(actual)}, about {fmt.percent(wasted / actual)} of it empty"
            if wasted is not None and actual
            else f"{name} is bloated",
            f"{name} has {fmt.count(dead)} dead row versions beside {fmt.count(live)} live ones: "
            "updates and deletes leave them behind until VACUUM clears them, and every scan "
            f"reads past them." + estimate,
            objects=[name],
            evidence={
                "table": name,
                "dead_rows": dead,
                "live_rows": live,
                "dead_share": round(dead_share, 4),
                "bytes": actual,
                "estimated_bytes": round(needed) if needed is not None else None,
                "wasted_bytes": round(wasted) if wasted is not None else None,
            },
            fix=f"VACUUM (FULL, ANALYZE) {table}" if full else f"VACUUM (ANALYZE) {table}",
            fix_kind="sql",
            expected_effect="the dead rows' space is reusable and scans read fewer pages"
            if not full
            else f"the table is rewritten at about {size(needed)}",
            risk="high: VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock (no reads "
            "or writes until it ends); pg_repack does the same online"
            if full
            else "low: VACUUM takes a lock that lets reads and writes go on, and costs I/O "
            "while it runs (it cannot run inside a transaction block)",
        )
    )


def _vacuum(found: Checkup, row: dict[str, Any], name: str) -> None:
    table = quote(name, "postgresql")
    disabled = _options(row).get("autovacuum_enabled", "true").lower() in ("false", "off", "0")
    dead = float(row["n_dead_tup"] or 0)
    trigger = float(row["vacuum_threshold"]) + float(row["vacuum_scale"]) * float(row["reltuples"])
    if disabled:
        found.findings.append(
            health_finding(
                "vacuum_overdue",
                "medium" if dead >= DEAD_MIN else "low",
                f"autovacuum is disabled on {name}",
                f"{name} is excluded from autovacuum (autovacuum_enabled = false): its dead rows "
                f"({fmt.count(dead)} now) stay until someone runs VACUUM, and its statistics go "
                "stale as it changes.",
                objects=[name],
                evidence={"table": name, "dead_rows": dead, "autovacuum_enabled": False},
                fix=f"ALTER TABLE {table} RESET (autovacuum_enabled)",
                expected_effect="autovacuum clears the dead rows and keeps the statistics fresh",
                risk="low: the next autovacuum run on the table costs I/O once",
            )
        )
        return
    if not row["autovacuum"] or dead < DEAD_MIN or dead < 2 * trigger:
        return
    last = row["last_vacuum"]
    days = (row["now"] - last).total_seconds() / 86400 if last else None
    if days is not None and days < 1:
        return
    found.findings.append(
        health_finding(
            "vacuum_overdue",
            "medium",
            f"autovacuum has not kept up with {name}",
            f"{name} has {fmt.count(dead)} dead rows, twice the {fmt.count(trigger)} at which "
            "autovacuum should have started, and was last vacuumed "
            + (f"{days:.0f} days ago" if days is not None else "never")
            + ": long transactions, locks or too few autovacuum workers may be holding it back.",
            objects=[name],
            evidence={"table": name, "dead_rows": dead, "trigger": trigger, "days": days},
            fix=f"VACUUM (ANALYZE) {table}",
            fix_kind="sql",
            expected_effect="the dead rows' space becomes reusable; then lower the table's "
            "autovacuum_vacuum_scale_factor so autovacuum starts earlier",
            risk="low: VACUUM lets reads and writes go on",
        )
    )


def _statistics(found: Checkup, row: dict[str, Any], name: str) -> None:
    rows = max(float(row["reltuples"]), float(row["n_live_tup"] or 0))
    if rows < STALE_MIN_ROWS:
        return
    modified = float(row["n_mod_since_analyze"] or 0)
    never = not row["stats_columns"]
    if not never and modified < max(STALE_MIN_ROWS, STALE_SHARE * rows):
        return
    table = quote(name, "postgresql")
    found.findings.append(
        health_finding(
            "stale_statistics",
            "high" if never and rows >= 100_000 else "medium",
            f"{name} has never been analysed"
            if never
            else f"{fmt.count(modified)} rows of {name} changed since its last ANALYZE",
            (
                f"The planner has no statistics for {name} ({fmt.count(rows)} rows): it guesses "
                "selectivities and row counts, and picks plans accordingly."
                if never
                else f"{fmt.count(modified)} of its ~{fmt.count(rows)} rows were inserted, "
                "updated or deleted since the statistics were gathered "
                f"({fmt.percent(min(1.0, modified / rows))}): estimates drift from the data."
            ),
            objects=[name],
            evidence={"table": name, "rows": rows, "modified_since_analyze": modified},
            fix=f"ANALYZE {table}",
            fix_kind="sql",
            expected_effect="row estimates match the data again, and with them the plans",
            risk="low: ANALYZE reads a sample of the table and takes a lock that lets reads "
            "and writes go on; plans may change (that is the point)",
        )
    )


def check_server(dbapi: Any, found: Checkup) -> None:
    """The buffer cache, connections, sequences and integer keys."""
    found.ran("low_cache_hit_ratio", "connections_near_limit", "sequence_near_limit")
    _cache(dbapi, found)
    _connections(dbapi, found)
    _sequences(dbapi, found)
    _integer_keys(dbapi, found)


def _cache(dbapi: Any, found: Checkup) -> None:
    rows = fetch_dicts(
        dbapi,
        "SELECT blks_hit, blks_read, current_setting('shared_buffers') AS shared_buffers "
        "FROM pg_stat_database WHERE datname = current_database()",
    )
    if not rows:
        return
    hit, read = float(rows[0]["blks_hit"] or 0), float(rows[0]["blks_read"] or 0)
    if read < CACHE_MIN_BLOCKS or hit / (hit + read) >= CACHE_RATIO:
        return
    ratio = hit / (hit + read)
    found.findings.append(
        health_finding(
            "low_cache_hit_ratio",
            "high" if ratio < 0.8 else "medium",
            f"{fmt.percent(ratio)} of block reads hit the buffer cache",
            f"Since the statistics began, {fmt.count(read)} blocks came from outside "
            f"shared_buffers ({rows[0]['shared_buffers']}) against {fmt.count(hit)} found in "
            "it: the working set does not fit, or large scans keep evicting it (the OS cache "
            "may still serve some of those reads).",
            objects=[],
            evidence={"blocks_hit": hit, "blocks_read": read, "ratio": round(ratio, 4)},
            fix="ALTER SYSTEM SET shared_buffers = '<about 25% of the memory>'",
            fix_kind="setting",
            expected_effect="more of the working set stays in memory; first remove the scans "
            "that read whole tables (missing indexes), which evict everything else",
            risk="medium: takes effect after a restart; too large leaves the OS cache and "
            "work_mem short",
        )
    )


def _connections(dbapi: Any, found: Checkup) -> None:
    rows = fetch_dicts(
        dbapi,
        "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') "
        "AS used, current_setting('max_connections')::int AS max_connections, "
        "current_setting('superuser_reserved_connections')::int AS reserved",
    )
    used, limit = int(rows[0]["used"]), int(rows[0]["max_connections"]) - int(rows[0]["reserved"])
    if limit <= 0 or used / limit < CONNECTIONS_SHARE:
        return
    found.findings.append(
        health_finding(
            "connections_near_limit",
            "critical" if used / limit >= 0.95 else "high",
            f"{used} of {limit} connections in use",
            f"{used} client connections are open against max_connections "
            f"{rows[0]['max_connections']} ({rows[0]['reserved']} reserved for superusers): "
            "new connections will be refused soon.",
            objects=[],
            evidence={"used": used, "limit": limit},
            fix="put a connection pooler (PgBouncer in transaction mode) in front of the "
            "server, or size the application pools down",
            fix_kind="code",
            expected_effect="a few dozen server connections serve many clients",
            risk="medium: transaction pooling breaks session state (SET, prepared statements "
            "on old drivers); raising max_connections needs a restart and memory",
        )
    )


def _near_limit(
    found: Checkup, what: str, value: float, limit: float, fix: str, objects: list[str]
) -> None:
    share = value / limit if limit else 0.0
    if share < LIMIT_SHARE:
        return
    found.findings.append(
        health_finding(
            "sequence_near_limit",
            "critical" if share >= 0.97 else "high" if share >= 0.9 else "medium",
            f"{what} is at {fmt.percent(share)} of its maximum",
            f"{what} has reached {fmt.count(value)} of {fmt.count(limit)}: when it gets there, "
            "inserts fail.",
            objects=objects,
            evidence={"value": value, "limit": limit, "share": round(share, 4)},
            fix=fix,
            expected_effect="room for 9.2 quintillion values",
            risk="high: changing a column's type rewrites the table (and its indexes) under an "
            "ACCESS EXCLUSIVE lock; plan it, or migrate to a new bigint column in steps",
        )
    )


def _sequences(dbapi: Any, found: Checkup) -> None:
    for row in fetch_dicts(dbapi, _SEQUENCES_SQL):
        if row["last_value"] is None or int(row["increment_by"]) < 0:
            continue
        limit = float(row["max_value"])
        column_type = row["column_type"]
        name = f"{row['schema']}.{row['name']}"
        if row["table_name"] and column_type in _TYPE_MAX:
            limit = min(limit, float(_TYPE_MAX[column_type]))
            table = quote(f"{row['schema']}.{row['table_name']}", "postgresql")
            column = quote(row["column_name"], "postgresql")
            fix = f"ALTER SEQUENCE {quote(name, 'postgresql')} AS bigint"
            if column_type != "bigint":
                fix = f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bigint; {fix}"
            what = f"{row['table_name']}.{row['column_name']} ({column_type}, from {name})"
            objects = [row["table_name"], name]
        else:
            fix = f"ALTER SEQUENCE {quote(name, 'postgresql')} AS bigint"
            what, objects = f"sequence {name} ({row['data_type']})", [name]
        _near_limit(found, what, float(row["last_value"]), limit, fix, objects)


def _integer_keys(dbapi: Any, found: Checkup) -> None:
    from psycopg import sql

    for row in fetch_dicts(dbapi, _INT_KEYS_SQL):
        query = sql.SQL("SELECT max({}) AS top FROM {}.{}").format(
            sql.Identifier(row["column_name"]),
            sql.Identifier(row["schema"]),
            sql.Identifier(row["table_name"]),
        )
        top = fetch_dicts(dbapi, query.as_string(dbapi))[0]["top"]
        if top is None:
            continue
        table = quote(f"{row['schema']}.{row['table_name']}", "postgresql")
        column = quote(row["column_name"], "postgresql")
        _near_limit(
            found,
            f"{row['table_name']}.{row['column_name']} ({row['column_type']})",
            float(top),
            float(_TYPE_MAX[row["column_type"]]),
            f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bigint",
            [row["table_name"]],
        )
