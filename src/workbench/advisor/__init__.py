"""The index advisor: ``s.advise()`` answers "which indexes should I add for my workload?",
and measures what each recommendation buys before recommending it.

The pieces, one module each:

* :mod:`~workbench.advisor.workload`: the statements (given, or the server's top statements
  by total time) and :mod:`~workbench.advisor.params`: values for their placeholders;
* :mod:`~workbench.advisor.candidates`: candidate indexes from each statement's filters,
  joins, sort keys and columns read (and :mod:`~workbench.advisor.facts`: the tables' facts);
* :mod:`~workbench.advisor.whatif`: the judges that cost a statement under a set of indexes
  (HypoPG, real indexes in a rolled-back transaction, timed plans, plans alone);
* :mod:`~workbench.advisor.search`: the greedy, anytime search under budgets;
* :mod:`~workbench.advisor.verify`: the chosen set built and measured, rolled back;
* :mod:`~workbench.advisor.model`: :class:`Recommendation` and its values;
  :mod:`~workbench.advisor.advice`: :class:`Advice`, and how it reads.

>>> advice = s.advise(["SELECT id, total_cents FROM orders WHERE user_id = 7"], runs=5)
>>> [r.columns for r in advice.recommendations]
[('user_id',)]
"""

from __future__ import annotations

from workbench.advisor.advice import Advice
from workbench.advisor.engine import advise
from workbench.advisor.model import IndexSpec, QueryImpact, Recommendation, WriteCost

__all__ = ["Advice", "IndexSpec", "QueryImpact", "Recommendation", "WriteCost", "advise"]
