"""SQLite ``EXPLAIN QUERY PLAN`` → :class:`Plan`.

SQLite reports structure only: ``(id, parent, detail)`` rows such as ``SEARCH users USING
INDEX users_email_key (email=?)``. Accepted as cursor rows, as dicts, or as the sqlite3 shell
prints them (``QUERY PLAN`` then ``|--``/`` `--`` lines). Time comes from running the statement:
:func:`workbench.explain.explain` puts it on the root. When SQLite lists several top-level
steps (the loops of a join, a temporary B-tree), a synthetic "QUERY PLAN" root holds them; it is
not counted in ``plan.nodes``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from workbench.errors import PlanParseError
from workbench.plans.model import Plan, PlanNode

__all__ = ["from_sqlite_rows", "from_sqlite_text", "is_sqlite_rows", "is_sqlite_text"]

_STEP = re.compile(
    r"^(?P<op>SCAN|SEARCH)\s+(?P<table>\S+)(?:\s+AS\s+(?P<alias>\S+))?"
    r"(?:\s+USING\s+(?P<how>(?:AUTOMATIC\s+)?(?:PARTIAL\s+)?(?:COVERING\s+)?INDEX"
    r"|INTEGER PRIMARY KEY|PRIMARY KEY)(?:\s+(?P<index>[^\s(]+))?)?"
    r"(?:\s+(?P<cond>\(.*\)))?\s*$"
)
_SHELL_LINE = re.compile(r"^(?P<prefix>(?:[|` ]  )*)(?:\|--|`--)(?P<detail>.*)$")
_KEYWORDS = (
    "SCAN",
    "SEARCH",
    "USE TEMP B-TREE",
    "CO-ROUTINE",
    "MATERIALIZE",
    "COMPOUND QUERY",
    "LEFT-MOST SUBQUERY",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "CORRELATED",
    "SCALAR SUBQUERY",
    "LIST SUBQUERY",
    "MULTI-INDEX OR",
    "INDEX ",
    "BLOOM FILTER",
    "RIGHT-JOIN",
    "MERGE (",
    "RECURSIVE STEP",
    "SETUP",
    "NONE",
)


def is_sqlite_rows(doc: Any) -> bool:
    if not isinstance(doc, Sequence) or isinstance(doc, str | bytes) or not doc:
        return False
    first = doc[0]
    if isinstance(first, dict):
        return {"id", "parent", "detail"} <= set(first)
    return (
        isinstance(first, Sequence)
        and not isinstance(first, str)
        and len(first) in (3, 4)
        and isinstance(first[-1], str)
    )


def is_sqlite_text(text: str) -> bool:
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return False
    body = lines[1:] if lines[0].strip().upper() == "QUERY PLAN" else lines
    return bool(body) and all(
        _SHELL_LINE.match(line) or line.startswith(_KEYWORDS) for line in body
    )


def from_sqlite_rows(rows: Sequence[Any], *, sql: str | None = None) -> Plan:
    """Build the model from ``EXPLAIN QUERY PLAN`` rows ``(id, parent, notused, detail)``."""
    entries: list[tuple[int, int, str]] = []
    try:
        for row in rows:
            if isinstance(row, dict):
                entries.append((int(row["id"]), int(row["parent"]), str(row["detail"])))
            else:
                entries.append((int(row[0]), int(row[1]), str(row[-1])))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise PlanParseError(f"not SQLite EXPLAIN QUERY PLAN rows: {exc}") from None
    nodes: dict[int, PlanNode] = {}
    tops: list[PlanNode] = []
    for node_id, parent, detail in entries:
        node = _node(detail, {"id": node_id, "parent": parent, "detail": detail})
        nodes[node_id] = node
        (nodes[parent].children if parent in nodes else tops).append(node)
    return _plan(tops, raw=[list(e) for e in entries], fmt="sqlite-eqp", sql=sql)


def from_sqlite_text(text: str, *, sql: str | None = None) -> Plan:
    """Build the model from the sqlite3 shell's ``EXPLAIN QUERY PLAN`` output."""
    stack: list[tuple[int, PlanNode]] = []
    tops: list[PlanNode] = []
    for line in text.strip().splitlines():
        stripped = line.rstrip()
        if not stripped.strip() or stripped.strip().upper() == "QUERY PLAN":
            continue
        match = _SHELL_LINE.match(stripped)
        depth, detail = (len(match["prefix"]) // 3, match["detail"]) if match else (0, stripped)
        node = _node(detail.strip(), {"detail": detail.strip()})
        while stack and stack[-1][0] >= depth:
            stack.pop()
        (stack[-1][1].children if stack else tops).append(node)
        stack.append((depth, node))
    if not tops:
        raise PlanParseError("no SQLite plan steps found", hint="paste EXPLAIN QUERY PLAN output")
    return _plan(tops, raw=text, fmt="sqlite-text", sql=sql)


def _plan(tops: list[PlanNode], *, raw: Any, fmt: str, sql: str | None) -> Plan:
    if not tops:
        tops = [PlanNode(operation="NONE", raw={"detail": "(no plan steps)"})]
    root = (
        tops[0]
        if len(tops) == 1
        else PlanNode(operation="QUERY PLAN", children=tops, synthetic=True)
    )
    plan = Plan(root, dialect="sqlite", format=fmt, raw=raw, analyzed=False, sql=sql)
    if sql:
        from workbench.plans.aliases import resolve_aliases

        resolve_aliases(plan, sql, "sqlite")  # SQLite names tables by alias too
    return plan


def _node(detail: str, raw: dict[str, Any]) -> PlanNode:
    step = _STEP.match(detail)
    if not step:
        return PlanNode(operation=detail, raw=raw)
    node = PlanNode(operation=step["op"], relation=step["table"], alias=step["alias"], raw=raw)
    how = (step["how"] or "").strip()
    if step["index"] and "INDEX" in how:
        node.index = step["index"]
    elif how:
        node.index = how  # INTEGER PRIMARY KEY, ROWID
    if how:
        node.details["access"] = how
    if step["cond"]:
        node.conditions["Index Cond"] = step["cond"]
    return node
