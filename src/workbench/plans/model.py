"""One plan model for every engine: :class:`Plan` and :class:`PlanNode`.

Every number in the model is a total over all loops, in milliseconds and rows, whatever the
engine printed (PostgreSQL prints per-loop averages; the parsers multiply). ``raw`` keeps the
engine's own fields untouched, so nothing the engine said is lost.

Exclusive time is the time a node spent itself: its inclusive time minus the time of the nodes
it drove. Each engine module decides which children a node drove (a PostgreSQL CTE's time is
spent by the CTE Scan that reads it, not by the node the CTE hangs from).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from workbench.plans.diff import PlanDiff

__all__ = ["Misestimate", "Plan", "PlanNode", "Spill"]

#: a node whose rows are off by this factor or more is flagged (pgMustard and PEV2 use 10×)
MISESTIMATE_THRESHOLD = 10.0


def _time(value: Any) -> float:
    """A duration from an engine's document: 0 when it is not a finite, positive number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if 0 < value < math.inf else 0.0


class Misestimate(NamedTuple):
    """How far the planner's row estimate was from reality.

    ``factor`` ≥ 1; ``direction`` is ``"under"`` when more rows came than expected (the
    dangerous case: nested loops over "a few" rows), ``"over"`` when fewer came.
    """

    factor: float
    direction: str  # "under" | "over" | "exact"

    @property
    def arrow(self) -> str:
        return {"under": "▲", "over": "▼"}.get(self.direction, "=")

    def __str__(self) -> str:
        if self.direction == "exact":
            return "estimate exact"
        return f"{self.factor:,.0f}× {self.direction}estimated"


#: operations that stop pulling rows once they have enough (PostgreSQL, MySQL, DuckDB names)
_EARLY_STOPPERS = frozenset({"limit", "streaming_limit"})
#: operations that read their whole input before passing a row on (a plain or hashed
#: aggregate, a sort, the build side of a hash join, a hashed set operation); a Hash Join, a
#: GroupAggregate or a Nested Loop pass rows on as they come
_READS_EVERYTHING = frozenset({"hash", "aggregate", "hashaggregate", "mixedaggregate", "setop"})
_READS_EVERYTHING_PREFIXES = ("sort", "incremental sort", "top_n", "order", "hashsetop")


class Spill(NamedTuple):
    """Work that did not fit in memory and went to disk."""

    kind: str  # "sort" | "hash" | "aggregate" | "materialize"
    detail: str  # e.g. "external merge, 3,720 kB on disk"
    disk_kb: float | None = None
    batches: int | None = None


