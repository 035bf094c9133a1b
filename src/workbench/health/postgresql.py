"""PostgreSQL's indexes: duplicate, redundant, unused, invalid and bloated ones, and foreign
keys without one (the tables and the server are :mod:`workbench.health.pg_tables`').

Read from ``pg_index`` (keys with direction, opclass and collation; predicate; INCLUDE
columns), ``pg_stat_user_indexes`` (scans since the statistics began), ``pg_constraint`` and
``pg_stats`` (average widths, for the size an index's entries need).

An index counts as *unused* only with evidence: no scan recorded while its table served at
least :data:`MIN_TABLE_SCANS` scans through other paths since the statistics began, and the
finding says how old those statistics are (younger than a week: low severity, a monthly
report may still need it). A fresh server, or a table nobody queried yet, flags nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workbench import formatting as fmt
from workbench.dialects.base import fetch_dicts
from workbench.health.common import Checkup, foreign_key_findings, index_findings, quote
from workbench.health.indexes import ForeignKey, Index
from workbench.health.report import health_finding, size

__all__ = ["MIN_TABLE_SCANS", "USER_TABLES", "check_indexes", "read_indexes"]

#: scans a table must have served (through other paths) before an index of it counts as unused
MIN_TABLE_SCANS = 50
#: statistics younger than this make an unused index a low-severity finding
SETTLED_DAYS = 7
#: an index this much larger than its entries need is bloated (and ≥ BLOAT_MIN_BYTES)
INDEX_BLOAT_FACTOR = 2.0
BLOAT_MIN_BYTES = 8 * 1024**2

USER_TABLES = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
    "AND n.nspname NOT LIKE 'pg_temp%' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE "
    "d.classid = 'pg_class'::regclass AND d.objid = t.oid AND d.deptype = 'e')"
)

_INDEXES_SQL = f"""
SELECT n.nspname AS schema, t.relname AS table_name, i.relname AS index_name,
       x.indexrelid::bigint AS index_oid,
       am.amname AS method, x.indisunique AS is_unique, x.indisprimary AS is_primary,
       x.indisvalid AS is_valid, x.indnkeyatts AS key_count,
       pg_get_indexdef(x.indexrelid) AS definition,
       pg_get_expr(x.indpred, x.indrelid, true) AS predicate,
       ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true)
             FROM generate_series(1, x.indnatts) AS k ORDER BY k) AS columns,
       ARRAY(SELECT o::int FROM unnest(x.indoption::int2[]) AS o) AS options,
       ARRAY(SELECT coalesce(nullif(o.opcname, ''), '') || CASE WHEN o.opcdefault THEN '' ELSE '*'
             END FROM unnest(x.indclass::oid[]) WITH ORDINALITY AS u(oid, k)
             JOIN pg_opclass o ON o.oid = u.oid ORDER BY u.k) AS opclasses,
       ARRAY(SELECT c::bigint FROM unnest(x.indcollation::oid[]) AS c) AS collations,
       pg_relation_size(x.indexrelid) AS bytes,
       s.idx_scan AS scans,
       coalesce(st.seq_scan, 0) + coalesce(st.idx_scan, 0) AS table_scans,
       (SELECT c.conname FROM pg_constraint c WHERE c.conindid = x.indexrelid
          AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x') LIMIT 1) AS constraint_name,
       greatest(t.reltuples, 0) AS table_rows,
       (SELECT sum(ps.avg_width) FROM pg_stats ps WHERE ps.schemaname = n.nspname
          AND ps.tablename = t.relname AND ps.attname = ANY(
            SELECT a.attname FROM pg_attribute a WHERE a.attrelid = x.indrelid
              AND a.attnum = ANY(x.indkey::int2[]))) AS key_width
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = x.indexrelid
LEFT JOIN pg_stat_user_tables st ON st.relid = x.indrelid
WHERE t.relkind IN ('r', 'm') AND {USER_TABLES}
ORDER BY n.nspname, t.relname, i.relname
"""

_FOREIGN_KEYS_SQL = f"""
SELECT n.nspname AS schema, t.relname AS table_name, c.conname AS name,
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
             ORDER BY k.i) AS columns,
       c.confrelid::regclass::text AS parent,
       greatest(t.reltuples, coalesce(st.n_live_tup, 0)) AS table_rows
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_stat_user_tables st ON st.relid = t.oid
WHERE c.contype = 'f' AND {USER_TABLES}
ORDER BY 1, 2, 3
"""

_STATS_SINCE_SQL = """
SELECT coalesce(d.stats_reset, pg_postmaster_start_time()) AS since, now() AS now
FROM pg_stat_database d WHERE d.datname = current_database()
"""


def read_indexes(dbapi: Any) -> list[Index]:
    """Every index of the user tables, as :class:`Index` values."""
    out = []
    for row in fetch_dicts(dbapi, _INDEXES_SQL):
        keys = int(row["key_count"])
        columns = list(row["columns"] or [])
        options = _ints(row["options"])
        opclasses = [str(o) for o in row["opclasses"] or []]
        collations = _ints(row["collations"])
        out.append(
            Index(
                table=row["table_name"],
                name=row["index_name"],
                keys=tuple(columns[:keys]),
                directions=tuple(_direction(o) for o in options[:keys]),
                include=tuple(columns[keys:]),
                method=row["method"],
                unique=bool(row["is_unique"]),
                primary=bool(row["is_primary"]),
                constraint=row["constraint_name"],
                predicate=row["predicate"],
                valid=bool(row["is_valid"]),
                schema=row["schema"],
                # a non-default opclass changes what the index serves (text_pattern_ops)
                opclasses=tuple(o if o.endswith("*") else "" for o in opclasses[:keys]),
                collations=tuple(str(c) if c else "" for c in collations[:keys]),
                bytes=int(row["bytes"]) if row["bytes"] is not None else None,
                scans=int(row["scans"]) if row["scans"] is not None else None,
                definition=row["definition"],
                extra={
                    "created": int(row["index_oid"]),
                    "table_scans": int(row["table_scans"] or 0),
                    "table_rows": float(row["table_rows"] or 0),
                    "key_width": float(row["key_width"]) if row["key_width"] else None,
                },
            )
        )
    return out


def _ints(text: Any) -> list[int]:
    if text is None:
        return []
    if isinstance(text, list | tuple):
        return [int(v) for v in text]
    return [int(v) for v in str(text).strip("{}").split(",") if v.strip()]


def _direction(option: int) -> str:
    """``pg_index.indoption`` bits: 1 = DESC, 2 = NULLS FIRST (the default for DESC)."""
    desc, nulls_first = bool(option & 1), bool(option & 2)
    if desc:
        return "desc" if nulls_first else "desc nulls last"
    return "asc nulls first" if nulls_first else "asc"


def check_indexes(dbapi: Any, found: Checkup) -> list[Index]:
    """Every index finding of a PostgreSQL database; returns the indexes read."""
    indexes = read_indexes(dbapi)
    index_findings(found, indexes)
    _invalid(found, indexes)
    _unused(dbapi, found, indexes)
    _bloated(found, indexes)
    constraints = fetch_dicts(dbapi, _FOREIGN_KEYS_SQL)
    keys = [
        ForeignKey(r["table_name"], r["name"], tuple(r["columns"]), r["parent"], r["schema"])
        for r in constraints
    ]
    rows = {(r["schema"], r["table_name"]): float(r["table_rows"] or 0) for r in constraints}
    foreign_key_findings(
        found,
        keys,
        indexes,
        rows=lambda fk: rows.get((fk.schema, fk.table)),
        create=_create_for_key,
    )
    return indexes


def _create_for_key(fk: ForeignKey) -> str:
    from workbench.rules.text import index_name

    name = index_name(fk.table, *fk.columns)
    cols = ", ".join(quote(c, "postgresql") for c in fk.columns)
    return (
        f"CREATE INDEX CONCURRENTLY {quote(name, 'postgresql')} "
        f"ON {quote(fk.qualified_table, 'postgresql')} ({cols})"
    )


def _invalid(found: Checkup, indexes: list[Index]) -> None:
    found.ran("invalid_index")
    for index in indexes:
        if index.valid:
            continue
        found.findings.append(
            health_finding(
                "invalid_index",
                "high",
                f"{index.name} on {index.table} is invalid",
                f"{index.qualified} is marked invalid (a CREATE INDEX CONCURRENTLY or REINDEX "
                "that failed or was cancelled): the planner never uses it, yet every write to "
                f"{index.table} may still update it"
                + (f" ({size(index.bytes)})" if index.bytes is not None else "")
                + ".",
                objects=[index.qualified_table, index.qualified],
                evidence={"index": index.qualified, "bytes": index.bytes},
                fix=f"REINDEX INDEX CONCURRENTLY {quote(index.qualified, 'postgresql')}",
                expected_effect="the index becomes valid and usable (or drop it with DROP INDEX "
                "CONCURRENTLY if nothing needs it)",
                risk="low: REINDEX CONCURRENTLY does not block writes (PostgreSQL 12+), but "
                "reads the table and may fail again for the same reason (a duplicate value "
                "under a unique index: fix the data first)",
            )
        )


def _stats_age_days(dbapi: Any) -> tuple[float, datetime | None]:
    rows = fetch_dicts(dbapi, _STATS_SINCE_SQL)
    if not rows or rows[0]["since"] is None:
        return 0.0, None
    since, now = rows[0]["since"], rows[0]["now"]
    return max(0.0, (now - since).total_seconds() / 86400), since


def _unused(dbapi: Any, found: Checkup, indexes: list[Index]) -> None:
    found.ran("unused_index")
    # an index already named for dropping (a duplicate, a redundant one) is not named twice
    named = {
        f.evidence.get("index")
        for f in found.findings
        if f.code in ("duplicate_index", "redundant_index")
    }
    age, since = _stats_age_days(dbapi)
    when = f"since {since:%Y-%m-%d %H:%M}" if since else "since the statistics began"
    young = age < SETTLED_DAYS
    quiet = 0
    for index in indexes:
        if index.enforces or not index.valid or index.scans is None or index.scans > 0:
            continue
        if index.qualified in named:
            continue
        table_scans = int(index.extra.get("table_scans") or 0)  # type: ignore[call-overload]
        if table_scans < MIN_TABLE_SCANS:
            quiet += 1
            continue
        age_text = _age(age)
        found.findings.append(
            health_finding(
                "unused_index",
                "low" if young or (index.bytes or 0) < 10 * 1024**2 else "medium",
                f"{index.name} on {index.table} has not been used {when}",
                f"No query used {index.qualified}"
                + (f" ({size(index.bytes)})" if index.bytes is not None else "")
                + f" in {age_text} of statistics ({when}), while {index.table} served "
                f"{fmt.count(table_scans)} scans through other paths; every write to "
                f"{index.table} still updates it."
                + (
                    f" The statistics are only {age_text} old: watch it over a full business "
                    "cycle before dropping it."
                    if young
                    else ""
                ),
                objects=[index.qualified_table, index.qualified],
                evidence={
                    "index": index.qualified,
                    "bytes": index.bytes,
                    "scans": 0,
                    "table_scans": table_scans,
                    "stats_age_days": round(age, 3),
                    "stats_since": since.isoformat() if since else None,
                },
                fix=f"DROP INDEX CONCURRENTLY {quote(index.qualified, 'postgresql')}",
                expected_effect=f"{size(index.bytes)} freed; one index less to update on each "
                f"write to {index.table}",
                risk=f"medium: the statistics cover {age_text}; a rare job (a month-end report) "
                "or a replica (each server counts its own scans) may rely on it; keep its "
                "definition to recreate it (CREATE INDEX CONCURRENTLY)",
            )
        )
    if quiet:
        found.notes.append(
            f"{quiet} index{'es' if quiet != 1 else ''} without scans sit on tables queried "
            f"fewer than {MIN_TABLE_SCANS} times since the statistics began: too little use to "
            "call them unused"
        )


def _age(days: float) -> str:
    if days >= 2:
        return f"{days:.0f} days"
    hours = days * 24
    return f"{hours:.1f} hours" if hours >= 1 else f"{hours * 60:.0f} minutes"


def _bloated(found: Checkup, indexes: list[Index]) -> None:
    """B-tree indexes at least twice the size their entries need (an estimate from the rows
    and the key columns' average widths; deduplication only makes real indexes smaller)."""
    found.ran("index_bloat")
    for index in indexes:
        width = index.extra.get("key_width")
        rows = float(index.extra.get("table_rows") or 0)  # type: ignore[arg-type]
        if index.method != "btree" or not isinstance(width, float) or index.bytes is None:
            continue
        if index.predicate or rows < 10_000:
            continue
        # an entry: 8 bytes of header and the keys, aligned, plus a 4-byte line pointer;
        # leaf pages filled to 90%; plus a metapage
        entry = 8 + ((width + 7) // 8) * 8 + 4
        needed = rows * entry / (8192 * 0.9) * 8192 + 8192
        if index.bytes < max(needed * INDEX_BLOAT_FACTOR, BLOAT_MIN_BYTES):
            continue
        waste = index.bytes - needed
        found.findings.append(
            health_finding(
                "index_bloat",
                "medium" if waste >= 1024**3 else "low",
                f"{index.name} on {index.table} is {index.bytes / needed:.1f}× the size its "
                "entries need",
                f"{index.qualified} takes {size(index.bytes)}; {fmt.count(rows)} entries of "
                f"~{width:.0f} bytes of keys need about {size(needed)} (an estimate from the "
                "column statistics): the rest is empty space left by deleted or updated rows.",
                objects=[index.qualified_table, index.qualified],
                evidence={
                    "index": index.qualified,
                    "bytes": index.bytes,
                    "estimated_bytes": round(needed),
                    "wasted_bytes": round(waste),
                },
                fix=f"REINDEX INDEX CONCURRENTLY {quote(index.qualified, 'postgresql')}",
                expected_effect=f"about {size(waste)} freed; scans of the index read fewer pages",
                risk="low: REINDEX CONCURRENTLY does not block reads or writes (PostgreSQL 12+) "
                "but needs room for a second copy while it runs",
            )
        )
