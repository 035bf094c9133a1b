"""MySQL's and MariaDB's health: what ``information_schema`` and the ``sys`` schema give.

Duplicate and redundant indexes come from ``information_schema.STATISTICS`` (what
``sys.schema_redundant_indexes`` reads too); unused indexes from performance_schema's index
I/O counters, or MariaDB's ``INDEX_STATISTICS`` (``userstat``), when either is on (a note says
so when neither is); tables without a primary key from ``information_schema``; statistics age
from InnoDB's persistent statistics (``mysql.innodb_table_stats``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workbench import formatting as fmt
from workbench.dialects.base import fetch_dicts
from workbench.health.common import Checkup, index_findings, quote
from workbench.health.indexes import Index
from workbench.health.report import health_finding, size

__all__ = ["check"]

STALE_DAYS = 30
MIN_ROWS = 1_000

_STATISTICS_SQL = """
SELECT s.TABLE_NAME AS table_name, s.INDEX_NAME AS index_name, s.COLUMN_NAME AS column_name,
       s.SUB_PART AS sub_part, s.NON_UNIQUE AS non_unique, s.INDEX_TYPE AS index_type,
       s.SEQ_IN_INDEX AS seq, s.COLLATION AS collation
FROM information_schema.STATISTICS s
JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = s.TABLE_SCHEMA AND t.TABLE_NAME = s.TABLE_NAME
WHERE s.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'
ORDER BY s.TABLE_NAME, s.INDEX_NAME, s.SEQ_IN_INDEX
"""

_TABLES_SQL = """
SELECT t.TABLE_NAME AS table_name, t.ENGINE AS engine, t.TABLE_ROWS AS table_rows,
       t.DATA_LENGTH AS data_bytes, t.UPDATE_TIME AS update_time,
       EXISTS (SELECT 1 FROM information_schema.STATISTICS s WHERE s.TABLE_SCHEMA = t.TABLE_SCHEMA
               AND s.TABLE_NAME = t.TABLE_NAME AND s.INDEX_NAME = 'PRIMARY') AS has_primary
