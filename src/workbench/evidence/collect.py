"""Gathering evidence from a live database: the tables a statement touches, the settings
that matter, the server's version, beside the plans, profiles and captures given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from workbench import introspection
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.evidence import Captured, Evidence
    from workbench.execution import Executor
    from workbench.plans.model import Plan
    from workbench.profiling.result import Comparison, Profile

__all__ = ["collect"]

#: profile modes whose ``sql`` is not a statement: an application callable, a request line
_NOT_SQL = frozenset({"callable", "http", "locust"})


def collect(
    executor: Executor,
    sql: str | None = None,
    *,
    plan: Plan | None = None,
    profile: Profile | None = None,
    capture: Captured | None = None,
    plans: Sequence[Plan] = (),
    profiles: Sequence[Profile] = (),
    captures: Sequence[Captured] = (),
    comparisons: Sequence[Comparison] = (),
    question: str | None = None,
    notes: Sequence[str] = (),
    redact_literals: bool = True,
) -> Evidence:
    """Bundle what an analysis needs: engine, settings, the schema of the tables involved,
    the query, plans, profile and capture summaries (see :class:`Evidence`).

    >>> sql = "SELECT * FROM orders WHERE user_id = 42"
    >>> ev = s.evidence(sql, plan=s.explain(sql), profile=s.profile(sql, runs=20))
    >>> [table["name"] for table in ev.tables], len(ev.plans), len(ev.profiles)
    (['orders'], 1, 1)
    """
    from workbench.evidence import Evidence

    all_plans = [p for p in (plan, *plans) if p is not None]
    all_profiles = [p for p in (profile, *profiles) if p is not None]
    all_captures: list[Captured] = [c for c in (capture, *captures) if c is not None]
    # an endpoint's profile brings the statements the server counted during its requests,
    # shaped as a capture (once, however it was given)
    for measured in all_profiles:
        if measured.server is not None and measured.server not in all_captures:
            all_captures.append(measured.server)
    sql = (
        sql
        or next((p.sql for p in all_plans if p.sql), None)
        or next((p.sql for p in all_profiles if p.mode not in _NOT_SQL), None)
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
