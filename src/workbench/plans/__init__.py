"""Plan parsing and the plan model.

:func:`parse_plan` reads a plan from any engine, captured or pasted (PostgreSQL TEXT as psql
prints it, or any engine's JSON), into one :class:`Plan` of :class:`PlanNode`.
"""

from __future__ import annotations

from workbench.plans.model import MISESTIMATE_THRESHOLD, Misestimate, Plan, PlanNode, Spill
from workbench.plans.parse import detect_format, from_dict, parse_plan

__all__ = [
    "MISESTIMATE_THRESHOLD",
    "Misestimate",
    "Plan",
    "PlanNode",
    "Spill",
    "detect_format",
    "from_dict",
    "parse_plan",
]
