"""SQLite's and DuckDB's health: what applies to an embedded database.

SQLite: duplicate and redundant indexes, foreign keys without an index, and statistics that
``ANALYZE`` never gathered or that no longer match the table (``sqlite_stat1``). DuckDB:
duplicate and redundant indexes (it keeps its own statistics and indexes its foreign keys
itself). Neither counts index use, so nothing is called unused.
"""

from __future__ import annotations

import re
from typing import Any

from workbench import formatting as fmt
from workbench.dialects.base import fetch_dicts
from workbench.health.common import Checkup, foreign_key_findings, index_findings, quote
from workbench.health.indexes import ForeignKey, Index
from workbench.health.report import health_finding

__all__ = [
    "check_duckdb",
    "check_sqlite",
    "parse_keys",
    "read_duckdb_indexes",
    "read_sqlite_indexes",
]

STALE_MIN_ROWS = 1_000
STALE_SHARE = 0.2


def parse_keys(sql: str) -> tuple[list[str], list[str], str | None]:
    """The key expressions, their directions and the predicate of a ``CREATE INDEX``.

    >>> parse_keys("CREATE INDEX i ON t (a, lower(b) DESC) WHERE c > 0")
    (['a', 'lower(b)'], ['asc', 'desc'], 'c > 0')
    """
    start = sql.find("(", sql.upper().find(" ON "))
    depth, end = 0, -1
    for i in range(start, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[i], 0)
        if depth == 0:
            end = i
            break
    if start < 0 or end < 0:
        return [], [], None
    parts, depth, current = [], 0, ""
    for char in sql[start + 1 : end]:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    keys, directions = [], []
    for part in (p.strip() for p in parts):
        match = re.match(r"(.*?)(?:\s+COLLATE\s+\S+)?(?:\s+(ASC|DESC))?\s*$", part, re.I | re.S)
        text, direction = (match.group(1), match.group(2)) if match else (part, None)
        keys.append(text.strip())
        directions.append((direction or "asc").lower())
    where = re.search(r"\bWHERE\b(.*)$", sql[end + 1 :], re.I | re.S)
    predicate = where.group(1).strip().rstrip(";").strip() if where else None
    return keys, directions, predicate or None


