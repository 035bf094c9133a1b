"""What the index advisor's :class:`~workbench.advisor.advice.Advice` is made of: its
:class:`Recommendation` s and their values (:class:`IndexSpec`, :class:`QueryImpact`,
:class:`WriteCost`).

Plain values: ``to_dict()`` is JSON (an investigation records it, a report draws it, the
architect's tool returns it) and ``Advice.from_dict`` reads it back. The measured comparisons
themselves (``QueryImpact.measured``: a :class:`~workbench.profiling.result.Comparison` with
its samples) live only in the session that measured them; what is saved is their summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.profiling.result import Comparison

__all__ = ["IndexSpec", "QueryImpact", "Recommendation", "WriteCost"]


@dataclass(frozen=True)
class IndexSpec:
    """An index the advisor may propose: key ``columns`` in order (``directions`` per key,
    ``"asc"`` by default) and ``include`` columns carried for index-only scans."""

    table: str
    columns: tuple[str, ...]
    include: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    schema: str | None = None

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table

    def label(self) -> str:
        """``users(account_id, created_at DESC) INCLUDE (email)``."""
        keys = [
            f"{c} {d.upper()}" if d and d != "asc" else c
            for c, d in zip(
                self.columns, (*self.directions, *[""] * len(self.columns)), strict=False
            )
        ]
        text = f"{self.table}({', '.join(keys)})"
        return text + (f" INCLUDE ({', '.join(self.include)})" if self.include else "")

    def name(self, taken: set[str] | frozenset[str] = frozenset()) -> str:
        """``users_account_id_created_at_idx``, with a number added when the name is taken."""
        from workbench.rules.text import index_name

        base = index_name(self.table, *self.columns)
        name, number = base, 1
        while name.lower() in taken:
            name = f"{base[: 63 - len(str(number)) - 1]}{number}"
            number += 1
        return name

    def ddl(self, dialect: str, name: str | None = None, *, concurrently: bool = False) -> str:
        """The ``CREATE INDEX`` statement for ``dialect`` (``concurrently``: PostgreSQL's
        non-blocking build, for applying it for real)."""
        from workbench.rules.text import quote_ident

        def q(text: str) -> str:
            return ".".join(quote_ident(p, dialect) for p in text.split("."))

        keys = [
            f"{q(c)} {d.upper()}" if d and d != "asc" else q(c)
            for c, d in zip(
                self.columns, (*self.directions, *[""] * len(self.columns)), strict=False
            )
        ]
        how = "CONCURRENTLY " if concurrently and dialect == "postgresql" else ""
        target = q(self.qualified_table)
        text = f"CREATE INDEX {how}{q(name or self.name())} ON {target} ({', '.join(keys)})"
        if self.include:
            text += f" INCLUDE ({', '.join(q(c) for c in self.include)})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "columns": list(self.columns),
            "include": list(self.include),
            "directions": list(self.directions),
            "schema": self.schema,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexSpec:
        return cls(
            table=str(data["table"]),
            columns=tuple(data.get("columns") or ()),
            include=tuple(data.get("include") or ()),
            directions=tuple(data.get("directions") or ()),
            schema=data.get("schema"),
        )


@dataclass
class QueryImpact:
    """One statement of the workload, before and after: the planner's cost (in its own
    units, or milliseconds where the engine gives none and each plan was timed), the access
    paths it chose, and the measured latencies (``measured``, a Comparison) where verified.

    ``calls`` and ``total_ms`` are the server's counts for the statement (None for a
    statement given by hand); ``values`` says how its parameters were filled in.
    """

    sql: str
    calls: int | None = None
    total_ms: float | None = None
    cost_before: float | None = None
    cost_after: float | None = None
    plan_before: str | None = None
    plan_after: str | None = None
    values: str | None = None
    measured_summary: dict[str, Any] | None = None
    measured: Comparison | None = field(default=None, repr=False, compare=False)

    @property
    def improvement(self) -> float | None:
        """Planner cost before ÷ after (3.0: the planner expects a third of the work)."""
        if not self.cost_before or not self.cost_after:
            return None
        return self.cost_before / self.cost_after

    @property
    def speedup(self) -> float | None:
        """Measured median before ÷ after, where verified."""
        ratio = (self.measured_summary or {}).get("ratio")
        return float(ratio) if isinstance(ratio, int | float) and math.isfinite(ratio) else None

    @property
    def verdict(self) -> str | None:
        return (self.measured_summary or {}).get("verdict")

    def to_dict(self) -> dict[str, Any]:
        return {
            "sql": self.sql,
            "calls": self.calls,
            "total_ms": self.total_ms,
            "cost_before": self.cost_before,
            "cost_after": self.cost_after,
            "improvement": self.improvement,
            "plan_before": self.plan_before,
            "plan_after": self.plan_after,
            "values": self.values,
            "measured": self.measured_summary,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryImpact:
        return cls(
            sql=str(data.get("sql") or ""),
            calls=data.get("calls"),
            total_ms=data.get("total_ms"),
            cost_before=data.get("cost_before"),
            cost_after=data.get("cost_after"),
            plan_before=data.get("plan_before"),
            plan_after=data.get("plan_after"),
            values=data.get("values"),
            measured_summary=data.get("measured"),
        )


@dataclass
class WriteCost:
    """What the new indexes cost a write: one-row inserts into ``table`` timed before and
    after (each rolled back to a savepoint), medians in milliseconds."""

    table: str
    before_ms: float | None = None
    after_ms: float | None = None
    summary: dict[str, Any] | None = None
    note: str | None = None
    comparison: Comparison | None = field(default=None, repr=False, compare=False)

    @property
    def extra_ms(self) -> float | None:
        if self.before_ms is None or self.after_ms is None:
            return None
        return self.after_ms - self.before_ms

    @property
    def ratio(self) -> float | None:
        if not self.before_ms or self.after_ms is None:
            return None
        return self.after_ms / self.before_ms

    def describe(self) -> str:
        from workbench import formatting as fmt

        if self.before_ms is None or self.after_ms is None:
            return self.note or "not measured"
        verdict = (self.summary or {}).get("verdict")
        return (
            f"an insert into {self.table}: {fmt.milliseconds(self.before_ms)} → "
            f"{fmt.milliseconds(self.after_ms)}"
            + (
                f" ({verdict.replace('faster', 'cheaper').replace('slower', 'dearer')})"
                if verdict
                else ""
            )
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "before_ms": self.before_ms,
            "after_ms": self.after_ms,
            "extra_ms": self.extra_ms,
            "summary": self.summary,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WriteCost:
        return cls(
            table=str(data.get("table") or ""),
            before_ms=data.get("before_ms"),
            after_ms=data.get("after_ms"),
            summary=data.get("summary"),
            note=data.get("note"),
        )


@dataclass
class Recommendation:
    """One index to create: ``ddl`` to run (``CREATE INDEX CONCURRENTLY`` on PostgreSQL),
    the statements it helps (``queries``: planner cost today and with this index), the
    measured comparisons, its size and what it costs writes.

    ``estimated_saved_ms`` is the workload time the planner's costs say it saves (the
    statements' recorded total time × the share of their cost it removes);
    ``measured_saved_ms`` the same from the measured medians × calls, where verified.
    """

    spec: IndexSpec
    ddl: str
    queries: list[QueryImpact] = field(default_factory=list)
    size_bytes: int | None = None
    size_source: str | None = None  # "built" (measured) or "estimated" (HypoPG)
    write_overhead: WriteCost | None = None
    estimated_saved_ms: float | None = None
    measured_saved_ms: float | None = None
    cost_saved: float = 0.0  # planner units over the workload (weighted by calls)
    notes: list[str] = field(default_factory=list)
    # statement id -> this index's share of the statement's gain (from the planner's costs)
    shares: dict[int, float] = field(default_factory=dict, repr=False, compare=False)

    @property
    def table(self) -> str:
        return self.spec.table

    @property
    def columns(self) -> tuple[str, ...]:
        return self.spec.columns

    @property
    def measured(self) -> list[Comparison]:
        """The measured before/after comparisons of the statements it helps."""
        return [q.measured for q in self.queries if q.measured is not None]

    @property
    def saved_ms(self) -> float | None:
        """Workload time saved: measured where verified, else the planner's estimate."""
        return (
            self.measured_saved_ms
            if self.measured_saved_ms is not None
            else self.estimated_saved_ms
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.spec.to_dict(),
            "label": self.spec.label(),
            "ddl": self.ddl,
            "queries": [q.to_dict() for q in self.queries],
            "size_bytes": self.size_bytes,
            "size_source": self.size_source,
            "write_overhead": self.write_overhead.to_dict() if self.write_overhead else None,
            "estimated_saved_ms": self.estimated_saved_ms,
            "measured_saved_ms": self.measured_saved_ms,
            "cost_saved": self.cost_saved,
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recommendation:
        overhead = data.get("write_overhead")
        return cls(
            spec=IndexSpec.from_dict(data["index"]),
            ddl=str(data.get("ddl") or ""),
            queries=[QueryImpact.from_dict(q) for q in data.get("queries") or []],
            size_bytes=data.get("size_bytes"),
            size_source=data.get("size_source"),
            write_overhead=WriteCost.from_dict(overhead) if overhead else None,
            estimated_saved_ms=data.get("estimated_saved_ms"),
            measured_saved_ms=data.get("measured_saved_ms"),
            cost_saved=float(data.get("cost_saved") or 0.0),
            notes=list(data.get("notes") or []),
        )
