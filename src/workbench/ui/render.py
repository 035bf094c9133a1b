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