def read_sqlite_indexes(dbapi: Any) -> list[Index]:
    out = []
    tables = fetch_dicts(
        dbapi, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for table in (t["name"] for t in tables):
        for row in fetch_dicts(dbapi, "SELECT * FROM pragma_index_list(?)", [table]):
            sql_rows = fetch_dicts(
                dbapi,
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                [row["name"]],
            )
            sql = sql_rows[0]["sql"] if sql_rows else None
            if sql:
                keys, directions, predicate = parse_keys(sql)
            else:  # an automatic index (PRIMARY KEY, UNIQUE): its columns from the pragma
                info = fetch_dicts(dbapi, "SELECT * FROM pragma_index_xinfo(?)", [row["name"]])
                key_rows = [r for r in info if r["key"]]
                keys = [str(r["name"]) for r in key_rows]
                directions = ["desc" if r["desc"] else "asc" for r in key_rows]
                predicate = None
            out.append(
                Index(
                    table=table,
                    name=row["name"],
                    keys=tuple(keys),
                    directions=tuple(directions),
                    unique=bool(row["unique"]),
                    primary=row["origin"] == "pk",
                    constraint=row["name"] if row["origin"] in ("pk", "u") else None,
                    predicate=predicate,
                    definition=sql,
                )
            )
    return out


def check_sqlite(dbapi: Any, found: Checkup) -> None:
    indexes = read_sqlite_indexes(dbapi)
    index_findings(found, indexes)
    tables = [
        t["name"]
        for t in fetch_dicts(
            dbapi,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
    ]
    counts: dict[str, int] = {}

    def rows(table: str) -> int:
        if table not in counts:
            quoted = quote(table, "sqlite")
            counts[table] = int(fetch_dicts(dbapi, f"SELECT count(*) AS n FROM {quoted}")[0]["n"])
        return counts[table]

    keys = []
    for table in tables:
        by_id: dict[int, list[dict[str, Any]]] = {}
        for row in fetch_dicts(dbapi, "SELECT * FROM pragma_foreign_key_list(?)", [table]):
            by_id.setdefault(int(row["id"]), []).append(row)
        for number, parts in sorted(by_id.items()):
            parts.sort(key=lambda r: int(r["seq"]))
            keys.append(
                ForeignKey(table, f"fk{number}", tuple(p["from"] for p in parts), parts[0]["table"])
            )
    foreign_key_findings(
        found,
        keys,
        indexes,
        rows=lambda fk: float(rows(fk.table)),
        create=lambda fk: _create(fk, "sqlite"),
    )
    _sqlite_statistics(dbapi, found, tables, indexes, rows)


def _create(fk: ForeignKey, dialect: str) -> str:
    from workbench.rules.text import index_name

    cols = ", ".join(quote(c, dialect) for c in fk.columns)
    return (
        f"CREATE INDEX {quote(index_name(fk.table, *fk.columns), dialect)} "
        f"ON {quote(fk.table, dialect)} ({cols})"
    )


def _sqlite_statistics(
    dbapi: Any, found: Checkup, tables: list[str], indexes: list[Index], rows: Any
) -> None:
    found.ran("stale_statistics")
    have_stat = fetch_dicts(
        dbapi, "SELECT count(*) AS n FROM sqlite_master WHERE name = 'sqlite_stat1'"
    )[0]["n"]
    gathered: dict[str, int] = {}
    if have_stat:
        for row in fetch_dicts(dbapi, "SELECT tbl, stat FROM sqlite_stat1"):
            first = str(row["stat"] or "").split(" ")[0]
            if first.isdigit():
                gathered[row["tbl"]] = max(gathered.get(row["tbl"], 0), int(first))
    indexed = {i.table for i in indexes}
    for table in tables:
        if table not in indexed:
            continue  # without an index there is no plan choice for statistics to inform
        count = rows(table)
        if count < STALE_MIN_ROWS:
            continue
        seen = gathered.get(table)
        if seen is not None and abs(count - seen) < STALE_SHARE * max(count, seen):
            continue
        found.findings.append(
            health_finding(
                "stale_statistics",
                "medium",
                f"{table} has never been analysed"
                if seen is None
                else f"{table}'s statistics count {fmt.count(seen)} rows; it has "
                f"{fmt.count(count)}",
                (
                    f"SQLite has no statistics for {table} ({fmt.count(count)} rows, indexed): "
                    "without sqlite_stat1 it assumes every index is equally selective and may "
                    "pick the wrong one."
                    if seen is None
                    else f"sqlite_stat1 was gathered when {table} had {fmt.count(seen)} rows; "
                    f"it has {fmt.count(count)} now."
                ),
                objects=[table],
                evidence={"table": table, "rows": count, "analyzed_rows": seen},
                fix=f"ANALYZE {quote(table, 'sqlite')}",
                fix_kind="sql",
                expected_effect="the planner knows how selective each index is",
                risk="low: ANALYZE reads the table's indexes once; plans may change",
            )
        )


def read_duckdb_indexes(dbapi: Any) -> list[Index]:
    indexes = []
    for row in fetch_dicts(
        dbapi,
        "SELECT schema_name, table_name, index_name, is_unique, is_primary, sql "
        "FROM duckdb_indexes()",
    ):
        keys, directions, predicate = parse_keys(str(row["sql"] or ""))
        indexes.append(
            Index(
                table=row["table_name"],
                name=row["index_name"],
                keys=tuple(keys),
                directions=tuple(directions),
                method="art",
                unique=bool(row["is_unique"]),
                primary=bool(row["is_primary"]),
                predicate=predicate,
                schema=None if row["schema_name"] == "main" else row["schema_name"],
                definition=row["sql"],
            )
        )
    return indexes


def check_duckdb(dbapi: Any, found: Checkup) -> None:
    index_findings(found, read_duckdb_indexes(dbapi))
    found.notes.append(
        "DuckDB keeps its statistics itself and indexes foreign keys on its own; it does not "
        "count index use"
    )
