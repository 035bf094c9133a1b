"""What answers when no model can: the offline rules' findings, labelled as such."""

from __future__ import annotations

from workbench.findings import Finding

__all__ = ["offline_followup", "offline_markdown"]


def offline_markdown(findings: list[Finding], *, why: str | None = None) -> str:
    """The offline rules' findings as the narrative of an offline answer; ``why`` says why no
    model was called (default: no API key)."""
    reason = why or (
        "no API key is set, so no model was called; these are the workbench's rules. Set "
        "`ANTHROPIC_API_KEY` to ask the architect."
    )
    lines = [f"**Offline analysis** — {reason}", ""]
    if not findings:
        lines.append("The rules found nothing wrong in this evidence.")
    for finding in findings:
        lines.append(f"### [{finding.severity}] {finding.title}")
        lines.append(f"`{finding.code}`" + (f" — {finding.detail}" if finding.detail else ""))
        if finding.fix:
            lines += [
                "",
                "```sql" if finding.fix_kind in ("ddl", "sql", "rewrite", "setting") else "```",
                finding.fix,
                "```",
            ]
        if finding.expected_effect:
            lines += ["", f"*Expected effect:* {finding.expected_effect}"]
        lines.append("")
    return "\n".join(lines)


def offline_followup(question: str) -> str:
    return (
        f"**Offline** — no API key is set, so the question “{question}” cannot be put to a "
        "model. The offline findings above are all the workbench can say without one; set "
        "`ANTHROPIC_API_KEY` to continue the conversation."
    )
