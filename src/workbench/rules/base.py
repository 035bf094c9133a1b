"""What every rule shares: the evidence seen through a :class:`Context`, table facts
(:class:`Table`), plan-node helpers.

Everything here tolerates partial input: an evidence bundle read back from JSON, a pasted plan
without timings, a table whose statistics are unknown. A helper that cannot answer returns
``None`` rather than guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from workbench.rules.text import quote_ident

if TYPE_CHECKING:
    from sqlglot import exp

    from workbench.evidence import Evidence
    from workbench.plans.model import Plan, PlanNode

__all__ = [
    "SEVERITY_RANK",
    "Context",
    "Table",
    "ancestors",
    "inclusive_share",
    "is_full_scan",
    "normalize_expression",
]

SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}

#: operations that read a whole table (PostgreSQL, MySQL/MariaDB, SQLite)
FULL_SCANS = frozenset(
    {"Seq Scan", "Parallel Seq Scan", "Table Scan", "Full Index Scan", "Hash Join Scan", "SCAN"}
)
#: index methods whose leading column serves equality and range lookups
_ORDERED_METHODS = frozenset({"", "btree", "rowid", "art"})
#: column types large by nature (documents, binaries, geometries): wide when no statistics
#: say otherwise; text and varchar are not wide by their type alone (most hold a few bytes)
_WIDE_TYPES = re.compile(
    r"^(json|jsonb|bytea|blob|longblob|mediumblob|xml|tsvector|varbinary|binary|image|clob|"
    r"hstore|geometry|geography)",
    re.I,
)
#: types of unbounded length, whose values PostgreSQL may move out of line (TOAST)
_VARLENA = re.compile(r"^(text|character varying|varchar|json|jsonb|bytea|xml)$", re.I)
#: a column averaging this many bytes (the statistics' avg_width) makes a row wide
WIDE_AVG_BYTES = 100
#: a TOAST table this large means some values live out of line (their avg_width is a pointer)
_TOAST_BYTES = 1024 * 1024
_TEXTISH = re.compile(r"^(text|varchar|character varying|char|character|bpchar|name|citext|string)")


def _bare(name: str) -> str:
    """An identifier as a comparable key: quotes removed, lower case."""
    return name.strip().strip('"`[]').lower()


@dataclass
class Table:
    """One table of the evidence (a ``TableInfo.to_dict()``), with the questions rules ask."""

    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data.get("name") or "?")

    @property
    def schema(self) -> str | None:
        schema = self.data.get("schema")
        return str(schema) if schema else None

    @property
    def rows(self) -> float | None:
        """Best known row count: exact count, else the planner's estimate, else live tuples."""
        for value in (
            self.data.get("row_count"),
            self.data.get("row_estimate"),
            self.extra.get("n_live_tup"),
        ):
            if isinstance(value, int | float) and value >= 0:
                return float(value)
        return None

    def _dicts(self, key: str) -> list[dict[str, Any]]:
        """``data[key]`` as a list of dicts, whatever shape it came in."""
        value = self.data.get(key)
        if not isinstance(value, list | tuple):
            return []
        return [item for item in value if isinstance(item, dict)]

    @property
    def column_list(self) -> list[dict[str, Any]]:
        """The columns in table order (``{"name", "type", "nullable"}``)."""
        return [c for c in self._dicts("columns") if c.get("name")]

    @property
    def foreign_keys(self) -> list[dict[str, Any]]:
        return self._dicts("foreign_keys")

    @property
    def extra(self) -> dict[str, Any]:
        extra = self.data.get("extra")
        return extra if isinstance(extra, dict) else {}

    @cached_property
    def columns(self) -> dict[str, str]:
        """Column name (lower case) → declared type."""
        return {_bare(str(c["name"])): str(c.get("type") or "") for c in self.column_list}

    def column_type(self, name: str) -> str | None:
        return self.columns.get(_bare(name))

    def has_column(self, name: str) -> bool:
        """Whether the table has ``name`` (``True`` when its columns are unknown)."""
        return not self.columns or _bare(name) in self.columns

    @property
    def indexes(self) -> list[dict[str, Any]]:
        return self._dicts("indexes")

    def index_columns(self, index: dict[str, Any]) -> list[str]:
        columns = index.get("columns")
        if not isinstance(columns, list | tuple):
            return []
        return [_bare(str(c)) for c in columns]

    def ordered_indexes(self) -> list[dict[str, Any]]:
        """Indexes a lookup on their leading columns can use: B-tree-like, not partial."""
        return [
            ix
            for ix in self.indexes
            if not ix.get("partial") and str(ix.get("method") or "").lower() in _ORDERED_METHODS
        ]

    def leading_index(self, column: str) -> dict[str, Any] | None:
        """An ordered index whose first column is ``column``."""
        key = _bare(column)
        for index in self.ordered_indexes():
            columns = self.index_columns(index)
            if columns and columns[0] == key:
                return index
        return None

    def index_directions(self, index: dict[str, Any]) -> list[str]:
        """``"asc"``/``"desc"`` per key column, read from the index's definition (ascending
        where the definition does not say)."""
        count = len(self.index_columns(index))
        definition = str(index.get("definition") or "")
        match = re.search(r"\((.*)\)", definition.split(" WHERE ")[0])
        if not match:
            return ["asc"] * count
        keys = [k.strip() for k in re.split(r",(?![^(]*\))", match.group(1))]
        out = ["desc" if re.search(r"\bDESC\b", k, re.I) else "asc" for k in keys]
        return (out + ["asc"] * count)[:count]

    def serving_index(
        self, columns: list[str], directions: list[str] | None = None
    ) -> dict[str, Any] | None:
        """An ordered, non-partial index whose leading keys are ``columns`` in this order,
        with these ``directions`` or all of them reversed (a backward scan serves ``DESC``):
        the index a suggestion would duplicate."""
        wanted = [_bare(c) for c in columns]
        asked = [(d or "asc").lower() for d in (directions or [])]
        asked = (asked + ["asc"] * len(wanted))[: len(wanted)]
        flipped = ["desc" if d == "asc" else "asc" for d in asked]
        for index in self.ordered_indexes():
            if self.index_columns(index)[: len(wanted)] != wanted:
                continue
            have = self.index_directions(index)[: len(wanted)]
            if have in (asked, flipped):
                return index
        return None

    def index_with_prefix(self, columns: list[str]) -> dict[str, Any] | None:
        """An ordered index whose first ``len(columns)`` columns are ``columns`` (any order)."""
        wanted = {_bare(c) for c in columns}
        for index in self.ordered_indexes():
            have = self.index_columns(index)
            if len(have) >= len(wanted) and set(have[: len(wanted)]) == wanted:
                return index
        return None

    def expression_index(self, normalized: str) -> dict[str, Any] | None:
        """An index on the expression ``normalized`` (see :func:`normalize_expression`)."""
        for index in self.indexes:
            for column in self.index_columns(index):
                if normalize_expression(column) == normalized:
                    return index
        return None

    def trigram_index(self, column: str) -> dict[str, Any] | None:
        """A GIN/GiST trigram index on ``column`` (what serves ``LIKE '%…%'`` in PostgreSQL)."""
        key = _bare(column)
        for index in self.indexes:
            definition = str(index.get("definition") or "").lower()
            columns = self.index_columns(index)
            if "trgm" in definition and key in columns + [normalize_expression(c) for c in columns]:
                return index
        return None

    def unique_columns(self) -> list[str]:
        """Single columns that identify a row (primary key or unique index)."""
        out = []
        for index in self.indexes:
            columns = self.index_columns(index)
            if (index.get("primary") or index.get("unique")) and len(columns) == 1:
                out.append(columns[0])
        return out

    def primary_key(self) -> list[str]:
        for index in self.indexes:
            if index.get("primary"):
                return self.index_columns(index)
        return []

    def column_widths(self) -> dict[str, float]:
        """Average bytes per value (lower-case names), from the planner's statistics."""
        widths = self.extra.get("column_widths")
        if not isinstance(widths, dict):
            return {}
        return {_bare(str(k)): float(v) for k, v in widths.items() if isinstance(v, int | float)}

    def wide_columns(self) -> list[str]:
        """Columns whose values are typically large, judged by the statistics' average width
        (≥ :data:`WIDE_AVG_BYTES`; or the 18-byte TOAST pointer of an unbounded column in a
        table with a large TOAST relation: its values live out of line). Without statistics,
        only types large by nature (JSON, binaries, documents): a ``text`` or ``varchar``
        column is not wide by its type alone."""
        widths = self.column_widths()
        toast = self.extra.get("toast_bytes")
        out_of_line = isinstance(toast, int | float) and toast >= _TOAST_BYTES
        out = []
        for column in self.column_list:
            name = str(column.get("name"))
            kind = str(column.get("type") or "")
            width = widths.get(_bare(name))
            if width is not None:
                wide = width >= WIDE_AVG_BYTES or (
                    out_of_line and bool(_VARLENA.match(kind)) and 16 <= width <= 20
                )
            else:
                wide = bool(_WIDE_TYPES.match(kind))
            if wide:
                out.append(name)
        return out

    def is_textish(self, column: str) -> bool | None:
        kind = self.column_type(column)
        return None if kind is None else bool(_TEXTISH.match(kind.lower()))


