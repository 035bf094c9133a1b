"""What the advisor reads of the tables a workload touches: column types and average widths,
existing indexes (as :class:`~workbench.health.indexes.Index`), sizes. Read inside the
advisor's own transaction, on its connection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.advisor.candidates import TableFacts
from workbench.dialects.base import fetch_dicts

if TYPE_CHECKING:
    from workbench.execution import Transaction
    from workbench.health.indexes import Index

__all__ = ["Facts", "read_facts"]

_PG_COLUMNS = """
SELECT c.relname AS table_name, n.nspname AS schema, a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS column_type, s.avg_width,
       pg_total_relation_size(c.oid) AS table_bytes
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname
     AND s.attname = a.attname
WHERE lower(c.relname) = ANY(%s) AND n.nspname = ANY(current_schemas(false))
  AND c.relkind IN ('r', 'm') AND a.attnum > 0 AND NOT a.attisdropped
"""


@dataclass
class Facts:
    """The tables' facts (by lower-case name), their sizes in bytes, and every name a new
    index must not take (PostgreSQL: every relation of the schemas searched)."""

    tables: dict[str, TableFacts] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)


def read_facts(tx: Transaction, tables: list[str]) -> Facts:
    """What the advisor needs of ``tables`` (lower-case names)."""
    dialect = tx.executor.dialect
    dbapi = tx.dbapi
    wanted = sorted({t.lower() for t in tables})
    facts: dict[str, TableFacts] = {}
    sizes: dict[str, int] = {}
    if dialect.name == "postgresql":
        from workbench.health.postgresql import read_indexes

        indexes = read_indexes(dbapi)
        for row in fetch_dicts(dbapi, _PG_COLUMNS, [wanted]):
            name = str(row["table_name"]).lower()
            schema = row["schema"] if row["schema"] != "public" else None
            entry = facts.setdefault(name, TableFacts(name, {}, {}, [], schema))
            entry.types[str(row["column_name"]).lower()] = str(row["column_type"])
            if row["avg_width"] is not None:
                entry.widths[str(row["column_name"]).lower()] = float(row["avg_width"])
            sizes[name] = int(row["table_bytes"] or 0)
        _attach(facts, indexes)
        taken = {
            str(r["relname"]).lower()
            for r in fetch_dicts(
                dbapi,
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = ANY(current_schemas(false))",
            )
        }
        return Facts(facts, sizes, taken)
    for name in wanted:
        info = dialect.table_info(dbapi, name)
        if info is None:
            continue
        facts[name] = TableFacts(name, {c.name.lower(): c.type for c in info.columns}, {}, [])
        if info.size_bytes is not None:
            sizes[name] = int(info.size_bytes)
    every = _indexes(dialect.name, dbapi)
    _attach(facts, every)
    return Facts(facts, sizes, {i.name.lower() for i in every})


def _attach(facts: dict[str, TableFacts], indexes: list[Index]) -> None:
    for index in indexes:
        entry = facts.get(index.table.lower())
        if entry is not None:
            entry.indexes.append(index)


def _indexes(dialect: str, dbapi: Any) -> list[Index]:
    if dialect in ("mysql", "mariadb"):
        from workbench.health.mysql import read_indexes

        return read_indexes(dbapi)
    if dialect == "sqlite":
        from workbench.health.local import read_sqlite_indexes

        return read_sqlite_indexes(dbapi)
    if dialect == "duckdb":
        from workbench.health.local import read_duckdb_indexes

        return read_duckdb_indexes(dbapi)
    return []
