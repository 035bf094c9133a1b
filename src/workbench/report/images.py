"""Charts and recorded figures as image sources: inline ``data:`` URIs for the HTML report,
files in a sibling folder for the Markdown one.

Images are ``<img>`` elements only: an SVG shown through ``<img>`` never runs a script, and the
report's Content-Security-Policy allows ``data:`` images and nothing else. Charts are drawn with
every ``$`` of their titles and labels escaped, so a ``$`` in a query (``$1`` parameters) is
text, not TeX.
"""

from __future__ import annotations

import base64
import io
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from workbench.errors import ConfigurationError
from workbench.report.views import Chart, ImageFile

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FileImages", "Image", "InlineImages", "draw_chart", "literal_dollars"]

_MIME = {"svg": "image/svg+xml", "png": "image/png"}
FORMATS = tuple(_MIME)


@dataclass(frozen=True)
class Image:
    """A drawn image: ``src`` for the page, or ``error`` when it could not be drawn."""

    src: str | None
    alt: str
    error: str | None = None


def draw_chart(chart: Chart, fmt: str, *, dpi: int = 110) -> bytes:
    """The chart as ``fmt`` bytes (``svg`` or ``png``)."""
    import matplotlib

    # ids and hashes in the SVG depend on the chart only (a re-export gives the same file)
    with matplotlib.rc_context({"svg.hashsalt": chart.name, "svg.fonttype": "path"}):
        figure: Figure = chart.draw()
        literal_dollars(figure)
        out = io.BytesIO()
        figure.savefig(out, format=fmt, dpi=dpi, metadata=_metadata(fmt))
    return out.getvalue()


def literal_dollars(figure: Figure) -> None:
    """Show ``$`` in titles, labels and legends as a dollar sign: a query's ``$1`` or a
    ``'$5'`` literal is text, not TeX (mathtext would garble it, or fail on it). The tick
    labels the axes draw themselves keep their mathtext (``10^2`` on log axes)."""
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter

    for text in figure.findobj(Text):
        value = text.get_text()
        if "$" in value:
            text.set_text(_escape_dollars(value))
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            for formatter in (axis.get_major_formatter(), axis.get_minor_formatter()):
                if isinstance(formatter, FixedFormatter):
                    formatter.seq = [_escape_dollars(str(label)) for label in formatter.seq]


def _escape_dollars(text: str) -> str:
    return text.replace("\\$", "$").replace("$", "\\$")


def _metadata(fmt: str) -> dict[str, str | None]:
    # no date or software version in the file: the same investigation gives the same report
    if fmt == "svg":
        return {"Date": None, "Creator": None}
    return {"Software": None}


class InlineImages:
    """Images as ``data:`` URIs inside the page."""

    def __init__(self, folder: Path, *, fmt: str = "svg", dpi: int = 110) -> None:
        self.folder = folder
        self.fmt = _format(fmt)
        self.dpi = dpi

    def __call__(self, block: Chart | ImageFile) -> Image:
        try:
            if isinstance(block, Chart):
                data, fmt = draw_chart(block, self.fmt, dpi=self.dpi), self.fmt
            else:
                path, fmt = _recorded(block, self.folder, prefer=self.fmt)
                data = path.read_bytes()
        except Exception as exc:  # a chart that cannot be drawn leaves a note, not a hole
            return Image(None, block.alt, f"{type(exc).__name__}: {exc}")
        encoded = base64.b64encode(data).decode("ascii")
        return Image(f"data:{_MIME[fmt]};base64,{encoded}", block.alt)


class FileImages:
    """Images written to ``target`` (``report_files/``), linked relatively from the page."""

    def __init__(self, folder: Path, target: Path, *, fmt: str = "png", dpi: int = 110) -> None:
        self.folder = folder
        self.target = target
        self.fmt = _format(fmt)
        self.dpi = dpi

    def __call__(self, block: Chart | ImageFile) -> Image:
        self.target.mkdir(parents=True, exist_ok=True)
        try:
            if isinstance(block, Chart):
                name = f"{block.name}.{self.fmt}"
                (self.target / name).write_bytes(draw_chart(block, self.fmt, dpi=self.dpi))
            else:
                path, fmt = _recorded(block, self.folder, prefer=self.fmt)
                name = f"{block.name}.{fmt}"
                shutil.copyfile(path, self.target / name)
        except Exception as exc:
            return Image(None, block.alt, f"{type(exc).__name__}: {exc}")
        return Image(f"{quote(self.target.name)}/{quote(name)}", block.alt)


def _recorded(block: ImageFile, folder: Path, *, prefer: str) -> tuple[Path, str]:
    """A recorded figure's file, kept inside the investigation folder: an edited
    ``investigation.json`` cannot make a report embed some other file of the machine."""
    files = dict(block.files)
    fmt = prefer if prefer in files else next(f for f in FORMATS if f in files)
    root = folder.resolve()
    path = (root / files[fmt]).resolve()
    if not path.is_relative_to(root) or path.suffix.lower() != f".{fmt}":
        raise ConfigurationError(
            f"{files[fmt]!r} is not an image of the investigation",
            hint="a report embeds only the figures inside its investigation folder; record the "
            "figure with inv.record(fig) instead of editing investigation.json",
        )
    return path, fmt


def _format(fmt: str) -> str:
    from workbench.errors import ConfigurationError

    value = fmt.lower().lstrip(".")
    if value not in _MIME:
        raise ConfigurationError(
            f"unknown image format {fmt!r}", hint="image_format='svg' or image_format='png'"
        )
    return value
