"""The values the tools deal in: a tool's definition, one call of it, and what it returned."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from workbench.evidence import Evidence
    from workbench.execution import Executor
    from workbench.fixes import FixTrial
    from workbench.plans.model import Plan
    from workbench.profiling.result import Profile

__all__ = ["GATES", "Gate", "Outcome", "Tool", "ToolCall", "ToolContext"]

Gate = Literal["analyze", "sandbox", "http"]
#: what each gate lets through, said to the person who approves it
GATES: dict[str, str] = {
    "analyze": "executes the statement on the database (reads; a write is refused)",
    "sandbox": "builds something (an index, statistics) in a transaction that is rolled back",
    "http": "sends real requests to the service (GET or HEAD only)",
}


class ToolContext(Protocol):
    """What a tool runs against (a :class:`~workbench.tools.Toolbox`): the guarded executor,
    its limits, and what the conversation gathered so far."""

    executor: Executor
    evidence: Evidence | None
    max_profile_runs: int
    redact_literals: bool
    budget: int
    plans: list[Plan]
    profiles: list[Profile]
    trials: list[FixTrial]


@dataclass
class ToolCall:
    """One call of a tool: what was asked, whether a person approved it, how it went.

    ``gate`` is ``None`` for a read that runs without asking, else ``"analyze"`` (it executes
    the statement) or ``"sandbox"`` (it builds something, rolled back); ``approved`` is
    ``None`` where nobody was asked. ``summary`` is one line for people; ``step`` the
    investigation step that recorded it.
    """

    name: str
    input: dict[str, Any]
    id: str = ""
    gate: Gate | None = None
    approved: bool | None = None
    ok: bool | None = None
    summary: str = ""
    step: int | None = None
    elapsed_ms: float | None = None

    @property
    def sql(self) -> str | None:
        """The exact SQL the call would run first (a fix, else the statement): what a person
        approves, beside :attr:`statement`."""
        fix = self.input.get("fix")
        if isinstance(fix, str) and fix.strip():
            return fix
        return self.statement

    @property
    def statement(self) -> str | None:
        """The statement the call plans or measures."""
        sql = self.input.get("sql")
        return sql if isinstance(sql, str) and sql.strip() else None

    def describe(self) -> str:
        """One line: the tool, its options, and why it needs approval."""
        options = {k: v for k, v in self.input.items() if k not in ("sql", "fix", "params")}
        shown = ", ".join(f"{k}={v!r}" for k, v in options.items())
        why = f" — {GATES[self.gate]}" if self.gate else ""
        return f"{self.name}({shown}){why}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "input": self.input,
            "id": self.id,
            "gate": self.gate,
            "approved": self.approved,
            "ok": self.ok,
            "summary": self.summary,
            "step": self.step,
            "elapsed_ms": self.elapsed_ms,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToolCall:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def __str__(self) -> str:
        state = {None: "", True: " (approved)", False: " (denied)"}[self.approved]
        result = "ok" if self.ok else ("refused" if self.ok is False else "not run")
        return f"{self.name}{state}: {result} — {self.summary}"


@dataclass
class Outcome:
    """What a tool returned: the text the model reads, a line for people, the workbench
    object (a plan, a profile, a trial, findings, a table) and the Python line that redoes it."""

    ok: bool
    text: str
    summary: str
    value: Any = None
    code: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Tool:
    """A tool's definition: its name and description for the model, its input schema, what
    it needs approval for, and the function that runs it."""

    name: str
    description: str
    properties: dict[str, Any]
    run: Callable[[ToolContext, dict[str, Any]], Outcome]
    required: tuple[str, ...] = ()
    gate: Callable[[dict[str, Any]], Gate | None] = field(default=lambda _input: None)

    def schema(self) -> dict[str, Any]:
        """The tool as the Messages API and MCP describe one."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": {
                "type": "object",
                "properties": self.properties,
                "required": list(self.required),
                "additionalProperties": False,
            },
        }
