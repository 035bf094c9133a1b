"""Imports run one way: model → core → probes → analysis → views → facade → surfaces.

Every import counts (module level, inside a function, under ``TYPE_CHECKING``): a lazy import
hides a dependency from Python's import machinery, not from the reader. A result object's
convenience method that reaches up (``Plan.chart``, ``Profile.histogram``) is allowed by name in
:data:`ALLOWED`; nothing else may import upward, and no circle may form beside those.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "workbench"

LAYERS = ("model", "core", "probes", "analysis", "views", "facade", "surfaces")

# module name patterns (full match, first match wins) -> layer
LAYER_OF: tuple[tuple[str, str], ...] = (
    # surfaces: what people type or click
    (r"workbench\.(cli|cli\..*|magics|ui|ui\..*|mcp|mcp\..*)", "surfaces"),
    (r"workbench\.demo(\.(guided|workshop|workshop\..*|service|service\..*))?", "surfaces"),
    # the facade
    (r"workbench|workbench\.session", "facade"),
    # views: what a person reads
    (r"workbench\.(charts|investigation|investigation\..*|report|report\..*|baseline)", "views"),
    # analysis: judging the evidence
    (
        r"workbench\.(evidence|evidence\..*|rules|rules\..*|architect|architect\..*|persona|personas"
        r"|tools|tools\..*|advisor|advisor\..*|health|health\..*)",
        "analysis",
    ),
    # probes: each takes an Executor
    (
        r"workbench\.(explain|capture|capture\..*|fixes|server_stats|introspection|statements"
        r"|profiling|profiling\..*|http|http\..*)",
        "probes",
    ),
    # core: running statements safely, the servers, the demo data
    (
        r"workbench\.(guard|dialects|dialects\..*|execution|binding|cancellation|connections|embedded"
        r"|demo\.(schema|generate|load|vocabulary|pathologies|app))",
        "core",
    ),
    # model: plain values, text, plans
    (
        r"workbench\.(errors|findings|catalog|redaction|formatting|safe_html|sqltext"
        r"|fingerprint|snippets|paths|version|plans|plans\..*)",
        "model",
    ),
)

# (importer, imported): a result's convenience method that reaches up, imported lazily
ALLOWED = {
    # the package's public namespace names the notebook surfaces (wb.ui, %load_ext workbench)
    ("workbench", "workbench.ui"),
    ("workbench", "workbench.magics"),
    ("workbench.plans.model", "workbench.charts"),  # Plan.chart()
    ("workbench.plans.model", "workbench.plans.render"),  # Plan.to_text(), to_frame(), HTML
    ("workbench.plans.model", "workbench.plans.diff"),  # Plan.diff()
    ("workbench.profiling.result", "workbench.charts"),  # Profile.histogram(), Comparison.chart()
    ("workbench.profiling.sweep", "workbench.charts"),  # Sweep.chart()
    ("workbench.evidence", "workbench.rules"),  # Evidence.findings
    ("workbench.evidence", "workbench.rules.engine"),
    ("workbench.investigation", "workbench.report"),  # Investigation.export()
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def layer(module: str) -> str:
    for pattern, name in LAYER_OF:
        if re.fullmatch(pattern, module):
            return name
    raise AssertionError(f"{module} has no layer: add it to LAYER_OF in tests/test_layers.py")


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str) -> list[tuple[str, int]]:
    """(imported workbench module, line) for every import in ``module``, wherever it stands."""
    path = MODULES[module]
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                here = here[: len(here) - node.level + 1]
                base = ".".join(here + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                targets.append(full if full in MODULES else base)
        for target in targets:
            resolved = _resolve(target) if target.startswith("workbench") else None
            if resolved and resolved != module:
                found.append((resolved, node.lineno))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for module in MODULES:
        for target, _line in imports(module):
            if (module, target) not in ALLOWED:
                graph[module].add(target)
    return graph


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer(module)


def test_imports_run_downward() -> None:
    upward = []
    for module in sorted(MODULES):
        rank = LAYERS.index(layer(module))
        for target, line in imports(module):
            if LAYERS.index(layer(target)) > rank and (module, target) not in ALLOWED:
                upward.append(
                    f"{module}:{line} ({layer(module)}) imports {target} ({layer(target)})"
                )
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_module_below_the_facade_imports_the_session() -> None:
    offenders = [
        module
        for module in MODULES
        if LAYERS.index(layer(module)) < LAYERS.index("facade")
        and any(target == "workbench.session" for target, _ in imports(module))
    ]
    assert not offenders


def test_no_circles_beyond_the_allowed_convenience_loops() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def visit(start: str) -> None:  # Tarjan's algorithm, iteratively (no recursion limit)
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))

    for module in sorted(MODULES):
        if module not in index:
            visit(module)
    assert not circles, f"import circles: {circles}"


@pytest.mark.parametrize(
    ("importer", "imported"),
    [("workbench.explain", "workbench.session"), ("workbench.plans.model", "workbench.guard")],
)
def test_the_check_would_catch_a_new_upward_import(importer: str, imported: str) -> None:
    """The rule itself: an edge from a lower layer to a higher one is refused."""
    assert LAYERS.index(layer(importer)) < LAYERS.index(layer(imported))
    assert (importer, imported) not in ALLOWED


def test_large_modules_are_the_cohesive_parsers_only() -> None:
    exempt = {"workbench.guard", "workbench.plans.postgresql.text"}
    large = {
        module: n
        for module, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500 and module not in exempt
    }
    assert not large, f"modules over 500 lines (split them along their seams): {large}"
