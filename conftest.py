"""The docstring examples of the package run as tests (``--doctest-modules``), with ``wb`` and
a small SQLite session ``s`` holding the demo data; examples that need a server are marked
``# doctest: +SKIP`` where they stand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# run as ``python -m workbench.cli``, never imported
collect_ignore = ["src/workbench/cli/__main__.py", "src/workbench/profiling/workers.py"]


@pytest.fixture(scope="session")
def _doctest_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import workbench as wb

    path = Path(tmp_path_factory.mktemp("doctest")) / "shop.sqlite"
    wb.demo.load(f"sqlite:///{path}", scale=0.01)
    session = wb.connect(f"sqlite:///{path}")
    yield session
    session.close()


@pytest.fixture(autouse=True)
def _doctest_names(request: pytest.FixtureRequest, doctest_namespace: dict[str, Any]) -> None:
    from _pytest.doctest import DoctestItem

    if not isinstance(request.node, DoctestItem):
        return
    import workbench as wb

    doctest_namespace["wb"] = wb
    doctest_namespace["s"] = request.getfixturevalue("_doctest_session")
