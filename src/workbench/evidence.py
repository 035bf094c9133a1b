"""The evidence bundle: everything an analysis needs about one investigation, and nothing more.

:func:`collect` (``s.evidence(...)``) gathers it: the engine and its version, the settings that
matter for performance (an allowlist; never connection details), the schema of the tables involved
(columns, indexes, row counts, statistics freshness), the query, plans, profile summaries,
capture summaries and the offline findings. :meth:`Evidence.payload` is exactly what would
be sent to a model: secrets always removed, literal values replaced by placeholders (unless
``redact_literals=False``), and large plans condensed so a typical investigation fits in about
6,000 tokens: the hot path and misestimated nodes are kept in full, the rest summarised.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.findings import Finding
from workbench.redaction import redact_condition, redact_secrets, redact_sql

if TYPE_CHECKING:
    from collections.abc import Sequence

    from workbench.capture import Capture
    from workbench.execution import Executor
    from workbench.plans.model import Plan, PlanNode
    from workbench.profiling.result import Comparison, Profile

__all__ = ["Evidence", "collect", "estimate_tokens"]

FORMAT_VERSION = 1
#: the budget a payload is condensed to (tokens, estimated)
DEFAULT_BUDGET = 6_000
#: nodes of a plan always kept in full in a payload
_KEEP_HOT, _KEEP_MISESTIMATED = 12, 8


def estimate_tokens(text: str) -> int:
    """A conservative local estimate (≈3.5 characters per token for SQL and plans); the
    architect counts exactly with the API before sending."""
    return int(len(text) / 3.5) + 1


@dataclass
class Evidence:
    """One investigation's facts, ready for the offline rules and the architect.

    >>> ev = s.evidence("SELECT ...", plan=plan, profile=prof)   # doctest: +SKIP
    >>> print(ev.payload())                                       # doctest: +SKIP
    """

    dialect: str
    server: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    sql: str | None = None
    tables: list[dict[str, Any]] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    profiles: list[dict[str, Any]] = field(default_factory=list)
    captures: list[dict[str, Any]] = field(default_factory=list)
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    question: str | None = None
    notes: list[str] = field(default_factory=list)
    redact_literals: bool = True
    created_at: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))

    def __post_init__(self) -> None:
        self._findings: list[Finding] | None = None

    # -- building ---------------------------------------------------------------------------------
    @staticmethod
    def profile_summary(profile: Profile) -> dict[str, Any]:
        """What evidence keeps of a profile: its numbers, not its samples."""
        summary = {
            k: (None if isinstance(v, float) and v != v else v)
            for k, v in profile.summary().items()
        }
        out: dict[str, Any] = {
            "label": profile.label,
            "sql": profile.sql,
            "mode": profile.mode,
            "concurrency": profile.concurrency,
            "params": profile.params,
            "summary": summary,
            "errors": profile.messages[:5],
            "notes": list(profile.notes),
        }
        if profile.extra.get("db_ms") is not None:
            import numpy as np

            out["split"] = {
                "db_ms_p50": float(np.median(profile.extra["db_ms"])),
                "round_trips_p50": float(np.median(profile.extra["round_trips"])),
                "python_ms_p50": float(np.median(profile.extra["python_ms"])),
            }
        return out

    @staticmethod
    def capture_summary(capture: Capture) -> dict[str, Any]:
        groups = capture.groups()
        return {
            "summary": capture.summary(),
            "top": [
                {
                    k: g.get(k)
                    for k in (
                        "sql",
                        "count",
                        "distinct_values",
                        "total_ms",
                        "mean_ms",
                        "call_sites",
                        "relationships",
                        "example",
                    )
                }
                for g in groups[:10]
            ],
        }

    @staticmethod
    def comparison_summary(comparison: Comparison) -> dict[str, Any]:
        return comparison.summary() | {
            "baseline": comparison.baseline.label or comparison.baseline.sql,
            "candidate": comparison.candidate.label or comparison.candidate.sql,
        }

    # -- analysis ---------------------------------------------------------------------------------
    @property
    def findings(self) -> list[Finding]:
        """The offline rules' findings (computed once)."""
        if self._findings is None:
            from workbench.rules import analyze

            self._findings = analyze(self)
        return self._findings

    def table(self, name: str) -> dict[str, Any] | None:
        """The schema entry of a table (by name, schema-qualified or not)."""
        short = name.split(".")[-1].strip('"').lower()
        for table in self.tables:
            if str(table.get("name", "")).lower() == short:
                return table
        return None

    # -- serialisation ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "dialect": self.dialect,
            "server": self.server,
            "settings": self.settings,
            "sql": self.sql,
            "tables": self.tables,
            "plans": [p.to_dict() for p in self.plans],
            "profiles": self.profiles,
            "captures": self.captures,
            "comparisons": self.comparisons,
            "question": self.question,
            "notes": self.notes,
            "redact_literals": self.redact_literals,
            "created_at": self.created_at,
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self, *, indent: int | None = 1) -> str:
        """Everything, as JSON (``Evidence.from_json`` reads it back)."""
        return json.dumps(self.to_dict(), indent=indent, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        from workbench.plans import from_dict

        ev = cls(
            dialect=data["dialect"],
            server=data.get("server", {}),
            settings=data.get("settings", {}),
            sql=data.get("sql"),
            tables=data.get("tables", []),
            plans=[from_dict(p) for p in data.get("plans", [])],
            profiles=data.get("profiles", []),
            captures=data.get("captures", []),
            comparisons=data.get("comparisons", []),
            question=data.get("question"),
            notes=data.get("notes", []),
            redact_literals=data.get("redact_literals", True),
            created_at=data.get("created_at") or datetime.now().isoformat(timespec="seconds"),
        )
        if "findings" in data:
            ev._findings = [Finding.from_dict(f) for f in data["findings"]]
        return ev

    @classmethod
    def from_json(cls, text: str) -> Evidence:
        return cls.from_dict(json.loads(text))

    def save(self, path: str | Path) -> Path:
        """Write the evidence as JSON (the architect saves it before every request)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.to_json(), encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | Path) -> Evidence:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    # -- the payload ------------------------------------------------------------------------------
    def blocks(self, *, budget: int = DEFAULT_BUDGET) -> list[tuple[str, str]]:
        """``(kind, text)`` data blocks, redacted, plans condensed to fit ``budget`` tokens."""
        sql_text = self._sql(self.sql) if self.sql else None
        blocks: list[tuple[str, str]] = [("environment", self._environment())]
        if sql_text:
            blocks.append(("query", sql_text))
        if self.tables:
            blocks.append(("schema", self._schema()))
        if self.profiles:
            blocks.append(("profiles", _dumps([self._profile(p) for p in self.profiles])))
        if self.comparisons:
            blocks.append(("comparisons", _dumps(self.comparisons)))
        if self.captures:
            blocks.append(("captures", _dumps([self._capture(c) for c in self.captures])))
        findings = self.findings
        if findings:
            blocks.append(
                (
                    "offline_findings",
                    _dumps([self._finding(f) for f in findings]),
                )
            )
        if self.notes:
            blocks.append(("notes", "\n".join(self.notes)))
        fixed = sum(estimate_tokens(text) for _, text in blocks)
        left = max(budget - fixed, 600)
        for i, plan in enumerate(self.plans):
            share = max(left // max(len(self.plans) - i, 1), 400)
            text = self._plan(plan, i, share)
            left -= estimate_tokens(text)
            blocks.append((f"plan {i + 1}", text))
        return [(kind, redact_secrets(text)) for kind, text in blocks]

    def payload(self, *, budget: int = DEFAULT_BUDGET) -> str:
        """Exactly what would be sent: labelled data blocks, redacted, within ``budget``."""
        parts = []
        for kind, text in self.blocks(budget=budget):
            parts.append(f'<evidence kind="{kind}">\n{text}\n</evidence>')
        return "\n\n".join(parts)

    def _sql(self, sql: str) -> str:
        return redact_sql(sql, self.dialect) if self.redact_literals else sql

    def _finding(self, finding: Finding) -> dict[str, Any]:
        data = {k: getattr(finding, k) for k in ("code", "severity", "title", "evidence", "fix")}
        # A rewritten query or a partial index carries the user's constants; a setting does not.
        if finding.fix and finding.fix_kind in ("sql", "ddl", "rewrite"):
            data["fix"] = self._sql(finding.fix)
        return data

    def _condition(self, text: str) -> str:
        return redact_condition(text) if self.redact_literals else text

    def _environment(self) -> str:
        lines = [f"engine: {self.dialect} {self.server.get('version', '')}".rstrip()]
        if self.server.get("description"):
            lines.append(f"build: {self.server['description']}")
        if self.settings:
            lines.append("settings: " + ", ".join(f"{k}={v}" for k, v in self.settings.items()))
        return "\n".join(lines)

    def _schema(self) -> str:
        lines = []
        for table in self.tables:
            name = (table.get("schema") and f"{table['schema']}.{table['name']}") or table["name"]
            facts = [f"rows≈{_num(table.get('row_estimate'))}"]
            if table.get("row_count") is not None:
                facts.append(f"rows={table['row_count']:,}")
            if table.get("size_bytes"):
                facts.append(f"size={table['size_bytes'] / 1e6:,.1f} MB")
            facts.append(f"last_analyzed={table.get('last_analyzed') or 'never/unknown'}")
            if table.get("modified_since_analyze") is not None:
                facts.append(f"modified_since_analyze={table['modified_since_analyze']:,}")
            if table.get("storage_engine"):
                facts.append(f"engine={table['storage_engine']}")
            lines.append(f"table {name}: " + ", ".join(facts))
            columns = ", ".join(
                f"{c['name']} {c['type']}{'' if c.get('nullable', True) else ' not null'}"
                for c in table.get("columns", [])
            )
            lines.append(f"  columns: {columns}")
            for index in table.get("indexes", []):
                kind = (
                    "primary key"
                    if index.get("primary")
                    else ("unique index" if index.get("unique") else "index")
                )
                extra = " (partial)" if index.get("partial") else ""
                lines.append(
                    f"  {kind} {index['name']} ({', '.join(index['columns'])})"
                    f"{' using ' + index['method'] if index.get('method') else ''}{extra}"
                )
            for fk in table.get("foreign_keys", []):
                lines.append(
                    f"  foreign key ({', '.join(fk['columns'])}) → {fk['referenced_table']}"
                )
        return "\n".join(lines)

    def _profile(self, profile: dict[str, Any]) -> dict[str, Any]:
        out = dict(profile)
        if out.get("sql"):
            out["sql"] = self._sql(out["sql"])
        out["errors"] = [
            redact_condition(e) if self.redact_literals else e for e in out.get("errors", [])
        ]
        return out

    def _capture(self, capture: dict[str, Any]) -> dict[str, Any]:
        top = []
        for group in capture.get("top", []):
            entry = dict(group)
            entry["example"] = self._sql(str(entry.get("example", "")))
            top.append(entry)
        summary = dict(capture.get("summary", {}))
        return {"summary": summary, "top": top}

    def _plan(self, plan: Plan, index: int, budget: int) -> str:
        head = [
            f"plan {index + 1}: {plan.dialect}, format {plan.format}, {len(plan.nodes)} nodes,"
            f" {'analysed' if plan.analyzed else 'estimates only'}"
        ]
        if plan.total_time_ms is not None:
            head.append(f"total time {plan.total_time_ms:,.3f} ms")
        if plan.planning_time_ms is not None:
            head.append(f"planning time {plan.planning_time_ms:,.3f} ms")
        if plan.jit_time_ms:
            head.append(f"JIT {plan.jit_time_ms:,.1f} ms")
        if plan.settings:
            head.append(
                "non-default settings: " + ", ".join(f"{k}={v}" for k, v in plan.settings.items())
            )
        if plan.notes:
            head.extend(f"note: {n}" for n in plan.notes)
        keep = self._kept_nodes(plan)
        full = [self._node_line(plan, n) for n in plan.nodes]
        text = "\n".join(head + full)
        if estimate_tokens(text) <= budget or len(plan.nodes) <= len(keep):
            return text
        # condensed: the kept nodes (hot path, misestimates, spills and their ancestors) in
        # full, in plan order; the rest summarised by operation
        lines = list(head)
        skipped: list[PlanNode] = []
        for node in plan.nodes:
            if id(node) in keep:
                if skipped:
                    lines.append(self._summary_line(plan, skipped))
                    skipped = []
                lines.append(self._node_line(plan, node))
            else:
                skipped.append(node)
        if skipped:
            lines.append(self._summary_line(plan, skipped))
        text = "\n".join(lines)
        while estimate_tokens(text) > budget and len(lines) > len(head) + 4:
            lines = lines[: len(head)] + [
                line if len(line) < 220 else line[:217] + "…" for line in lines[len(head) :]
            ]
            text = "\n".join(lines)
            if estimate_tokens(text) > budget:
                lines = lines[:-1]
                text = "\n".join([*lines, "… (plan truncated to fit the budget)"])
        return text

    def _kept_nodes(self, plan: Plan) -> set[int]:
        chosen: list[PlanNode] = list(plan.hot_path[:_KEEP_HOT])
        chosen += plan.misestimated()[:_KEEP_MISESTIMATED]
        chosen += [n for n in plan.nodes if n.spill is not None][:5]
        keep: set[int] = set()
        for node in chosen:
            current: PlanNode | None = node
            while current is not None and id(current) not in keep:  # with its ancestors
                keep.add(id(current))
                current = current.parent
        return keep

    def _node_line(self, plan: Plan, node: PlanNode) -> str:
        parts = [f"{'  ' * node.depth}#{node.id} {node.label}"]
        if node.join_type:
            parts.append(f"join={node.join_type}")
        if node.exclusive_time_ms is not None:
            share = plan.share(node)
            parts.append(
                f"excl={node.exclusive_time_ms:,.3f}ms"
                + (f" ({share:.0%})" if share is not None else "")
            )
            if node.inclusive_time_ms is not None:
                parts.append(f"incl={node.inclusive_time_ms:,.3f}ms")
        elif node.exclusive_cost is not None:
            parts.append(f"cost={node.total_cost:,.1f} excl_cost={node.exclusive_cost:,.1f}")
        if node.actual_rows is not None:
            parts.append(f"rows est={_num(node.estimated_rows)} actual={_num(node.actual_rows)}")
            miss = node.misestimate
            if miss and miss.factor >= 10:
                parts.append(f"MISESTIMATE {miss.factor:,.0f}x {miss.direction}")
        elif node.estimated_rows is not None:
            parts.append(f"rows est={_num(node.estimated_rows)}")
        if node.loops is not None and node.loops != 1:
            parts.append(f"loops={_num(node.loops)}")
        if node.rows_removed_by_filter:
            parts.append(f"removed_by_filter={_num(node.rows_removed_by_filter)}")
        if node.spill:
            parts.append(f"SPILL {node.spill.kind}: {node.spill.detail}")
        if node.buffers:
            keys = ("shared_hit", "shared_read", "temp_read", "temp_written", "io_read_ms")
            found = [f"{k}={_num(node.buffers[k])}" for k in keys if node.buffers.get(k)]
            if found:
                parts.append("buffers " + " ".join(found))
        for kind, condition in node.conditions.items():
            parts.append(f"{kind}: {self._condition(condition)[:300]}")
        if node.never_executed:
            parts.append("never executed")
        return " | ".join(parts)

    def _summary_line(self, plan: Plan, nodes: list[PlanNode]) -> str:
        ops = Counter(n.operation for n in nodes)
        time = sum(n.exclusive_time_ms or 0.0 for n in nodes)
        total = plan.exclusive_total(by_time=True) if plan.timed else 0.0
        share = f", {time / total:.0%} of the time" if total else ""
        top = ", ".join(f"{count} {op}" for op, count in ops.most_common(4))
        depth = min(n.depth for n in nodes)
        return f"{'  ' * depth}… {len(nodes)} more nodes ({top}){share}"

    def __repr__(self) -> str:
        return (
            f"<Evidence {self.dialect}: {len(self.plans)} plans, {len(self.profiles)} "
            f"profiles, {len(self.captures)} captures, {len(self.tables)} tables, "
            f"~{estimate_tokens(self.payload()):,} tokens>"
        )


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=1, default=str, ensure_ascii=False)


def _num(value: Any) -> str:
    if value is None:
        return "?"
    if isinstance(value, float) and (value.is_integer() or abs(value) >= 100):
        value = round(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.2f}"


def collect(
    executor: Executor,
    sql: str | None = None,
    plan: Plan | None = None,
    profile: Profile | None = None,
    capture: Capture | None = None,
    *,
    plans: Sequence[Plan] = (),
    profiles: Sequence[Profile] = (),
    captures: Sequence[Capture] = (),
    comparisons: Sequence[Comparison] = (),
    question: str | None = None,
    notes: Sequence[str] = (),
    redact_literals: bool = True,
) -> Evidence:
    """Bundle what an analysis needs: engine, settings, the schema of the tables involved,
    the query, plans, profile and capture summaries (see :class:`Evidence`).

    >>> ev = s.evidence(sql, plan=plan, profile=prof)   # doctest: +SKIP
    >>> wb.analyze(ev)                                   # doctest: +SKIP
    """
    from workbench import introspection
    from workbench.errors import WorkbenchError

    all_plans = [p for p in (plan, *plans) if p is not None]
    all_profiles = [p for p in (profile, *profiles) if p is not None]
    all_captures = [c for c in (capture, *captures) if c is not None]
    sql = (
        sql
        or next((p.sql for p in all_plans if p.sql), None)
        or next((p.sql for p in all_profiles if p.mode != "callable"), None)
    )
    names: dict[str, None] = {}
    for text in [sql] + [g["example"] for c in all_captures for g in c.groups()[:10]]:
        if text:
            try:
                names.update(dict.fromkeys(executor.classify(text).tables))
            except WorkbenchError:
                continue
    for each in all_plans:
        names.update(dict.fromkeys(each.relations))
    tables = []
    for name in names:
        try:
            tables.append(introspection.table(executor, name).to_dict())
        except WorkbenchError:
            continue  # a CTE name, or a table of another schema: not in evidence
    settings = {
        str(r["name"]): introspection.setting_text(r["value"], r["unit"])
        for r in introspection.settings(executor).to_dict("records")
    }
    server = executor.server
    return Evidence(
        dialect=executor.dialect.name,
        server={"version": server.version, "description": server.description},
        settings=settings,
        sql=sql,
        tables=tables,
        plans=all_plans,
        profiles=[Evidence.profile_summary(p) for p in all_profiles],
        captures=[Evidence.capture_summary(c) for c in all_captures],
        comparisons=[Evidence.comparison_summary(c) for c in comparisons],
        question=question,
        notes=list(notes),
        redact_literals=redact_literals,
    )
