"""Steps of analysis, as report blocks: findings, the architect's answer, the evidence bundle
and fix trials (their before/after plans and diff)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.report.views import (
    Block,
    Code,
    Facts,
    Findings,
    Group,
    Markdown,
    PlanTree,
    Table,
    Text,
    Verdict,
)

if TYPE_CHECKING:
    from workbench.investigation import Step

__all__ = ["answer", "evidence", "findings", "fix"]


def findings(step: Step, folder: Path, charts: bool) -> list[Block]:
    recorded = step.object(folder)
    return [Findings(tuple(recorded), empty="The rules found nothing wrong.")]


def answer(step: Step, folder: Path, charts: bool) -> list[Block]:
    from workbench.architect import Answer

    answer: Answer = step.object(folder)
    who = (
        "offline rules (no API key was set, no model was called)"
        if answer.offline
        else f"the architect ({answer.model or 'model'})"
    )
    facts = [("answered by", who)]
    if answer.usage:
        facts.append(("tokens", ", ".join(f"{k} {v:,}" for k, v in answer.usage.items() if v)))
    blocks: list[Block] = [Facts(tuple(facts))]
    if answer.question:
        blocks.append(Text(f"Question: {answer.question}"))
    blocks.extend(Text(f"⚠ {note}") for note in answer.notes)
    blocks.append(Markdown(answer.markdown))
    calls = [c for c in answer.tool_calls if c.name != "report_findings"]
    if calls:
        rows = tuple(
            (
                str(number),
                c.name,
                {None: "ran (a read)", True: "approved", False: "denied"}[c.approved],
                c.summary,
                f"step {c.step}" if c.step else "",
            )
            for number, c in enumerate(calls, start=1)
        )
        blocks.append(
            Group(
                f"Tool calls ({len(calls)})",
                (Table(("#", "tool", "approval", "result", "recorded as"), rows),),
                open=True,
            )
        )
    if answer.findings:
        # offline, the answer's text already lists them: the group stays closed, but they are
        # the investigation's findings all the same (the summary counts them)
        blocks.append(
            Group(
                f"Structured findings ({len(answer.findings)})",
                (Findings(tuple(answer.findings)),),
                open=not answer.offline,
            )
        )
    return blocks


def evidence(step: Step, folder: Path, charts: bool) -> list[Block]:
    from workbench.evidence import Evidence

    ev: Evidence = step.object(folder)
    blocks: list[Block] = []
    if ev.sql:
        blocks.append(Code(ev.sql, "sql", "Query"))
    blocks.append(
        Facts(
            (
                ("engine", f"{ev.dialect} {ev.server.get('version', '')}".strip()),
                ("plans", str(len(ev.plans))),
                ("profiles", str(len(ev.profiles))),
                ("captures", str(len(ev.captures))),
                ("literals redacted", "yes" if ev.redact_literals else "no"),
            )
        )
    )
    if ev.tables:
        rows = tuple(
            (
                str(t.get("name", "")),
                fmt.number(_first(t.get("row_count"), t.get("row_estimate")), 0),
                ", ".join(_index_name(i) for i in t.get("indexes") or []),
            )
            for t in ev.tables
        )
        blocks.append(
            Table(("table", "rows", "indexes"), rows, caption="Tables", numeric=frozenset({1}))
        )
    blocks.append(Findings(tuple(ev.findings), empty="The rules found nothing wrong."))
    blocks.append(Group("What a model would be sent (redacted)", (Code(ev.payload(), "text"),)))
    return blocks


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _index_name(index: Any) -> str:
    if isinstance(index, dict):
        columns = index.get("columns") or []
        return f"{index.get('name', '?')} ({', '.join(map(str, columns))})"
    return str(index)


def fix(step: Step, folder: Path, charts: bool) -> list[Block]:
    from workbench.plans import from_dict

    data = step.data
    live = step._object
    before = live.before if live is not None else from_dict(data["before"])
    after = live.after if live is not None else from_dict(data["after"])
    diff = before.diff(after)
    tone = {"faster": "good", "slower": "bad"}.get(diff.direction or "", "neutral")
    blocks: list[Block] = [
        Code(str(data.get("fix") or ""), "sql", "Fix tried (in a transaction rolled back)"),
        Code(str(data.get("sql") or ""), "sql", "Query planned before and after"),
        Verdict(diff.verdict, tone),
    ]
    blocks.extend(Text(note, muted=True) for note in data.get("notes") or [])
    changed = diff.changed_operations
    if changed:
        blocks.append(Table(("what changed",), tuple((c,) for c in changed), caption="Changes"))
    rows = tuple(
        (
            c.status,
            c.before.label if c.before else "",
            c.after.label if c.after else "",
            fmt.milliseconds(c.before.exclusive_time_ms) if c.before else "",
            fmt.milliseconds(c.after.exclusive_time_ms) if c.after else "",
            fmt.rows(c.before.actual_rows) if c.before else "",
            fmt.rows(c.after.actual_rows) if c.after else "",
        )
        for c in diff.changes
    )
    blocks.append(
        Table(
            ("status", "before", "after", "time before", "time after", "rows before", "rows after"),
            rows,
            caption="Plan nodes, matched",
            numeric=frozenset({3, 4, 5, 6}),
        )
    )
    blocks.append(Group("Plan before the fix", (PlanTree(before),)))
    blocks.append(Group("Plan after the fix", (PlanTree(after),)))
    return blocks
