"""What the workbench knows about a table: columns, indexes, size and statistics freshness.

Plain value objects, filled by each dialect's introspection queries and carried into evidence
and reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ColumnInfo", "IndexInfo", "ServerInfo", "TableInfo"]


@dataclass(frozen=True)
class ColumnInfo:
    """One column: name, declared type, nullability."""

    name: str
    type: str
    nullable: bool = True


@dataclass(frozen=True)
class IndexInfo:
    """One index: its columns (or expressions) in order, uniqueness, method, definition."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    primary: bool = False
    method: str | None = None  # btree, hash, gin, ... where the engine says
    definition: str | None = None
    partial: bool = False


@dataclass
class TableInfo:
    """A table as the planner sees it.

    ``row_estimate`` is what the engine's statistics say (PostgreSQL ``reltuples``, MySQL
    ``TABLE_ROWS``); ``row_count`` an exact count when one was taken (SQLite, small tables).
    ``last_analyzed`` is when statistics were last gathered (``None``: never, or unknown);
    ``modified_since_analyze`` the rows changed since then, where the engine tracks it.
    ``foreign_keys`` maps constraint names to ``(columns, referenced table)``.
    """

    name: str
    schema: str | None = None
    columns: list[ColumnInfo] = field(default_factory=list)
    indexes: list[IndexInfo] = field(default_factory=list)
    foreign_keys: list[dict[str, Any]] = field(default_factory=list)
    row_estimate: float | None = None
    row_count: int | None = None
    size_bytes: int | None = None
    last_analyzed: datetime | None = None
    modified_since_analyze: int | None = None
    storage_engine: str | None = None  # MySQL/MariaDB: InnoDB, MyISAM, ...
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def indexed_prefixes(self) -> list[tuple[str, ...]]:
        """Column lists of every index, so a rule can ask "is column x the leading column"."""
        return [ix.columns for ix in self.indexes]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_analyzed"] = self.last_analyzed.isoformat() if self.last_analyzed else None
        return data


@dataclass(frozen=True)
class ServerInfo:
    """Which engine and version a session talks to."""

    dialect: str
    version: str  # the engine's own version string, e.g. "18.6"
    version_info: tuple[int, ...]
    description: str = ""  # e.g. PostgreSQL's full version() text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
