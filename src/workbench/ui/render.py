"""What the panel's tabs show, as HTML strings and images: every value from the database or
the model escaped on its way in."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from workbench.errors import WorkbenchError
from workbench.safe_html import escape

if TYPE_CHECKING:
    from workbench.evidence import Evidence
    from workbench.investigation import Investigation
    from workbench.plans.model import PlanNode
    from workbench.session import Session

__all__ = ["chart_png", "connection_html", "evidence_html", "history_html", "node_html"]


def connection_html(session: Session) -> str:
    label = escape(session.label or session.dialect)
    return (
        f"<b>{label}</b> · {escape(session.dialect)} "
        f"{escape(session.server.version)} · <code>{escape(session.url)}</code>"
    )


def evidence_html(evidence: Callable[[], Evidence]) -> str:
    """Exactly what the architect would be sent, or why there is nothing yet."""
    try:
        payload = evidence().payload()
    except WorkbenchError as exc:
        return f"<i>{escape(exc.message)}</i>"
    return (
        "<p>Exactly what <b>Ask the Architect</b> would send (redacted):</p>"
        f"<pre style='white-space:pre-wrap'>{escape(payload)}</pre>"
    )


def node_html(node: PlanNode) -> str:
    from workbench.plans.render import node_details

    details = node_details(node)
    return (
        f"<pre style='white-space:pre-wrap'>"
        f"{escape(json.dumps(details, indent=1, default=str))}</pre>"
    )


def chart_png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def history_html(investigation: Investigation, lines: Sequence[str]) -> str:
    steps = "".join(f"<li>{escape(s.kind)}: {escape(s.title)}</li>" for s in investigation.steps)
    code = "\n".join(lines) or "# nothing yet"
    return (
        f"<p>Recorded in <code>{escape(str(investigation.folder))}"
        f"</code>:</p><ol>{steps}</ol><p>The same in Python:</p>"
        f"<pre>{escape(code)}</pre>"
    )


def python_line(line: str) -> str:
    """The "Python:" line under the toolbar (several lines kept as they are)."""
    return f"<small>Python: <code style='white-space:pre-wrap'>{escape(line)}</code></small>"


def report_link(path: Any) -> str:
    """The status line after an export: a link to the report."""
    from workbench.investigation import ReportPath

    return f"Report written: {ReportPath(path).link_html()}"


def has_password(url: str) -> bool:
    """Whether a typed URL carries a password (``user:secret@host``)."""
    from workbench.redaction import mask_url

    return "://" in url and mask_url(url) != url


def connect_line(url: str) -> tuple[str, bool]:
    """The Python line of a switch to ``url``, and whether the URL holds a secret: then the
    line names a ``url`` variable (the panel puts it in the notebook) instead of the text."""
    if has_password(url):
        return "s = wb.connect(url)  # url: the URL you typed (its password is not shown)", True
    return f"s = wb.connect({url!r})", False
