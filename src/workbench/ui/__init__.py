"""The notebook UI (ipywidgets). Nothing in the core imports this package.

>>> panel = wb.ui.Workbench(s)   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__all__ = ["PlanView", "Workbench"]


def __getattr__(name: str) -> Any:
    if name == "Workbench":
        from workbench.ui.workbench import Workbench

        return Workbench
    if name == "PlanView":
        from workbench.ui.plan_view import PlanView

        return PlanView
    raise AttributeError(name)
