"""Reports: an investigation as one HTML file, as Markdown with its images, or as a PDF.

>>> inv.export("report.html")    # one self-contained file, no script  # doctest: +SKIP
>>> inv.export("report.md")      # images in report_files/             # doctest: +SKIP
>>> inv.export("report.pdf")     # through headless Chromium           # doctest: +SKIP

The package is one module per concept:

* :mod:`~workbench.report.views`: what a report shows, as format-free blocks;
* :mod:`~workbench.report.steps`: each kind of step as blocks, through
  :mod:`~workbench.report.measured` (plans, profiles, comparisons, sweeps, captures) and
  :mod:`~workbench.report.analysed` (findings, answers, evidence, fix trials);
* :mod:`~workbench.report.numbers`: how numbers read;
* :mod:`~workbench.report.build`: the whole investigation as a :class:`ReportView`;
* :mod:`~workbench.report.reproduce`: the appendix, how to rerun each step;
* :mod:`~workbench.report.images`: charts as ``data:`` URIs or files;
* :mod:`~workbench.report.html`, :mod:`~workbench.report.markdown`, :mod:`~workbench.report.pdf`:
  the formats (Jinja2 templates in ``templates/``).

Everything that came from the database or a model is escaped (HTML, Markdown) or sanitized (the
model's Markdown in HTML); the HTML page carries a Content-Security-Policy that allows no
script and no request.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.errors import ConfigurationError

if TYPE_CHECKING:
    from workbench.investigation import Investigation
    from workbench.report.views import ReportView

__all__ = ["FORMATS", "export", "render", "render_html_report", "report_format"]

FORMATS = {
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".pdf": "pdf",
}
_OPTIONS = {"image_format", "charts", "dpi", "chromium"}


def report_format(path: str | Path) -> str:
    """The report format a path asks for (its suffix), or a ``ConfigurationError`` saying which
    exist: callers that do a minute of work before writing check first."""
    name = Path(path).name
    kind = FORMATS.get(Path(path).suffix.lower())
    if kind is None:
        raise ConfigurationError(
            f"cannot write a report as {name!r}",
            hint="end the path in .html (one self-contained file), .md (Markdown with images "
            "in a sibling folder) or .pdf",
        )
    return kind


def export(inv: Investigation, path: str | Path, **options: Any) -> Path:
    """Write ``inv`` as a report at ``path``; the format follows the suffix.

    Options: ``charts=False`` leaves the charts out (faster); ``image_format`` is ``"svg"``
    (the HTML and PDF default) or ``"png"`` (the Markdown default: wikis and pull requests
    take PNG); ``dpi`` for PNG; ``chromium`` names the browser for PDF.
    """
    target = Path(path)
    kind = report_format(target)
    unknown = set(options) - _OPTIONS
    if unknown:
        raise ConfigurationError(
            f"unknown report option(s): {', '.join(sorted(unknown))}",
            hint=f"known: {', '.join(sorted(_OPTIONS))}",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "markdown":
        from workbench.report.images import FileImages

        images = FileImages(
            inv.folder,
            target.parent / f"{target.stem}_files",
            fmt=options.get("image_format", "png"),
            dpi=int(options.get("dpi", 110)),
        )
        text = render(inv, "markdown", image=images, charts=options.get("charts", True))
        _write(target, text)
        return target
    if kind == "pdf":
        from workbench.report.pdf import find_chromium, write_pdf

        chromium = find_chromium(options.get("chromium"))  # a wrong path fails before the work
        return write_pdf(render_html_report(inv, **options), target, chromium=chromium)
    html = render_html_report(inv, **options)
    _write(target, html)
    return target


def render_html_report(inv: Investigation, **options: Any) -> str:
    """The HTML report as a string (images inline)."""
    from workbench.report.images import InlineImages

    images = InlineImages(
        inv.folder, fmt=options.get("image_format", "svg"), dpi=int(options.get("dpi", 110))
    )
    return render(inv, "html", image=images, charts=options.get("charts", True))


def render(inv: Investigation, kind: str, *, image: Any, charts: bool = True) -> str:
    """``inv`` rendered as ``"html"`` or ``"markdown"``; ``image`` places each picture."""
    from workbench.report.build import build_view
    from workbench.report.reproduce import setup_code

    view: ReportView = build_view(inv, charts=charts)
    if kind == "html":
        from workbench.report.html import render_html

        return render_html(view, image=image, setup=setup_code(inv))
    from workbench.report.markdown import render_markdown

    return render_markdown(view, image=image, setup=setup_code(inv))


def _write(target: Path, text: str) -> None:
    """Write atomically: a report being rewritten is never half a file."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is for reading
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
