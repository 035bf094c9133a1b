"""Something new for a running conversation (a fix trial, a plan, a profile, a comparison,
more evidence) as one redacted data block."""

from __future__ import annotations

from typing import Any

from workbench.errors import ConfigurationError

__all__ = ["added_evidence"]


def added_evidence(value: Any, budget: int) -> tuple[str, str]:
    """Something new for the conversation, as one data block (kind, redacted text)."""
    from workbench.evidence import Evidence
    from workbench.evidence.payload import plan_text
    from workbench.fixes import FixTrial
    from workbench.plans.model import Plan
    from workbench.profiling.result import Comparison, Profile
    from workbench.redaction import redact_secrets, redact_sql

    if isinstance(value, Evidence):
        return "more evidence", value.payload(budget=budget)
    if isinstance(value, Plan):
        return "new plan", redact_secrets(plan_text(value, 0, budget, redact_literals=True))
    if isinstance(value, FixTrial):
        lines = [
            f"fix tried in a rolled-back transaction: {redact_sql(value.fix)}",
            f"verdict: {value.verdict}",
            *value.notes,
            "before:",
            plan_text(value.before, 0, budget // 2, redact_literals=True),
            "after:",
            plan_text(value.after, 1, budget // 2, redact_literals=True),
        ]
        return "fix trial", redact_secrets("\n".join(lines))
    if isinstance(value, Profile | Comparison):
        import json

        data = (
            Evidence.profile_summary(value)
            if isinstance(value, Profile)
            else Evidence.comparison_summary(value)
        )
        holder = Evidence(dialect="", profiles=[data] if isinstance(value, Profile) else [])
        shown = holder._profile(data) if isinstance(value, Profile) else holder._comparison(data)
        return (
            "new profile" if isinstance(value, Profile) else "new comparison",
            redact_secrets(json.dumps(shown, indent=1, default=str)),
        )
    raise ConfigurationError(
        f"cannot add a {type(value).__name__} to the conversation",
        hint="add a fix trial, a plan, a profile, a comparison or evidence",
    )
