"""The workshop's scenarios in teaching order, and the primer on reading a plan that comes
first.

>>> len(SCENARIOS) >= 12, scenario("big_sort").kind
(True, 'spill')
"""

from __future__ import annotations

from workbench.demo.workshop.chapters_app import APP_SCENARIOS
from workbench.demo.workshop.chapters_plans import PLAN_SCENARIOS
from workbench.demo.workshop.chapters_where import WHERE_SCENARIOS
from workbench.demo.workshop.model import Scenario
from workbench.errors import ConfigurationError

__all__ = ["PRIMER", "PRIMER_SQL", "SCENARIOS", "scenario"]

SCENARIOS: tuple[Scenario, ...] = WHERE_SCENARIOS + PLAN_SCENARIOS + APP_SCENARIOS

#: the query the primer explains
PRIMER_SQL = (
    "SELECT u.email, o.id, o.total_cents FROM users u JOIN orders o ON o.user_id = u.id "
    "WHERE u.id = 42"
)

PRIMER = """\
**Reading a plan.** `s.explain(sql, analyze=True)` runs the query and shows the plan the
database chose: a tree of operations, each feeding rows to its parent. Read it from the
leaves up.

* **The operation**: how rows are found. *Seq Scan* reads every row of a table; *Index Scan*
  walks an index, then fetches each row from the table; *Index Only Scan* answers from the
  index alone; *Bitmap Heap Scan* collects matches from an index first, then reads their
  pages in order. Joins are *Nested Loop* (for each outer row, look up the inner side),
  *Hash Join* (build a hash table of one side, probe it with the other) or *Merge Join* (two
  sorted inputs side by side).
* **Rows: estimated → actual.** The planner chose this plan for the rows it *expected*. When
  the actual rows are far off (the plan view marks it), the plan was chosen for another query.
* **Loops.** An inner node of a nested loop runs once per outer row; its time and rows are
  totals over all loops.
* **Time: exclusive and share.** The exclusive time is the node's own work; the node with
  the largest share is where a fix pays.
* **Conditions.** An *Index Cond* is answered by the index; a *Filter* is checked on each row
  read, and *Rows Removed by Filter* counts the work wasted.
* **Buffers.** Pages touched (8 kB each): *hit* in memory, *read* from disk.

Every scenario below is a query the demo shop runs slowly. Explain it, find the node that
costs, form a hypothesis, write your fix, and run the check: it compares your query's rows
with the planted query's, then measures both many times in a transaction that is rolled back.
"""


def scenario(name: str) -> Scenario:
    """The scenario called ``name`` (its placeholders unfilled: see :meth:`Scenario.bind`)."""
    for item in SCENARIOS:
        if item.name == name:
            return item
    raise ConfigurationError(
        f"no workshop scenario {name!r}",
        hint=f"the scenarios are: {', '.join(s.name for s in SCENARIOS)}",
    )
