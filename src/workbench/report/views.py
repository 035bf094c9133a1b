"""What a report shows, independent of its format: a :class:`ReportView` of :class:`StepView`,
each a list of blocks.

The blocks carry *raw* text (SQL, table names, a model's Markdown, exactly as they came); the
format decides how to make it harmless: the HTML template escapes every string (Jinja2
autoescape) and renders Markdown through :func:`workbench.safe_html.render_markdown`, the
Markdown template escapes Markdown syntax and fences code. Nothing here is pre-escaped, so
nothing can be escaped twice or forgotten once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from workbench import formatting as fmt

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from workbench.findings import Finding
    from workbench.plans.model import Plan

__all__ = [
    "Block",
    "Chart",
    "Code",
    "Facts",
    "Findings",
    "Group",
    "ImageFile",
    "Markdown",
    "Outcome",
    "PlanTree",
    "ReportView",
    "Reproduction",
    "StepView",
    "Table",
    "Text",
    "Verdict",
    "evidence_items",
]


class Block:
    """One piece of a step; ``kind`` tells the templates which macro draws it."""

    kind: ClassVar[str] = "block"


@dataclass(frozen=True)
class Text(Block):
    """Plain text from anywhere (escaped by every format)."""

    kind: ClassVar[str] = "text"
    text: str
    muted: bool = False


@dataclass(frozen=True)
class Markdown(Block):
    """Untrusted Markdown (the architect's narrative, a person's note)."""

    kind: ClassVar[str] = "markdown"
    source: str


@dataclass(frozen=True)
class Code(Block):
    """A literal block: SQL, Python, JSON, a text plan."""

    kind: ClassVar[str] = "code"
    text: str
    language: str = ""
    caption: str | None = None


@dataclass(frozen=True)
class Facts(Block):
    """Label → value pairs (a definition list)."""

    kind: ClassVar[str] = "facts"
    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table(Block):
    """A table of text cells; ``numeric`` columns are right-aligned."""

    kind: ClassVar[str] = "table"
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str | None = None
    numeric: frozenset[int] = frozenset()
    note: str | None = None


@dataclass(frozen=True)
class Verdict(Block):
    """A headline result; ``tone`` is ``good``, ``bad`` or ``neutral``."""

    kind: ClassVar[str] = "verdict"
    text: str
    tone: str = "neutral"


@dataclass(frozen=True)
class PlanTree(Block):
    """A plan: the collapsible tree in HTML (``plan.to_html()``), the text tree in Markdown."""

    kind: ClassVar[str] = "plan"
    plan: Plan
    caption: str | None = None


@dataclass(frozen=True)
class Chart(Block):
    """A chart drawn on demand (``draw()`` returns a matplotlib Figure); ``name`` is a file
    stem made of safe characters (``step003-histogram``)."""

    kind: ClassVar[str] = "image"
    name: str
    alt: str
    draw: Callable[[], Figure]


@dataclass(frozen=True)
class ImageFile(Block):
    """An image already on disk (a recorded figure: ``svg`` and/or ``png`` beside the
    investigation); ``files`` maps the format to the path."""

    kind: ClassVar[str] = "image"
    name: str
    alt: str
    files: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Findings(Block):
    """Findings with their evidence, fix and expected effect."""

    kind: ClassVar[str] = "findings"
    findings: tuple[Finding, ...]
    empty: str = "No findings."


@dataclass(frozen=True)
class Group(Block):
    """Blocks under a summary line, collapsed in HTML (``<details>``) unless ``open``."""

    kind: ClassVar[str] = "group"
    summary: str
    blocks: tuple[Block, ...]
    open: bool = False


@dataclass
class StepView:
    """One step of the investigation, ready to draw."""

    id: int
    kind: str
    title: str
    created_at: str
    note: str | None = None
    blocks: list[Block] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"step-{self.id}"


@dataclass(frozen=True)
class Reproduction:
    """How to rerun one step: Python lines and the SQL it ran."""

    step_id: int
    title: str
    python: str
    sql: tuple[tuple[str, str], ...] = ()  # (what, sql)
    derived: bool = True  # False: the line recorded with the step


@dataclass(frozen=True)
class Outcome:
    """A before/after result for the overview: a comparison's or a fix trial's verdict."""

    step_id: int
    title: str
    verdict: str
    tone: str = "neutral"


@dataclass
class ReportView:
    """The whole report."""

    title: str
    created_at: str
    generated_at: str
    summary: str | None
    environment: tuple[tuple[str, str], ...]
    settings: tuple[tuple[str, str], ...]
    steps: list[StepView]
    findings: list[tuple[int, Finding]]  # (step id, finding), most severe first
    outcomes: list[Outcome]
    reproductions: list[Reproduction]
    folder: str
    counts: dict[str, int] = field(default_factory=dict)
    version: str = ""

    @property
    def finding_codes(self) -> list[str]:
        return list(dict.fromkeys(f.code for _, f in self.findings))


def evidence_items(finding: Finding) -> list[tuple[str, str]]:
    """A finding's evidence as label → text pairs (nested values as compact JSON)."""
    import json

    items = []
    for key, value in (finding.evidence or {}).items():
        if value is None or value == "" or value == [] or value == {}:
            continue
        text = (
            value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
        )
        items.append((str(key), text if len(text) <= 400 else text[:399] + "…"))
    tables = [str(t) for t in finding.tables if t]
    if tables:
        items.append(("tables", ", ".join(tables)))
    if finding.node_ids:
        items.append(("plan nodes", ", ".join(f"#{n}" for n in finding.node_ids)))
    return items


def cell(value: Any) -> str:
    """A table cell: numbers as :func:`workbench.formatting.number` writes them, nothing for
    ``None``."""
    if value is None:
        return ""
    if isinstance(value, float):
        return fmt.number(value)
    return str(value)
