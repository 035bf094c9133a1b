"""Choosing the set of indexes: a greedy, anytime search under budgets.

The idea is the one SQL Server's tuning advisor made standard (Chaudhuri and Narasayya): start
from the indexes that exist; at each step, add the candidate that lowers the workload's cost
the most, judged across every statement; stop when nothing lowers it by at least ``min_gain``
of the starting cost, or a budget is spent (indexes, bytes, planner calls, seconds). The best
set so far is always at hand, so a search stopped by its budget still answers. A last pass
drops any chosen index the others made unnecessary (removing it raises the cost by less than
``min_gain``).

Pure: the cost of a configuration comes from the caller (:class:`~workbench.advisor.whatif.
Judge` through :func:`workload_cost`), so the search is tested without a database.

>>> costs = {frozenset(): 100.0, frozenset({"a"}): 60.0, frozenset({"b"}): 90.0,
...          frozenset({"a", "b"}): 59.5}
>>> result = greedy(["a", "b"], lambda c: costs[frozenset(c)], max_indexes=5)
>>> result.chosen, result.cost, result.stopped
(['a'], 60.0, 'no candidate lowers the cost by 2% or more')
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["Budget", "SearchResult", "greedy"]

T = TypeVar("T", bound=Hashable)


@dataclass
class Budget:
    """What the search may spend: ``calls`` (planner calls, from ``used_calls``) and
    ``seconds`` of wall time (``None``: unbounded)."""

    calls: int | None = None
    seconds: float | None = None
    used_calls: Callable[[], int] = lambda: 0
    started: float = field(default_factory=time.monotonic)

    def spent(self) -> str | None:
        if self.calls is not None and self.used_calls() >= self.calls:
            return f"the budget of {self.calls} planner calls was spent"
        if self.seconds is not None and time.monotonic() - self.started >= self.seconds:
            return f"the time budget of {self.seconds:g} s was spent"
        return None


@dataclass
class SearchResult(Generic[T]):
    """The chosen candidates in the order chosen, the workload cost before and after, and why
    the search stopped."""

    chosen: list[T]
    base: float
    cost: float
    steps: list[float] = field(default_factory=list)  # the cost after each choice
    stopped: str = ""
    evaluations: int = 0


def greedy(
    candidates: Sequence[T],
    cost: Callable[[frozenset[T]], float],
    *,
    max_indexes: int,
    size: Callable[[T], int | None] = lambda _: None,
    max_size: int | None = None,
    min_gain: float = 0.02,
    budget: Budget | None = None,
) -> SearchResult[T]:
    """Greedy forward selection (see the module docstring)."""
    budget = budget or Budget()
    chosen: list[T] = []
    base = cost(frozenset())
    current = base
    result = SearchResult[T](chosen, base, base)
    used_bytes = 0
    remaining = list(candidates)
    while remaining:
        if len(chosen) >= max_indexes:
            result.stopped = f"{max_indexes} indexes chosen (max_indexes)"
            break
        best: T | None = None
        best_cost = current
        for candidate in remaining:
            spent = budget.spent()
            if spent:
                result.stopped = spent
                break
            if max_size is not None:
                bytes_ = size(candidate)
                if bytes_ is not None and used_bytes + bytes_ > max_size:
                    continue
            result.evaluations += 1
            value = cost(frozenset([*chosen, candidate]))
            if value < best_cost:
                best, best_cost = candidate, value
        if result.stopped:
            break
        if best is None or current - best_cost < min_gain * base:
            result.stopped = f"no candidate lowers the cost by {min_gain:.0%} or more"
            break
        chosen.append(best)
        remaining.remove(best)
        if max_size is not None:
            used_bytes += size(best) or 0
        current = best_cost
        result.steps.append(current)
    else:
        result.stopped = "every candidate was considered"
    result.chosen = _pruned(chosen, cost, min_gain * base)
    result.cost = cost(frozenset(result.chosen))
    return result


def _pruned(chosen: list[T], cost: Callable[[frozenset[T]], float], margin: float) -> list[T]:
    """Drop what the others made unnecessary, the least useful first."""
    kept = list(chosen)
    changed = True
    while changed and len(kept) > 1:
        changed = False
        whole = cost(frozenset(kept))
        losses = [
            (cost(frozenset(k for k in kept if k != c)) - whole, i) for i, c in enumerate(kept)
        ]
        loss, index = min(losses)
        if loss < margin:
            kept.pop(index)
            changed = True
    return kept
