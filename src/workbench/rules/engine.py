"""Running the offline rules: every family's rules over one evidence bundle, then ranking,
grouping and de-duplicating what they found (see :mod:`workbench.rules` for the rules)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from workbench.rules.base import SEVERITY_RANK, Context, ancestors
from workbench.rules.savings import time_saved

if TYPE_CHECKING:
    from workbench.evidence import Evidence
    from workbench.findings import Finding

__all__ = ["MAX_PER_CODE", "RULES", "Rule", "analyze"]

log = logging.getLogger(__name__)

Rule = Callable[[Context], Iterable["Finding"]]

#: findings of one code kept at most (the most severe): a long list hides what matters
MAX_PER_CODE = 5
_LISTED = 20  # node ids and tables named by a grouped finding

#: a finding of the key's code is dropped when one of these codes covers the same plan node
_SUPERSEDED_BY = {
    "filter_waste": ("missing_index", "non_sargable_predicate", "leading_wildcard_like"),
    "nested_loop_blowup": ("missing_index",),
}


def _registry() -> tuple[Rule, ...]:
    from workbench.rules import (
        estimates,
        indexes,
        loops,
        pagination,
        queries,
        runtime,
        sargable,
        waste,
    )

    return (
        indexes.missing_index,
        *waste.RULES,
        indexes.unindexed_foreign_key,
        *sargable.RULES,
        *estimates.RULES,
        *loops.RULES,
        *runtime.RULES,
        *pagination.RULES,
        *queries.RULES,
    )


RULES: tuple[Rule, ...] = _registry()


def analyze(evidence: Evidence) -> list[Finding]:
    """The offline findings for ``evidence``, most severe first."""
    ctx = Context(evidence)
    found: list[Finding] = []
    for rule in RULES:
        try:
            found.extend(rule(ctx))
        except RecursionError:  # an expression deeper than any rule walks: say so, quietly
            log.info("offline rule %s skipped a statement nested too deeply", rule.__name__)
        except Exception:  # one broken rule must not silence the others
            log.warning("offline rule %s failed and was skipped", rule.__name__, exc_info=True)
    found = _one_per_fix(_without_superseded(found))
    found.sort(key=_order)
    kept = _capped(_unique(_grouped(found, ctx)))
    for f in kept:
        if f.time_saved_ms is None:
            f.time_saved_ms = time_saved(f)
    # ranked by the time fixing each would save (pgMustard's way); without an estimate, by
    # severity as before
    kept.sort(key=lambda f: -(f.time_saved_ms or 0.0))
    return kept


def _order(f: Finding) -> tuple[int, float]:
    time = f.evidence.get("time_ms")
    return SEVERITY_RANK.get(f.severity, 9), -(time if isinstance(time, int | float) else 0.0)


def _nodes(f: Finding) -> set[tuple[object, int]]:
    plan = f.evidence.get("plan", 0)
    return {(plan, n) for n in f.node_ids if n >= 0}


def _without_superseded(found: list[Finding]) -> list[Finding]:
    covered: dict[str, set[tuple[object, int]]] = {}
    for f in found:
        covered.setdefault(f.code, set()).update(_nodes(f))
    kept = []
    for f in found:
        stronger = _SUPERSEDED_BY.get(f.code, ())
        if any(_nodes(f) & covered.get(code, set()) for code in stronger):
            continue
        kept.append(f)
    return kept


def _one_per_fix(found: list[Finding]) -> list[Finding]:
    """Two findings that propose the same index are one problem (a missing index on a join
    key that is also an unindexed foreign key): the more severe stays, naming the other."""
    kept: list[Finding] = []
    by_fix: dict[str, Finding] = {}
    for f in sorted(found, key=_order):
        key = _index_key(f.fix) if f.fix_kind == "ddl" and f.fix else None
        if key is None or key not in by_fix:
            if key is not None:
                by_fix[key] = f
            kept.append(f)
            continue
        lead = by_fix[key]
        lead.evidence.setdefault("also", []).append(f.code)
        lead.detail = (lead.detail + " " if lead.detail else "") + (
            f"The same index also answers {f.code.replace('_', ' ')}: {f.title}."
        )
    return kept


def _index_key(ddl: str) -> str | None:
    """``CREATE INDEX ... ON table (columns)`` as (table, columns), whatever the index's name."""
    match = _CREATE_INDEX.search(ddl)
    if match is None:
        return None
    columns = ",".join(c.strip().strip('"').lower() for c in match["columns"].split(","))
    table = match["table"].strip('"').lower()
    return f"{table}({columns})"


_CREATE_INDEX = re.compile(
    r"CREATE\s+(?:UNIQUE\s+)?INDEX\b.*?\bON\s+(?:ONLY\s+)?(?P<table>[\w.\"]+)"
    r"\s*(?:USING\s+\w+\s*)?\((?P<columns>[^)]*)\)",
    re.IGNORECASE | re.DOTALL,
)


def _grouped(found: list[Finding], ctx: Context) -> list[Finding]:
    """Findings of one code about sibling nodes under one Append (the partitions of a table,
    the branches of a UNION) become one: the most severe, naming how many are alike."""
    groups: dict[tuple[object, ...], list[Finding]] = {}
    for f in found:  # most severe first: each group's first member leads it
        groups.setdefault(_append_key(f, ctx), []).append(f)
    out = []
    for key, members in groups.items():
        lead = members[0]
        if len(members) > 1:
            lead.node_ids = list(dict.fromkeys(n for m in members for n in m.node_ids))[:_LISTED]
            lead.tables = list(dict.fromkeys(t for m in members for t in m.tables))[:_LISTED]
            lead.evidence["similar"] = len(members) - 1
            lead.title += f" (and {len(members) - 1} more like it under node #{key[-1]})"
        out.append(lead)
    return out


def _append_key(f: Finding, ctx: Context) -> tuple[object, ...]:
    plan_index = f.evidence.get("plan")
    node_id = f.evidence.get("node", f.node_ids[0] if f.node_ids else None)
    plans = ctx.plans
    if not isinstance(plan_index, int) or not isinstance(node_id, int):
        return (id(f),)
    if not 0 <= plan_index < len(plans) or not 0 <= node_id < len(plans[plan_index].nodes):
        return (id(f),)
    for above in ancestors(plans[plan_index].nodes[node_id]):
        if above.operation.endswith("Append"):  # Append, Merge Append, Parallel Append
            return f.code, plan_index, above.id
    return (id(f),)


def _capped(found: list[Finding]) -> list[Finding]:
    """At most a few findings per code (the most severe): the rest would drown them; the last
    one kept says how many were left out."""
    kept: list[Finding] = []
    count: dict[str, int] = {}
    last: dict[str, Finding] = {}
    for f in found:
        count[f.code] = count.get(f.code, 0) + 1
        if count[f.code] <= MAX_PER_CODE:
            kept.append(f)
            last[f.code] = f
    for code, total in count.items():
        if total > MAX_PER_CODE:
            last[code].evidence["not_listed"] = total - MAX_PER_CODE
    return kept


#: codes whose findings on one table are still distinct problems, told apart by this fact
_DISTINCT_BY = {"n_plus_one": "sql"}


def _unique(found: list[Finding]) -> list[Finding]:
    """One finding per code and table set (or per fix when no table): the most severe."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for f in found:
        key = (
            (f.code, *sorted(t.lower() for t in f.tables))
            if f.tables
            else (f.code, f.fix or f.title)
        )
        if f.code in _DISTINCT_BY:
            key += (str(f.evidence.get(_DISTINCT_BY[f.code])),)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out
