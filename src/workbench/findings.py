"""What an analysis concludes: :class:`Finding`, shared by the offline rules and the architect.

The codes are stable strings (the architect's structured answer uses the same ones), so a
report, a CI check or a notebook can filter on them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CODES", "SEVERITIES", "Finding"]

CODES: dict[str, str] = {
    "missing_index": "a selective filter or join key scanned without an index",
    "non_sargable_predicate": "a function or cast on an indexed column hides it from the index",
    "leading_wildcard_like": "LIKE '%…' cannot use a B-tree index",
    "misestimate": "the planner's row estimate is off by 10× or more",
    "stale_statistics": "table statistics are missing or out of date",
    "sort_spill": "a sort spilled to disk",
    "hash_spill": "a hash (join or aggregate) spilled to disk in batches",
    "nested_loop_blowup": "a nested loop repeats its inner side thousands of times",
    "filter_waste": "most rows read are thrown away by a filter",
    "lossy_bitmap": "a bitmap heap scan went lossy and rechecks whole pages",
    "offset_pagination": "OFFSET pagination reads and discards every skipped row",
    "n_plus_one": "the same statement runs once per row of a previous result",
    "select_star_wide_rows": "SELECT * fetches wide columns nobody uses",
    "unindexed_foreign_key": "a foreign key column has no index",
    "high_planning_time": "planning takes longer than executing",
    "parallel_workers_not_launched": "parallel workers were planned but not launched",
    # whole-database health (s.health())
    "duplicate_index": "two indexes with the same columns, order and predicate",
    "redundant_index": "an index whose columns lead another index of the same table",
    "unused_index": "an index no query has used since the statistics began",
    "invalid_index": "an index left invalid (a failed CREATE INDEX CONCURRENTLY)",
    "table_bloat": "a table holding far more space than its live rows need (dead tuples)",
    "index_bloat": "an index far larger than its entries need",
    "vacuum_overdue": "autovacuum is off or has not kept up with a table's dead rows",
    "low_cache_hit_ratio": "reads miss the buffer cache and go to disk",
    "connections_near_limit": "the connections in use are close to max_connections",
    "sequence_near_limit": "a sequence or integer key is close to its type's maximum",
    "missing_primary_key": "a table without a primary key",
    "other": "anything else worth knowing",
}
SEVERITIES = ("critical", "high", "medium", "low", "info")


@dataclass
class Finding:
    """One conclusion, with what it rests on and what to do.

    ``evidence`` holds the facts (node ids, numbers, table names) so a reader can check it;
    ``fix`` is concrete (the ``CREATE INDEX`` statement, the rewritten query, the setting);
    ``fix_kind`` says how to try it: ``"ddl"``/``"sql"`` (in the rollback sandbox,
    ``s.try_fix(finding)``), ``"setting"``, ``"rewrite"`` or ``"code"``. ``risk`` says what
    applying the fix could break or block; ``time_saved_ms`` estimates what fixing it saves per
    execution (findings are ranked by it).
    """

    code: str
    severity: str
    title: str
    detail: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    fix: str | None = None
    fix_kind: str | None = None
    expected_effect: str | None = None
    source: str = "offline"  # "offline" (the rules) or "architect" (the model)
    node_ids: list[int] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    risk: str | None = None
    time_saved_ms: float | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            self.code = "other"
        if self.severity not in SEVERITIES:
            self.severity = "medium"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def __str__(self) -> str:
        text = f"[{self.severity}] {self.code}: {self.title}"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        if self.expected_effect:
            text += f"\n    expected: {self.expected_effect}"
        if self.risk:
            text += f"\n    risk: {self.risk}"
        return text

    def _repr_html_(self) -> str:
        import html

        parts = [
            f"<b>[{html.escape(self.severity)}] {html.escape(self.code)}</b>: "
            f"{html.escape(self.title)}"
        ]
        if self.detail:
            parts.append(f"<div>{html.escape(self.detail)}</div>")
        if self.fix:
            parts.append(f"<pre>{html.escape(self.fix)}</pre>")
        if self.expected_effect:
            parts.append(f"<div><i>{html.escape(self.expected_effect)}</i></div>")
        if self.risk:
            parts.append(f"<div>risk: {html.escape(self.risk)}</div>")
        return f"<div class='wb-finding'>{''.join(parts)}</div>"
