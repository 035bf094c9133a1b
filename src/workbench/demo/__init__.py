"""The demo dataset: a small SaaS shop with planted performance problems to investigate.

>>> import workbench as wb
>>> s = wb.connect()                       # embedded PostgreSQL, demo data loaded on first use
>>> wb.demo.load("duckdb:///shop.duckdb", scale=0.1)  # same rows elsewhere  # doctest: +SKIP

``wb.demo.PATHOLOGIES`` lists what is planted and the queries that show it; ``wb.demo.app`` is
the sample backend (SQLAlchemy ORM) whose ``list_users()`` is the slow ``/api/users`` endpoint;
``wb.demo.serve()`` serves it over HTTP in a process of its own (:mod:`workbench.demo.service`);
``wb.demo.workshop`` is the graded workshop on this data (:mod:`workbench.demo.workshop`).
See ``data/README.md`` for the dataset card.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.demo.generate import BASE_ROWS, DATASET_VERSION, DEMO_NOW, SEED, generate, row_counts
from workbench.demo.load import LoadReport, is_loaded, load, run_workload

if TYPE_CHECKING:
    from workbench.session import Session

__all__ = [
    "BASE_ROWS",
    "DATASET_VERSION",
    "DEMO_NOW",
    "SEED",
    "LoadReport",
    "connect",
    "generate",
    "is_loaded",
    "load",
    "row_counts",
    "run_workload",
]


def connect(scale: float = 1.0, *, timeout: float = 30.0) -> Session:
    """The embedded PostgreSQL with the demo data at ``scale`` (0.05 for a quick workshop)."""
    from workbench.session import demo_session

    return demo_session(scale=scale, timeout=timeout)


def __getattr__(name: str) -> Any:
    # the ORM app, the pathology catalogue and the workshop import SQLAlchemy's ORM: only when
    # asked for
    import importlib

    if name in ("app", "pathologies", "workshop"):
        return importlib.import_module(f"workbench.demo.{name}")
    if name in ("serve", "DemoService", "fixed_copy"):  # the HTTP API, when asked for
        return getattr(importlib.import_module("workbench.demo.service"), name)
    if name in ("PATHOLOGIES", "Pathology", "pathology", "WORKLOAD", "WorkloadStatement"):
        return getattr(importlib.import_module("workbench.demo.pathologies"), name)
    raise AttributeError(f"module 'workbench.demo' has no attribute {name!r}")