@dataclass(slots=True, eq=False, repr=False)
class PlanNode:
    """One operation of a plan.

    ``operation`` reads as the engine's own text output does ("Parallel Seq Scan",
    "HashAggregate", "Index Range Scan"); ``estimated_rows``/``actual_rows`` and the times are
    totals over ``loops``; ``conditions`` maps a condition's kind ("Filter", "Index Cond", ...) to
    its text; ``buffers`` holds block counts and I/O times (``shared_hit``, ``shared_read``,
    ``temp_written``, ``io_read_ms``, ...).
    """

    operation: str
    relation: str | None = None
    schema: str | None = None
    alias: str | None = None
    index: str | None = None
    join_type: str | None = None
    estimated_rows: float | None = None
    actual_rows: float | None = None
    loops: float | None = None
    startup_time_ms: float | None = None  # per loop, to the first row
    inclusive_time_ms: float | None = None
    exclusive_time_ms: float | None = None
    startup_cost: float | None = None
    total_cost: float | None = None
    exclusive_cost: float | None = None
    width: int | None = None
    conditions: dict[str, str] = field(default_factory=dict)
    rows_removed_by_filter: float | None = None
    rows_removed_by_join_filter: float | None = None
    rows_removed_by_index_recheck: float | None = None
    buffers: dict[str, float] = field(default_factory=dict)
    spill: Spill | None = None
    workers_planned: int | None = None
    workers_launched: int | None = None
    parent_relationship: str | None = None
    subplan_name: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    children: list[PlanNode] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    id: int = 0  # position in pre-order (the root is 0)
    depth: int = 0
    parent: PlanNode | None = None
    synthetic: bool = False  # added by the workbench to make a tree; not in the engine's output
    never_executed: bool = False

    @property
    def misestimate(self) -> Misestimate | None:
        """Estimated vs actual rows, per loop (``None`` without actual rows, and for fewer rows
        than estimated where the node :attr:`stopped_early`: that says nothing of the
        estimate)."""
        if self.actual_rows is None or self.estimated_rows is None or self.never_executed:
            return None
        # Per loop, as the engine estimates: an inner lookup that finds nothing in 100,000 loops
        # was estimated at 1 row per loop, which is not "100,000× overestimated".
        loops = self.loops if self.loops and self.loops > 0 else 1.0
        estimated = max(self.estimated_rows / loops, 1.0)
        actual = max(self.actual_rows / loops, 1.0)
        if actual > estimated:
            return Misestimate(actual / estimated, "under")
        if actual < estimated:
            return None if self.stopped_early else Misestimate(estimated / actual, "over")
        return Misestimate(1.0, "exact")

    @property
    def stopped_early(self) -> bool:
        """Whether the node's consumer stopped asking for rows before it ran out: a ``LIMIT``
        above it, reached through nodes that pass rows on as they come (not through a Sort, a
        Hash or a hashed aggregate, which read everything first), or the inner side of a
        nested-loop semi or anti join, which stops at the first match. The estimate is of all
        the rows the node could produce; fewer came because fewer were asked for."""
        child, node = self, self.parent
        while node is not None:
            operation = node.operation.lower()
            if operation.split(":")[0].strip() in _EARLY_STOPPERS:
                return True
            if (
                node.join_type in ("Semi", "Anti")
                and operation.startswith("nested loop")
                and len(node.children) > 1
                and child is node.children[1]
            ):
                return True
            if operation in _READS_EVERYTHING or operation.startswith(_READS_EVERYTHING_PREFIXES):
                return False
            child, node = node, node.parent
        return False

    @property
    def label(self) -> str:
        """One line: the operation and what it works on (``Seq Scan on orders o``)."""
        text = self.operation
        target = self.relation or self.details.get("target")
        if target:
            name = f"{self.schema}.{target}" if self.schema and self.relation else str(target)
            text += f" on {name}"
            if self.alias and self.alias != target:
                text += f" {self.alias}"
        if self.index:
            text += f" using {self.index}"
        if self.subplan_name:
            text = f"{self.subplan_name}: {text}"
        return text

    def walk(self) -> Iterator[PlanNode]:
        """This node and its descendants, in pre-order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def __repr__(self) -> str:
        timing = (
            f" {self.exclusive_time_ms:.3f} ms excl" if self.exclusive_time_ms is not None else ""
        )
        return f"<PlanNode #{self.id} {self.label!r}{timing}>"


class Plan:
    """A query plan from any engine, analysed.

    >>> import workbench as wb
    >>> plan = wb.parse_plan("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)")
    >>> plan.root.operation, plan.root.estimated_rows
    ('Seq Scan', 2550.0)
    """

    def __init__(
        self,
        root: PlanNode,
        *,
        dialect: str,
        format: str,
        raw: Any,
        analyzed: bool,
        planning_time_ms: float | None = None,
        execution_time_ms: float | None = None,
        jit: dict[str, Any] | None = None,
        triggers: list[dict[str, Any]] | None = None,
        settings: dict[str, str] | None = None,
        sql: str | None = None,
        notes: list[str] | None = None,
        nodes: list[PlanNode] | None = None,
    ) -> None:
        self.root = root
        self.dialect = dialect
        self.format = format
        self.raw = raw
        self.analyzed = analyzed
        self.planning_time_ms = planning_time_ms
        self.execution_time_ms = execution_time_ms
        self.jit = jit
        self.triggers = triggers or []
        self.settings = settings or {}
        self.sql = sql
        self.notes = notes or []
        self.statement_rows: int | None = None  # rows the statement returned, when it was timed
        #: the parameters' values the plan may quote (a custom plan shows them in its
        #: conditions): kept here for the notebook, replaced by ``?`` in :meth:`to_dict`
        self.hidden_values: tuple[str, ...] = ()
        self._totals: dict[str, float] = {}
        # a parser that numbered and linked the nodes as it built them passes them in
        self.nodes: list[PlanNode] = nodes if nodes is not None else []
        if nodes is None:
            self._number()

    def _number(self) -> None:
        """Ids, depths and parents, in one pre-order pass; synthetic nodes are not in
        :attr:`nodes` (it lists what the engine reported)."""
        stack: list[tuple[PlanNode, int, PlanNode | None]] = [(self.root, 0, None)]
        real = 0
        while stack:
            node, depth, parent = stack.pop()
            node.depth, node.parent = depth, parent
            if node.synthetic:
                node.id = -1
            else:
                node.id = real
                real += 1
                self.nodes.append(node)
            stack.extend((child, depth + 1, node) for child in reversed(node.children))

    # -- totals -------------------------------------------------------------------------------
    @property
    def total_time_ms(self) -> float | None:
        """Execution time as the engine reported it, else the root's inclusive time."""
        if self.execution_time_ms is not None:
            return self.execution_time_ms
        return self.root.inclusive_time_ms

    @property
    def jit_time_ms(self) -> float | None:
        """JIT compilation's total time (``None`` without JIT, or when its section is not the
        engine's shape: a pasted plan can hold anything)."""
        timing = self.jit.get("Timing") if isinstance(self.jit, dict) else None
        total = timing.get("Total") if isinstance(timing, dict) else None
        if isinstance(total, dict):  # PostgreSQL 17+ nests it: {"Total": {"Total": ...}}
            total = total.get("Total")
        return _time(total) or None

    @property
    def trigger_time_ms(self) -> float:
        return float(sum(_time(t.get("Time")) for t in self.triggers if isinstance(t, dict)))

    # -- analysis -----------------------------------------------------------------------------
    @property
    def hot_path(self) -> list[PlanNode]:
        """Nodes by exclusive time, slowest first (by exclusive cost when not timed)."""
        if self.timed:
            timed = [n for n in self.nodes if n.exclusive_time_ms]
            return sorted(timed, key=lambda n: n.exclusive_time_ms or 0.0, reverse=True)
        costed = [n for n in self.nodes if n.exclusive_cost]
        return sorted(costed, key=lambda n: n.exclusive_cost or 0.0, reverse=True)

    @property
    def timed(self) -> bool:
        """True when nodes carry measured times (EXPLAIN ANALYZE with timing)."""
        return self.analyzed and (
            bool(self.root.exclusive_time_ms) or any(n.exclusive_time_ms for n in self.nodes)
        )

    def share(self, node: PlanNode) -> float | None:
        """The node's exclusive share of the plan (0..1), by time or else by cost."""
        by_time = self.timed and node.exclusive_time_ms is not None
        value = node.exclusive_time_ms if by_time else node.exclusive_cost
        if value is None:
            return None
        total = self.exclusive_total(by_time=by_time)
        return value / total if total > 0 else None

    def exclusive_total(self, *, by_time: bool) -> float:
        """Sum of exclusive times (or costs) over the nodes; cached (plans do not change)."""
        key = "time" if by_time else "cost"
        cached = self._totals.get(key)
        if cached is None:
            attr = "exclusive_time_ms" if by_time else "exclusive_cost"
            cached = self._totals[key] = float(sum(getattr(n, attr) or 0.0 for n in self.nodes))
        return cached

    def misestimated(self, threshold: float = MISESTIMATE_THRESHOLD) -> list[PlanNode]:
        """Nodes whose row estimate is off by ``threshold``× or more, worst first."""
        found = [n for n in self.nodes if (m := n.misestimate) and m.factor >= threshold]
        return sorted(
            found, key=lambda n: n.misestimate.factor if n.misestimate else 0, reverse=True
        )

    def node(self, node_id: int) -> PlanNode:
        """The node with ``id`` ``node_id``."""
        return self.nodes[node_id]

    @property
    def relations(self) -> list[str]:
        """Tables the plan reads, in plan order, without repeats."""
        return list(dict.fromkeys(n.relation for n in self.nodes if n.relation))

    # -- views (rendering lives in workbench.plans.render) -------------------------------------
    def to_text(self, *, color: bool = False) -> str:
        """An indented tree: exclusive time, share of total, rows estimated→actual, misestimate
        arrows (▲ more rows than estimated, ▼ fewer)."""
        from workbench.plans.render import plan_to_text

        return plan_to_text(self, color=color)

    def to_frame(self) -> Any:
        """One row per node (pandas DataFrame)."""
        from workbench.plans.render import plan_to_frame

        return plan_to_frame(self)

    def to_html(self) -> str:
        """A collapsible HTML tree (self-contained, escaped), as shown in the notebook."""
        from workbench.plans.render import plan_to_html

        return plan_to_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()

    def chart(self, **kwargs: Any) -> Any:
        """Exclusive time per node, hot path in red (a matplotlib Figure)."""
        from workbench.charts import plan_chart

        return plan_chart(self, **kwargs)

    def diff(self, other: Plan) -> PlanDiff:
        """Before (``self``) vs after (``other``): matched nodes, time and row deltas, changed
        operations (``Seq Scan → Index Scan``), as a :class:`~workbench.plans.diff.PlanDiff`."""
        from workbench.plans.diff import diff_plans

        return diff_plans(self, other)

    def attach_statement_time(self, elapsed_ms: float, rows: int | None = None) -> None:
        """Put the statement's measured time (and row count) on the root: for engines whose
        plans carry no timing per step (SQLite, and DuckDB when its profiler cannot run a
        statement)."""
        root = self.root
        root.inclusive_time_ms = root.exclusive_time_ms = float(elapsed_ms)
        root.loops = 1.0
        if rows is not None:
            root.actual_rows = float(rows)
        self.execution_time_ms = float(elapsed_ms)
        self.analyzed = True
        self._totals.clear()
        self.statement_rows = rows
        note = (
            f"{self.dialect} reports no per-step timing: the statement was run and its time "
            f"({elapsed_ms:.3f} ms) is on the root"
        )
        if note not in self.notes:
            self.notes.append(note)

    def to_dict(self) -> dict[str, Any]:
        """What is needed to rebuild the plan (:func:`workbench.plans.from_dict`): the engine's
        document and how to read it."""
        raw = _without_values(self.raw, self.hidden_values) if self.hidden_values else self.raw
        data = {"dialect": self.dialect, "format": self.format, "raw": raw, "sql": self.sql}
        if self.format.startswith("sqlite") or self.statement_rows is not None:
            data["execution_time_ms"] = self.execution_time_ms
            data["rows"] = self.statement_rows
        return data

    def summary(self) -> dict[str, Any]:
        """Headline numbers."""
        worst = self.misestimated()
        hot = self.hot_path[:1]
        return {
            "dialect": self.dialect,
            "nodes": len(self.nodes),
            "analyzed": self.analyzed,
            "total_time_ms": self.total_time_ms,
            "planning_time_ms": self.planning_time_ms,
            "hottest": hot[0].label if hot else None,
            "hottest_share": self.share(hot[0]) if hot else None,
            "worst_misestimate": str(worst[0].misestimate) if worst else None,
        }

    def __repr__(self) -> str:
        total = f" {self.total_time_ms:.3f} ms" if self.total_time_ms is not None else ""
        return f"<Plan {self.dialect} {len(self.nodes)} nodes{total} root={self.root.label!r}>"


def _without_values(document: Any, values: tuple[str, ...]) -> Any:
    """``document`` (JSON-like) with ``values`` replaced by ``?`` in every string it holds."""
    from workbench.redaction import scrub_values

    if isinstance(document, str):
        return scrub_values(document, list(values))
    if isinstance(document, list):
        return [_without_values(item, values) for item in document]
    if isinstance(document, dict):
        return {key: _without_values(item, values) for key, item in document.items()}
    return document
