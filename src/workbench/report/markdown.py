"""The Markdown report, for wikis and pull requests: images in a sibling folder
(``report_files/``), linked relatively.

Rendered by Jinja2 (``templates/report.md.j2``) in an environment whose ``finalize`` escapes
every value for Markdown, the way autoescape does for HTML: backslashes before the characters
that make emphasis, links, code, tables, HTML and math, and before the ones that start a block
at the beginning of a line. The filters below mark their output as already safe
(:class:`MdSafe`): SQL and plans go in fenced blocks whose fence is longer than any backtick run
inside; inline code in a span likewise; the model's Markdown is kept as Markdown with raw HTML
neutralised and dangerous link schemes defanged.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from workbench.report.views import evidence_items

if TYPE_CHECKING:
    from collections.abc import Callable

    import jinja2

    from workbench.plans.model import Plan
    from workbench.report.images import Image
    from workbench.report.views import ReportView

__all__ = [
    "MdSafe",
    "code_span",
    "fence",
    "md_cell",
    "md_inline",
    "md_text",
    "neutralise",
    "render_markdown",
]


class MdSafe(Markup):
    """Markdown that is already safe to emit as it is.

    A :class:`~markupsafe.Markup`, so Jinja2's autoescape machinery carries it (and the output
    of macros) through untouched; ``finalize`` turns every other value into one by escaping it
    for Markdown, so the HTML escaping autoescape would add never happens."""

    __slots__ = ()


# characters with inline meaning (emphasis, code, links, images, HTML, entities, tables,
# strikethrough, math, escapes) are escaped wherever they appear
_INLINE = re.compile(r"([\\`*_\[\]<>&|~$!])")
# characters that start a block (heading, list, quote, thematic break) at the start of a line
_LINE_START = re.compile(r"^(\s*)([#+\-=>])")
_ORDERED = re.compile(r"^(\s*\d+)([.)])")


def _escape_line(line: str, *, line_start: bool = True) -> str:
    line = _INLINE.sub(r"\\\1", line.strip())
    if not line_start:
        return line
    line = _LINE_START.sub(r"\1\\\2", line)
    return _ORDERED.sub(r"\1\\\2", line)


def md_text(value: Any) -> MdSafe:
    """Text as Markdown that renders as exactly that text (line breaks kept as hard breaks)."""
    if isinstance(value, MdSafe):
        return value
    lines = str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return MdSafe("  \n".join(_escape_line(line) for line in lines if line.strip()))


def md_inline(value: Any) -> MdSafe:
    """Text in the middle of a line (after a label, in a table cell): one line; what only
    means something at the start of a line (``1.``, ``#``, ``-``) is left alone."""
    return MdSafe(_escape_line(" ".join(str(value).split()), line_start=False))


md_cell = md_inline


def fence(value: Any, language: str = "", indent: int = 0) -> MdSafe:
    """A fenced code block that nothing inside can close (``indent``: inside a list item)."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marker = "`" * max(3, longest + 1)
    language = language if re.fullmatch(r"[a-z0-9_+-]*", language) else ""
    block = f"{marker}{language}\n{text}\n{marker}"
    if indent:
        block = "\n".join(" " * indent + line for line in block.split("\n"))
    return MdSafe(block)


def code_span(value: Any, table: bool = False) -> MdSafe:
    """Inline code that nothing inside can close (``table``: in a table cell, where GFM
    splits on ``|`` even inside code)."""
    text = " ".join(str(value).split())
    if table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    marker = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return MdSafe(f"{marker}{pad}{text}{pad}{marker}")


_DANGEROUS_LINK = re.compile(
    r"(\]\(\s*<?|^\s*\[[^\]]*\]:\s*<?)\s*(javascript|vbscript|data|file):",
    re.IGNORECASE | re.MULTILINE,
)


def neutralise(source: str) -> MdSafe:
    """Untrusted Markdown (the model's) kept as Markdown, made harmless for any renderer:
    outside code blocks ``<`` becomes ``&lt;`` (no raw HTML can start), images become text
    (a picture from the model's text would be fetched by every reader's browser: a tracker, or
    a leak through its URL) and links to ``javascript:``, ``data:``, ``vbscript:`` or
    ``file:`` lose their scheme.

    Which lines are code is decided by a CommonMark parser (markdown-it-py), not by guessing
    at fences: a fence that a list item closes early is seen as closed."""
    lines = str(source).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    verbatim: set[int] = set()
    for token in _parser().parse("\n".join(lines)):
        if token.type in ("fence", "code_block") and token.map:
            verbatim.update(range(*token.map))
    out = [line if number in verbatim else _defang(line) for number, line in enumerate(lines)]
    return MdSafe("\n".join(out))


def _defang(line: str) -> str:
    line = line.replace("<", "&lt;").replace("![", "!\\[")  # no HTML, no image: plain text
    return _DANGEROUS_LINK.sub(r"\1unsafe-\2-", line)


@lru_cache(maxsize=1)
def _parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("js-default", {"html": False})


def _finalize(value: Any) -> Markup:
    if value is None:
        return MdSafe("")
    if isinstance(value, Markup):  # a filter's output, or a macro's (rendered from escaped parts)
        return value
    return md_text(value)


def _plan_text(plan: Plan) -> MdSafe:
    return fence(plan.to_text(), "text")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("workbench.report", "templates"),
        # autoescape marks what is safe; `finalize` escapes every other value for Markdown
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        fence=fence,
        code=code_span,
        cell=md_cell,
        inline=md_inline,
        neutralise=neutralise,
        plan_text=_plan_text,
        evidence_items=evidence_items,
        raw_path=lambda value: MdSafe(str(value)),
    )
    return env


def render_markdown(view: ReportView, *, image: Callable[[Any], Image], setup: str) -> str:
    """The report as Markdown. ``image`` writes a chart or figure and returns its relative
    path (an :class:`~workbench.report.images.Image`)."""
    template = _environment().get_template("report.md.j2")
    return template.render(report=view, image=image, setup=setup).lstrip("\n")
