"""workbench: a Jupyter workbench for database and backend performance investigations.

>>> import workbench as wb
>>> s = wb.connect("sqlite://")          # wb.connect() alone starts the embedded PostgreSQL
>>> s.query("SELECT 40 + 2 AS answer").answer.tolist()
[42]

The public names are imported lazily, so ``import workbench`` stays fast; the errors are cheap
and imported eagerly so ``except wb.WorkbenchError`` never triggers an import.
"""

from __future__ import annotations

import importlib

from workbench.errors import (
    ArchitectError,
    ConfigurationError,
    ConnectionFailedError,
    EmbeddedServerError,
    LockTimeoutError,
    PlanParseError,
    QueryCancelled,
    QueryError,
    QueryTimeoutError,
    UnsafeStatementError,
    WorkbenchError,
    WorkbenchWarning,
)
from workbench.version import __version__ as __version__

# `typing` costs ~10 ms at import; annotations are strings here, so skip it at run time
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from workbench import charts, ui
    from workbench.advisor import Advice, Recommendation
    from workbench.architect import Answer, Architect
    from workbench.capture import Capture
    from workbench.catalog import ColumnInfo, IndexInfo, ServerInfo, TableInfo
    from workbench.evidence import Evidence
    from workbench.execution import Result, Transaction
    from workbench.findings import Finding
    from workbench.fixes import FixTrial
    from workbench.health import HealthReport
    from workbench.investigation import Investigation, StepKind
    from workbench.plans import Plan, PlanNode, parse_plan
    from workbench.plans.diff import PlanDiff
    from workbench.profiling import Comparison, Profile, Sweep, choice, uniform
    from workbench.rules import analyze
    from workbench.session import Session, connect
    from workbench.tools import ToolCall, prompt_approval


# public name -> module that defines it
_LAZY = {
    "connect": "workbench.session",
    "Session": "workbench.session",
    "ColumnInfo": "workbench.catalog",
    "IndexInfo": "workbench.catalog",
    "ServerInfo": "workbench.catalog",
    "TableInfo": "workbench.catalog",
    "demo": "workbench.demo",
    "Plan": "workbench.plans",
    "PlanNode": "workbench.plans",
    "parse_plan": "workbench.plans",
    "Profile": "workbench.profiling",
    "Comparison": "workbench.profiling",
    "Sweep": "workbench.profiling",
    "uniform": "workbench.profiling",
    "choice": "workbench.profiling",
    "Capture": "workbench.capture",
    "charts": "workbench.charts",
    "Evidence": "workbench.evidence",
    "Finding": "workbench.findings",
    "analyze": "workbench.rules",
    "Architect": "workbench.architect",
    "Answer": "workbench.architect",
    "ToolCall": "workbench.tools",
    "prompt_approval": "workbench.tools",
    "FixTrial": "workbench.fixes",
    "PlanDiff": "workbench.plans.diff",
    "Result": "workbench.execution",
    "Transaction": "workbench.execution",
    "StepKind": "workbench.investigation",
    "Investigation": "workbench.investigation",
    "ui": "workbench.ui",
    "Advice": "workbench.advisor",
    "Recommendation": "workbench.advisor",
    "HealthReport": "workbench.health",
}

__all__ = [
    "Advice",
    "Answer",
    "Architect",
    "ArchitectError",
    "Capture",
    "ColumnInfo",
    "Comparison",
    "ConfigurationError",
    "ConnectionFailedError",
    "EmbeddedServerError",
    "Evidence",
    "Finding",
    "FixTrial",
    "HealthReport",
    "IndexInfo",
    "Investigation",
    "LockTimeoutError",
    "Plan",
    "PlanDiff",
    "PlanNode",
    "PlanParseError",
    "Profile",
    "QueryCancelled",
    "QueryError",
    "QueryTimeoutError",
    "Recommendation",
    "Result",
    "ServerInfo",
    "Session",
    "StepKind",
    "Sweep",
    "TableInfo",
    "ToolCall",
    "Transaction",
    "UnsafeStatementError",
    "WorkbenchError",
    "WorkbenchWarning",
    "analyze",
    "charts",
    "choice",
    "connect",
    "demo",
    "parse_plan",
    "prompt_approval",
    "ui",
    "uniform",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = importlib.import_module(module)
    if name != module.rsplit(".", 1)[-1]:
        value = getattr(value, name)
    globals()[name] = value  # cache: the next access skips __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext workbench``: the IPython magics."""
    from workbench.magics import load_ipython_extension as load

    load(ipython)
