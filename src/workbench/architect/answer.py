"""What the architect answers: the narrative, structured findings, the tool calls it made, and
notes about how the answer came to be (cut short, refused, retried, stopped, offline)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workbench.findings import Finding
from workbench.tools import ToolCall

__all__ = ["Answer"]


@dataclass
class Answer:
    """The architect's answer: the Markdown narrative, structured findings, token usage.

    ``offline`` is true when the offline rules answered (no API key, or the API unreachable);
    ``tool_calls`` lists each tool the model called (name, input, approved, ok, a summary);
    ``notes`` say what a reader must know about the answer itself (it was cut at the token
    limit, the model declined, findings were missing, the investigation hit a budget).
    """

    markdown: str
    findings: list[Finding] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    offline: bool = False
    model: str | None = None
    evidence_path: str | None = None
    question: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stop_reason: str | None = None
    created_at: str = field(default_factory=lambda: datetime.now().isoformat(timespec="seconds"))
    #: set while the text was streamed into this very cell: shown there once, not twice
    _streamed_in: int | None = field(default=None, repr=False, compare=False)

    def html(self) -> str:
        """The narrative as safe HTML (markdown-it-py safe preset, then nh3)."""
        from workbench.safe_html import render_markdown

        return render_markdown(self.markdown)

    def _label(self) -> str:
        from workbench.safe_html import escape

        if self.offline:
            return "offline analysis — rules only, no model was called"
        usage = ""
        if self.usage:
            usage = " · " + ", ".join(f"{escape(k)} {v:,}" for k, v in self.usage.items() if v)
        return f"architect ({escape(self.model or '')}){usage}"

    def _repr_html_(self) -> str:
        from workbench.safe_html import escape

        narrative = self.html()
        if self._streamed_in is not None and self._streamed_in == _execution_count():
            # the text was streamed above in this cell: the rest only
            narrative = "<div style='color:#57606a'>(the answer's text is streamed above)</div>"
        calls = "".join(
            f"<li><code>{escape(c.name)}</code>{_state_html(c)}: {escape(c.summary)}</li>"
            for c in self.tool_calls
        )
        calls_html = f"<h4>Tool calls</h4><ol>{calls}</ol>" if calls else ""
        notes = "".join(
            f"<div class='wb-answer-note' style='color:#9a6700'>⚠ {escape(n)}</div>"
            for n in self.notes
        )
        # an offline answer's narrative already is its findings: listed once
        items = (
            "" if self.offline else "".join(f"<li>{f._repr_html_()}</li>" for f in self.findings)
        )
        findings = f"<h4>Findings</h4><ul>{items}</ul>" if items else ""
        return (
            f"<div class='wb-answer'><div style='color:#57606a;font-size:12px'>{self._label()}"
            f"</div>{notes}{narrative}{calls_html}{findings}</div>"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "markdown": self.markdown,
            "findings": [f.to_dict() for f in self.findings],
            "usage": self.usage,
            "offline": self.offline,
            "model": self.model,
            "evidence_path": self.evidence_path,
            "question": self.question,
            "tool_calls": [c.to_dict() for c in self.tool_calls],
            "notes": self.notes,
            "stop_reason": self.stop_reason,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        return cls(
            markdown=data.get("markdown", ""),
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            usage=dict(data.get("usage") or {}),
            offline=bool(data.get("offline")),
            model=data.get("model"),
            evidence_path=data.get("evidence_path"),
            question=data.get("question"),
            tool_calls=[ToolCall.from_dict(c) for c in data.get("tool_calls", [])],
            notes=list(data.get("notes") or []),
            stop_reason=data.get("stop_reason"),
            created_at=data.get("created_at") or datetime.now().isoformat(),
        )

    def __str__(self) -> str:
        parts = [self.markdown]
        parts += [f"⚠ {n}" for n in self.notes]
        return "\n\n".join(p for p in parts if p)


def _state_html(call: ToolCall) -> str:
    if call.approved is False:
        return " (denied)"
    if call.ok is False:
        return " (refused)"
    if call.approved:
        return " (approved)"
    return ""


def _execution_count() -> int | None:
    """The running cell's number in IPython (``None`` elsewhere)."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "execution_count", None) if shell is not None else None
