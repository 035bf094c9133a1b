"""Exclusive times of an analysed PostgreSQL plan: where the root's time was spent.

A node's inclusive time is what its clock measured (totalled over its loops; in a parallel
section, averaged over the processes that ran it, see
:mod:`workbench.plans.postgresql.document`). It contains the time of the nodes the node
*drove*, which are not always its children in the tree:

* plain children (Outer, Inner, Member, Subquery...) and SubPlans run inside their parent, which
  pulls their rows or evaluates the expressions that call them;
* a CTE's InitPlan runs inside the CTE Scans that pull its rows: its time is charged to them, in
  proportion to their time when several read it (as PEV2 does); to its parent when none ran;
* an InitPlan computing a parameter runs in the node that first evaluates the parameter: the first
  node under its parent whose conditions, output or ``Params Evaluated`` mention it (``$0``,
  ``(InitPlan 1)``). When that node is in a parallel section the evaluator is the section's
  Gather (Merge): it evaluates the parameters its workers need before it starts them, inside its
  own clock, and the processes below only read the value. Nothing mentions it: its parent.

A node's exclusive time is its inclusive time minus what it drove. PostgreSQL's clocks do not
nest exactly, though: per-loop averages are rounded to a microsecond (a 0.0015 ms lookup repeated
500 times prints as 0.002 ms × 500 = 1 ms), a clock can stop before the work it drove is
finished (a CTE Scan under a LIMIT, a Gather shutting its workers down), instrumentation itself
takes time. So what a node drove can measure more than the node itself. The rule that keeps the
books exact, applied from the root down (the root keeps its inclusive time):

    a node hands on at most the time it has. With ``E`` the node's time (the root: its inclusive
    time; any other node: the sum of what the nodes that drove it handed on), ``I`` its inclusive
    time and ``S`` the sum of what it drove, everything it drove is scaled by
    ``f = E / max(I, S)``: it hands ``f × s`` to each part ``s``, and keeps ``f × max(0, I - S)``
    as its exclusive time.

When the clocks agree (``S ≤ I`` all the way down) nothing is scaled and every node keeps
``I - S``. Where they do not, the surplus is taken from the parts in proportion, and each part
passes its reduction on to its own subtree in proportion, so the whole subtree keeps its shape.
Consequences: no exclusive time is negative, and the exclusive times add up to the root's
inclusive time exactly (to float rounding): each node's time is its exclusive time plus what it
handed on, a telescoping sum. A node without a time of its own (a malformed plan) stands for the
sum of its children's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from workbench.plans.model import Plan, PlanNode

__all__ = ["PARALLEL_ROOTS", "exclusive_times"]

PARALLEL_ROOTS = frozenset({"Gather", "Gather Merge"})
_INITPLAN_PARAMS = re.compile(r"\$\d+")
_INITPLAN_NUMBER = re.compile(r"InitPlan (\d+)")


def exclusive_times(plan: Plan) -> None:
    """Set ``exclusive_time_ms`` on every node of an analysed PostgreSQL plan (see the module's
    docstring for the rule); leave them unset when the plan has no times."""
    nodes = plan.nodes
    if not nodes or plan.root.inclusive_time_ms is None:
        return
    measured = _measured(nodes)
    if _clocks_agree(plan, nodes, measured):
        return
    # charges[target] = [(driven node, time it measured inside target)]
    charges: list[list[tuple[int, float]]] = [[] for _ in nodes]
    owed = [0] * len(nodes)  # charges a node has that are not settled yet
    cte_scans: dict[str, list[PlanNode]] | None = None  # found when a CTE needs them
    for node in nodes:
        for child in node.children:
            time = measured[child.id]
            if time <= 0:
                continue
            if child.parent_relationship != "InitPlan":  # the common case, written out
                charges[node.id].append((child.id, time))
                owed[child.id] += 1
                continue
            if cte_scans is None:
                cte_scans = _cte_scans(nodes)
            for target, share in _drivers(node, child, measured, cte_scans):
                charges[target.id].append((child.id, share))
                owed[child.id] += 1
    handed = [0.0] * len(nodes)  # what the nodes that drove it handed on, so far
    unscaled = [0.0] * len(nodes)  # what they have not handed on yet (as measured)
    for target_charges in charges:
        for source, share in target_charges:
            unscaled[source] += share
    handed[0] = measured[0]
    ready = [i for i in range(len(nodes)) if owed[i] == 0]
    done = [False] * len(nodes)
    left = len(nodes)
    while left:
        if ready:
            i = ready.pop()
        else:  # a cycle (only a malformed plan has one): take the rest as measured
            i = done.index(False)
            handed[i] += unscaled[i]
        if done[i]:
            continue
        done[i] = True
        left -= 1
        time = handed[i]
        below = sum(share for _, share in charges[i])
        scale = time / max(measured[i], below) if max(measured[i], below) > 0 else 0.0
        kept = time
        for source, share in charges[i]:
            part = share * scale
            kept -= part
            if done[source]:
                continue
            handed[source] += part
            unscaled[source] -= share
            owed[source] -= 1
            if owed[source] == 0:
                ready.append(source)
        node = nodes[i]
        if node.inclusive_time_ms is None:
            node.exclusive_time_ms = 0.0 if node.never_executed else None
        else:
            node.exclusive_time_ms = max(0.0, kept)


def _clocks_agree(plan: Plan, nodes: list[PlanNode], measured: list[float]) -> bool:
    """The common case, worked out in one pass: no InitPlan, and no node whose children measured
    more than it did. Then nothing is scaled and every node keeps its time minus its children's
    (what the rule gives too). Returns False, having set nothing, in every other case."""
    below = [0.0] * len(nodes)
    for node in nodes:
        if node.parent_relationship == "InitPlan":
            return False
        parent = node.parent
        if parent is not None:
            below[parent.id] += measured[node.id]
    if any(b > m for b, m in zip(below, measured, strict=True)):
        return False
    for node, time, spent in zip(nodes, measured, below, strict=True):
        if node.inclusive_time_ms is None:
            node.exclusive_time_ms = 0.0 if node.never_executed else None
        else:
            node.exclusive_time_ms = time - spent
    return True


def _measured(nodes: list[PlanNode]) -> list[float]:
    """Each node's inclusive time; for a node without one, the sum of its children's."""
    measured = [0.0] * len(nodes)
    for node in reversed(nodes):  # children before their parents
        time = node.inclusive_time_ms
        if time is None:
            time = sum(
                measured[child.id]
                for child in node.children
                if child.parent_relationship != "InitPlan"
            )
        measured[node.id] = max(0.0, time)
    return measured


def _cte_scans(nodes: Iterable[PlanNode]) -> dict[str, list[PlanNode]]:
    scans: dict[str, list[PlanNode]] = {}
    for node in nodes:
        name = node.raw.get("CTE Name")
        if isinstance(name, str) and node.raw.get("Node Type") == "CTE Scan":
            scans.setdefault(name, []).append(node)
    return scans


def _drivers(
    parent: PlanNode,
    child: PlanNode,
    measured: list[float],
    cte_scans: dict[str, list[PlanNode]],
) -> list[tuple[PlanNode, float]]:
    """The nodes whose clocks ran while ``child`` ran, and how much of its time in each."""
    time = measured[child.id]
    if child.parent_relationship != "InitPlan":
        return [(parent, time)]
    name = child.subplan_name or ""
    if name.startswith("CTE "):
        # a scan inside the CTE itself would make a cycle: only a malformed plan has one
        scans = [s for s in cte_scans.get(name[4:], []) if not _inside(s, child)]
        total = sum(measured[scan.id] for scan in scans)
        if not total:
            return [(parent, time)]
        return [(scan, time * measured[scan.id] / total) for scan in scans if measured[scan.id]]
    return [(_evaluator(parent, child), time)]


def _inside(node: PlanNode, ancestor: PlanNode) -> bool:
    while node.parent is not None:
        node = node.parent
        if node is ancestor:
            return True
    return False


def _evaluator(parent: PlanNode, initplan: PlanNode) -> PlanNode:
    """The node that evaluates an InitPlan's parameter (see the module's docstring)."""
    tokens = _param_tokens(initplan.subplan_name or "")
    if not tokens:
        return parent
    found = None
    stack = [parent]
    while stack:
        node = stack.pop()
        if _mentions_any(node, tokens):
            found = node
            break
        stack.extend(c for c in reversed(node.children) if c.parent_relationship != "InitPlan")
    if found is None:
        return parent
    # in a parallel section, the Gather above evaluated it for its processes
    above: PlanNode | None = found
    while above is not None:
        if _is_parallel_root(above):
            return above
        if above is parent:
            break
        above = above.parent
    return found


def _is_parallel_root(node: PlanNode) -> bool:
    kind = node.raw.get("Node Type")
    return isinstance(kind, str) and kind in PARALLEL_ROOTS


def _param_tokens(name: str) -> list[str]:
    tokens = []
    match = _INITPLAN_NUMBER.match(name)
    if match:
        tokens.append(f"(InitPlan {match.group(1)})")  # PostgreSQL 17+: (InitPlan 1).col1
    tokens += _INITPLAN_PARAMS.findall(name.partition("returns")[2])  # older: returns $0
    return tokens


def _mentions_any(node: PlanNode, tokens: list[str]) -> bool:
    texts = list(node.conditions.values())
    for key in ("Output", "Params Evaluated"):
        value = node.raw.get(key)
        if isinstance(value, list):
            texts.extend(str(item) for item in value)
        elif value is not None:
            texts.append(str(value))
    return any(_mentions(text, token) for text in texts for token in tokens)


def _mentions(text: str, token: str) -> bool:
    if not token.startswith("$"):
        return token in text
    return re.search(re.escape(token) + r"(?!\d)", text) is not None  # $1 is not $10