def normalize_expression(text: str) -> str:
    """An expression reduced for comparison: ``lower((email)::text)`` → ``lower(email)``."""
    text = text.lower()
    text = re.sub(r"::\s*(text|character varying|varchar|bpchar|name)(\[\])?", "", text)
    text = re.sub(r"[\"`\s]", "", text)
    text = re.sub(r"\(\(([\w.]+)\)\)", r"(\1)", text)
    while True:  # "((email))" → "email"
        reduced = re.sub(r"(?<![\w)])\(([\w.]+)\)", r"\1", text)
        if reduced == text:
            break
        text = reduced
    return text


@dataclass
class Context:
    """The evidence as the rules read it, with the lookups they share (computed once)."""

    ev: Evidence
    _tables: dict[str, Table | None] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)  # what several rules compute alike

    @property
    def dialect(self) -> str:
        return str(self.ev.dialect or "postgresql")

    @property
    def plans(self) -> list[Plan]:
        return list(self.ev.plans or [])

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @property
    def is_mysql(self) -> bool:
        return self.dialect in ("mysql", "mariadb")

    @property
    def sqlglot_dialect(self) -> str:
        from workbench.sqltext import sqlglot_dialect

        return sqlglot_dialect(self.dialect)

    def table(self, name: str | None) -> Table | None:
        """The schema facts of table ``name`` (schema-qualified or not), if in the evidence."""
        if not name:
            return None
        key = _bare(name.split(".")[-1])
        if key not in self._tables:
            found = None
            for data in self.ev.tables or ():
                if isinstance(data, dict) and _bare(str(data.get("name", ""))) == key:
                    found = Table(data)
                    break
            self._tables[key] = found
        return self._tables[key]

    def table_or_stub(self, name: str | None) -> Table | None:
        """The table's facts, or an empty stand-in (no columns, no indexes known) for a plan
        pasted without its schema: rules then rely on the plan's own numbers."""
        if not name:
            return None
        return self.table(name) or Table({"name": name.split(".")[-1]})

    def tables(self) -> list[Table]:
        return [Table(d) for d in self.ev.tables or () if isinstance(d, dict) and d.get("name")]

    @cached_property
    def sql_tree(self) -> exp.Expr | None:
        """``ev.sql`` parsed in the engine's dialect (``None`` when absent or unparseable)."""
        if not self.ev.sql:
            return None
        import sqlglot

        try:
            return sqlglot.parse_one(self.ev.sql, read=self.sqlglot_dialect)
        except Exception:  # unparseable SQL: the SQL-based rules stay silent
            return None

    def observed_rows(self, name: str) -> float | None:
        """The most rows a plan saw a full scan of table ``name`` read (its size, measured)."""
        key = _bare(name.split(".")[-1])
        best: float | None = None
        for _, _, node in self.nodes():
            if not node.relation or _bare(node.relation) != key or node.actual_rows is None:
                continue
            if not is_full_scan(node):
                continue
            read = node.actual_rows + (node.rows_removed_by_filter or 0.0)
            if not node.operation.startswith("Parallel"):  # workers split one pass
                read /= max(float(node.loops or 1.0), 1.0)
            best = max(best or 0.0, read)
        return best

    def nodes(self) -> Iterator[tuple[int, Plan, PlanNode]]:
        """Every reported node of every plan, with the plan's position in the evidence."""
        for index, plan in enumerate(self.plans):
            for node in plan.nodes:
                yield index, plan, node

    def setting(self, name: str, plan: Plan | None = None) -> str | None:
        """A setting as the plan ran it (EXPLAIN SETTINGS lists non-defaults), else the
        session's."""
        if plan is not None and name in (plan.settings or {}):
            return str(plan.settings[name])
        value = (self.ev.settings or {}).get(name)
        return str(value) if value is not None else None

    @property
    def server_version(self) -> tuple[int, ...]:
        text = str((self.ev.server or {}).get("version") or "")
        return tuple(int(p) for p in re.findall(r"\d+", text)[:2])

    def shareable(self, text: str | None) -> str | None:
        """``text`` (a condition, a predicate) as a finding's ``title``/``evidence`` may carry
        it: those travel to the architect with the evidence, so literal values become
        placeholders unless the evidence opts out of redaction (``detail`` keeps them)."""
        if text is None or not getattr(self.ev, "redact_literals", True):
            return text
        from workbench.redaction import redact_condition

        return redact_condition(text)

    def ident(self, name: str) -> str:
        return quote_ident(name, self.dialect)

    def free_name(self, name: str) -> str:
        """``name`` for a new index, with a number added when a table or index of the
        evidence already has it (PostgreSQL keeps both in one namespace per schema)."""
        taken = {t.name.lower() for t in self.tables()}
        taken |= {str(ix.get("name") or "").lower() for t in self.tables() for ix in t.indexes}
        candidate, number = name, 1
        while candidate.lower() in taken:
            candidate = f"{name[: 63 - len(str(number))]}{number}"
            number += 1
        return candidate

    def table_ref(self, table: Table) -> str:
        """How DDL names the table (schema-qualified outside PostgreSQL's ``public``)."""
        name = self.ident(table.name)
        schema = table.schema
        if self.is_postgres and schema and schema not in ("public", "pg_temp"):
            return f"{self.ident(schema)}.{name}"
        return name


# -- plan nodes ---------------------------------------------------------------------------------
def is_full_scan(node: PlanNode) -> bool:
    """A node that reads every row of its table (MySQL TREE spells it "Table scan")."""
    return node.operation in FULL_SCANS or node.operation.lower().startswith("table scan")


def plan_time_ms(plan: Plan) -> float | None:
    total = plan.total_time_ms
    if total:
        return float(total)
    return float(plan.root.inclusive_time_ms) if plan.root.inclusive_time_ms else None


def inclusive_share(plan: Plan, node: PlanNode) -> float | None:
    """The node's inclusive time as a share of the statement's (0..1)."""
    total = plan_time_ms(plan)
    if not total or node.inclusive_time_ms is None:
        return None
    return min(1.0, node.inclusive_time_ms / total)


def ancestors(node: PlanNode) -> Iterator[PlanNode]:
    current = node.parent
    while current is not None:
        yield current
        current = current.parent
