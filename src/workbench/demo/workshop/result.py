"""What a check says: passed or not, what was right, what was wrong, what to look at next.

>>> r = CheckResult("orders_of_a_day", False, right=["same 97 rows"], wrong=["not faster"],
...                 next="look at the Filter of the scan")
>>> print(r)
❌ orders_of_a_day: not yet
  right: same 97 rows
  wrong: not faster
  next:  look at the Filter of the scan
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.plans.model import Plan
    from workbench.profiling.result import Comparison

__all__ = ["CheckResult"]


@dataclass
class CheckResult:
    """The outcome of one check of one answer.

    ``comparison`` is the before/after :class:`~workbench.profiling.result.Comparison` when
    speed was measured; ``plan`` the plan of the answer where one was taken; ``answered`` is
    False when there was no answer to check (nothing is recorded then).
    """

    scenario: str
    passed: bool
    right: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    next: str = ""
    comparison: Comparison | None = None
    plan: Plan | None = None
    seconds: float = 0.0
    answered: bool = True

    @property
    def message(self) -> str:
        """Everything the check said, in one paragraph."""
        parts = [f"right: {'; '.join(self.right)}" if self.right else ""]
        parts.append(f"wrong: {'; '.join(self.wrong)}" if self.wrong else "")
        parts.append(f"next: {self.next}" if self.next else "")
        return " | ".join(p for p in parts if p)

    @property
    def speedup(self) -> float | None:
        """The measured ratio of medians (planted / answer), when speed was measured."""
        return None if self.comparison is None else float(self.comparison.ratio)

    def __str__(self) -> str:
        status = "passed" if self.passed else "not yet"
        head = f"{'✅' if self.passed else '❌'} {self.scenario}: {status}"
        lines = [head]
        lines += [f"  right: {text}" for text in self.right]
        lines += [f"  wrong: {text}" for text in self.wrong]
        if self.next:
            lines.append(f"  {'then' if self.passed else 'next'}:  {self.next}")
        return "\n".join(lines)

    def __repr__(self) -> str:  # the console and plain-text outputs show the whole verdict
        return str(self)

    def _repr_html_(self) -> str:
        from workbench.safe_html import escape, render_markdown

        color = "#1a7f37" if self.passed else "#cf222e"
        items = [f"<li>✔ {escape(t)}</li>" for t in self.right]
        items += [f"<li>✘ {escape(t)}</li>" for t in self.wrong]
        then = "Why it works" if self.passed else "Look at next"
        # the explanations and hints are Markdown (`code`, **bold**), rendered and sanitized
        tail = f"<p><b>{then}:</b></p>{render_markdown(self.next)}" if self.next else ""
        return (
            f"<div class='wb-check' style='border-left:4px solid {color};padding-left:8px'>"
            f"<p style='color:{color};font-weight:600'>"
            f"{'✅ passed' if self.passed else '❌ not yet'}"
            f" · {escape(self.scenario)}</p><ul>{''.join(items)}</ul>{tail}</div>"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain values (what the learner's progress file keeps)."""
        return {
            "scenario": self.scenario,
            "passed": self.passed,
            "right": list(self.right),
            "wrong": list(self.wrong),
            "next": self.next,
            "speedup": self.speedup,
            "seconds": round(self.seconds, 3),
        }