FROM information_schema.TABLES t
WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'
ORDER BY t.TABLE_NAME
"""


def read_indexes(dbapi: Any) -> list[Index]:
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in fetch_dicts(dbapi, _STATISTICS_SQL):
        grouped.setdefault((row["table_name"], row["index_name"]), []).append(row)
    out = []
    for (table, name), rows in grouped.items():
        keys = tuple(
            f"{r['column_name']}({r['sub_part']})" if r["sub_part"] else str(r["column_name"])
            for r in rows
        )
        out.append(
            Index(
                table=table,
                name=name,
                keys=keys,
                directions=tuple("desc" if r["collation"] == "D" else "asc" for r in rows),
                method=str(rows[0]["index_type"] or "btree").lower(),
                unique=not int(rows[0]["non_unique"]),
                primary=name == "PRIMARY",
            )
        )
    return out


def check(dbapi: Any, found: Checkup) -> None:
    indexes = read_indexes(dbapi)
    index_findings(found, indexes)
    _unused(dbapi, found, indexes)
    tables = fetch_dicts(dbapi, _TABLES_SQL)
    _without_primary_key(found, tables)
    _statistics_age(dbapi, found, tables)


def _usage(dbapi: Any) -> dict[tuple[str, str], int] | None:
    """Reads per index since the server started: performance_schema, else MariaDB's
    userstat; ``None`` when neither counts."""
    on = fetch_dicts(dbapi, "SELECT @@performance_schema AS on_")
    if on and int(on[0]["on_"] or 0):
        rows = fetch_dicts(
            dbapi,
            "SELECT OBJECT_NAME AS table_name, INDEX_NAME AS index_name, COUNT_READ AS reads "
            "FROM performance_schema.table_io_waits_summary_by_index_usage "
            "WHERE OBJECT_SCHEMA = DATABASE() AND INDEX_NAME IS NOT NULL",
        )
        return {(r["table_name"], r["index_name"]): int(r["reads"] or 0) for r in rows}
    try:
        userstat = fetch_dicts(dbapi, "SELECT @@userstat AS on_")
    except Exception:  # MySQL has no userstat
        return None
    if not userstat or not int(userstat[0]["on_"] or 0):
        return None
    rows = fetch_dicts(
        dbapi,
        "SELECT TABLE_NAME AS table_name, INDEX_NAME AS index_name, ROWS_READ AS reads "
        "FROM information_schema.INDEX_STATISTICS WHERE TABLE_SCHEMA = DATABASE()",
    )
    return {(r["table_name"], r["index_name"]): int(r["reads"] or 0) for r in rows}


def _unused(dbapi: Any, found: Checkup, indexes: list[Index]) -> None:
    usage = _usage(dbapi)
    if usage is None:
        found.notes.append(
            "unused indexes were not judged: performance_schema is off (and MariaDB's userstat "
            "too), so nothing counts index reads"
        )
        return
    found.ran("unused_index")
    uptime = fetch_dicts(dbapi, "SHOW GLOBAL STATUS LIKE 'Uptime'")
    seconds = float(uptime[0]["Value"]) if uptime else 0.0
    days = seconds / 86400
    used_tables = {t for (t, _), reads in usage.items() if reads}
    for index in indexes:
        if index.enforces or usage.get((index.table, index.name), 0) > 0:
            continue
        if index.table not in used_tables:
            continue  # nothing read the table through any index: too little to go on
        found.findings.append(
            health_finding(
                "unused_index",
                "low" if days < 7 else "medium",
                f"{index.name} on {index.table} has not been read since the server started",
                f"No read used {index.name} in {days:.1f} days of server uptime, while other "
                f"indexes of {index.table} were; every write still maintains it.",
                objects=[index.table, index.name],
                evidence={"index": index.name, "table": index.table, "uptime_days": days},
                fix=(
                    f"ALTER TABLE {quote(index.table, found.dialect)} ALTER INDEX "
                    f"{quote(index.name, found.dialect)} "
                    + ("IGNORED" if found.dialect == "mariadb" else "INVISIBLE")
                ),
                expected_effect="the optimizer stops using it (reversibly); drop it once nothing "
                "got slower",
                risk=f"medium: the counters cover {days:.1f} days; a rare job may need it. "
                "Making it invisible first is reversible in an instant",
            )
        )


def _without_primary_key(found: Checkup, tables: list[dict[str, Any]]) -> None:
    found.ran("missing_primary_key")
    for row in tables:
        if int(row["has_primary"] or 0):
            continue
        rows = float(row["table_rows"] or 0)
        name = row["table_name"]
        found.findings.append(
            health_finding(
                "missing_primary_key",
                "medium" if rows >= MIN_ROWS else "low",
                f"{name} has no primary key",
                f"{name} ({row['engine']}, ~{fmt.count(rows)} rows) has no primary key: InnoDB "
                "clusters it on a hidden row id nobody can query by, row-based replication "
                "scans the table for each changed row, and duplicates can creep in.",
                objects=[name],
                evidence={"table": name, "rows": rows, "engine": row["engine"]},
                fix=f"ALTER TABLE {quote(name, found.dialect)} ADD PRIMARY KEY (<columns>)",
                fix_kind="ddl",
                expected_effect="rows addressable by key; replication applies changes by key",
                risk="medium: rebuilds the table; fails if the chosen columns hold duplicates "
                "or NULLs",
            )
        )


def _statistics_age(dbapi: Any, found: Checkup, tables: list[dict[str, Any]]) -> None:
    try:
        stats = fetch_dicts(
            dbapi,
            "SELECT table_name, last_update, n_rows FROM mysql.innodb_table_stats "
            "WHERE database_name = DATABASE()",
        )
    except Exception:  # no privilege on the mysql schema
        found.notes.append(
            "statistics age was not judged: mysql.innodb_table_stats is not readable"
        )
        return
    found.ran("stale_statistics")
    by_table = {r["table_name"]: r for r in stats}
    now = datetime.now()
    for row in tables:
        name = row["table_name"]
        rows = float(row["table_rows"] or 0)
        if row["engine"] != "InnoDB" or rows < MIN_ROWS:
            continue
        seen = by_table.get(name)
        if seen is None or seen["last_update"] is None:
            continue  # transient statistics: recalculated as the table changes
        age = (now - seen["last_update"]).total_seconds() / 86400
        changed = row["update_time"] and row["update_time"] > seen["last_update"]
        if age < STALE_DAYS or not changed:
            continue
        found.findings.append(
            health_finding(
                "stale_statistics",
                "medium",
                f"{name}'s statistics are {age:.0f} days old",
                f"InnoDB last gathered {name}'s persistent statistics {age:.0f} days ago "
                f"(for {fmt.count(seen['n_rows'])} rows); the table has changed since "
                f"({size(row['data_bytes'])} now).",
                objects=[name],
                evidence={"table": name, "age_days": round(age, 1), "stats_rows": seen["n_rows"]},
                fix=f"ANALYZE TABLE {quote(name, found.dialect)}",
                fix_kind="sql",
                expected_effect="the optimizer's row estimates match the data again",
                risk="low: ANALYZE TABLE samples index pages; it commits implicitly and briefly "
                "flushes the table from the table definition cache",
            )
        )
