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
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from workbench.evidence.payload import (
    DEFAULT_BUDGET,
    block,
    dumps,
    environment,
    estimate_tokens,
    plan_text,
    schema,
)
from workbench.findings import Finding
from workbench.redaction import redact_condition, redact_params, redact_secrets, redact_sql

if TYPE_CHECKING:
    from workbench.plans.model import Plan
    from workbench.profiling.result import Comparison, Profile

__all__ = ["DEFAULT_BUDGET", "Captured", "Evidence", "estimate_tokens"]

FORMAT_VERSION = 1


class Captured(Protocol):
    """Statements recorded as a group: a :class:`~workbench.capture.Capture`, or the server's
    own counts during an HTTP profile
    (:class:`~workbench.profiling.server_side.ServerStatements`)."""

    def groups(self) -> list[dict[str, Any]]: ...

    def summary(self) -> dict[str, Any]: ...


@dataclass
class Evidence:
    """One investigation's facts, ready for the offline rules and the architect.

    >>> ev = s.evidence("SELECT * FROM orders WHERE user_id = 42")
    >>> print(ev.payload())                                       # doctest: +ELLIPSIS
    <evidence kind="environment">
    engine: sqlite ...
    <evidence kind="query">
    SELECT * FROM orders WHERE user_id = ?
    </evidence>
    ...
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
        server = getattr(profile, "server", None)
        if server is not None:  # an endpoint's: the statements the server counted
            out["server"] = server.to_dict()
        if profile.extra.get("db_ms") is not None:
            import numpy as np

            out["split"] = {
                "db_ms_p50": float(np.median(profile.extra["db_ms"])),
                "round_trips_p50": float(np.median(profile.extra["round_trips"])),
                "python_ms_p50": float(np.median(profile.extra["python_ms"])),
            }
        return out

    @staticmethod
    def capture_summary(capture: Captured) -> dict[str, Any]:
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
        sql_text = _clipped_sql(self._sql(self.sql)) if self.sql else None
        blocks: list[tuple[str, str]] = [
            ("environment", environment(self.dialect, self.server, self.settings))
        ]
        if sql_text:
            blocks.append(("query", sql_text))
        if self.tables:
            blocks.append(("schema", schema(self.tables)))
        if self.profiles:
            blocks.append(("profiles", dumps([self._profile(p) for p in self.profiles])))
        if self.comparisons:
            blocks.append(("comparisons", dumps([self._comparison(c) for c in self.comparisons])))
        if self.captures:
            blocks.append(("captures", dumps([self._capture(c) for c in self.captures])))
        findings = self.findings
        if findings:
            blocks.append(("offline_findings", dumps([self._finding(f) for f in findings])))
        if self.notes:
            blocks.append(("notes", "\n".join(self.notes)))
        fixed = sum(estimate_tokens(text) for _, text in blocks)
        left = max(budget - fixed, 600)
        for i, plan in enumerate(self.plans):
            share = max(left // max(len(self.plans) - i, 1), 400)
            text = plan_text(plan, i, share, redact_literals=self.redact_literals)
            left -= estimate_tokens(text)
            blocks.append((f"plan {i + 1}", text))
        return [(kind, redact_secrets(text)) for kind, text in blocks]

    def payload(self, *, budget: int = DEFAULT_BUDGET) -> str:
        """Exactly what would be sent: labelled data blocks, redacted, within ``budget``."""
        return "\n\n".join(block(kind, text) for kind, text in self.blocks(budget=budget))

    def _sql(self, sql: str) -> str:
        return redact_sql(sql, self.dialect) if self.redact_literals else sql

    def _finding(self, finding: Finding) -> dict[str, Any]:
        data = {k: getattr(finding, k) for k in ("code", "severity", "title", "evidence", "fix")}
        # A rewritten query or a partial index carries the user's constants; a setting does not.
        if finding.fix and finding.fix_kind in ("sql", "ddl", "rewrite"):
            data["fix"] = self._sql(finding.fix)
        return data

    def _profile(self, profile: dict[str, Any]) -> dict[str, Any]:
        out = dict(profile)
        if out.get("sql") and out.get("mode") not in ("http", "locust"):
            # an endpoint's "sql" is its request line, already masked: not a statement
            out["sql"] = self._sql(out["sql"])
        if self.redact_literals and out.get("params") is not None:
            out["params"] = redact_params(out["params"])
        out["errors"] = [
            redact_condition(e) if self.redact_literals else e for e in out.get("errors", [])
        ]
        return out

    def _comparison(self, comparison: dict[str, Any]) -> dict[str, Any]:
        out = dict(comparison)
        for side in ("baseline", "candidate"):
            if isinstance(out.get(side), str) and _STATEMENT.match(out[side]):  # not a label
                out[side] = self._sql(out[side])
        return out

    def _capture(self, capture: dict[str, Any]) -> dict[str, Any]:
        top = []
        for group in capture.get("top", []):
            entry = dict(group)
            entry["example"] = self._sql(str(entry.get("example", "")))
            if entry.get("sql"):
                entry["sql"] = self._sql(str(entry["sql"]))
            top.append(entry)
        summary = dict(capture.get("summary", {}))
        return {"summary": summary, "top": top}

    def __repr__(self) -> str:
        return (
            f"<Evidence {self.dialect}: {len(self.plans)} plans, {len(self.profiles)} "
            f"profiles, {len(self.captures)} captures, {len(self.tables)} tables, "
            f"~{estimate_tokens(self.payload()):,} tokens>"
        )


_STATEMENT = re.compile(
    r"\s*(?:/\*.*?\*/\s*)*(?:SELECT|WITH|INSERT|UPDATE|DELETE|VALUES|TABLE|CALL)\b", re.I | re.S
)

#: the query block keeps this many characters (a generated 20,000-term IN list says what it
#: is in its first few thousand)
MAX_SQL_CHARS = 12_000


def _clipped_sql(sql: str) -> str:
    if len(sql) <= MAX_SQL_CHARS:
        return sql
    return (
        sql[:MAX_SQL_CHARS]
        + f"\n… ({len(sql) - MAX_SQL_CHARS:,} more characters of the statement left out)"
    )
