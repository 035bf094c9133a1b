"""One exchange with the model: turns until it answers without asking for a tool, each tool
call put to the person where it is gated, run through the guard and recorded, and the budgets
(steps, tokens, wall time, the person's Stop) checked between steps."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from workbench.architect.answer import Answer
from workbench.architect.protocol import REPORT_TOOL, findings_from
from workbench.architect.transport import Turn, check_size, count_tokens, stream_turn
from workbench.errors import ArchitectError
from workbench.tools import Outcome, Toolbox, ToolCall

if TYPE_CHECKING:
    from workbench.evidence import Evidence

__all__ = ["Conversation", "Exchange"]


class Conversation(Protocol):
    """What an exchange reads and updates of the conversation it belongs to (the
    :class:`~workbench.architect.Architect`)."""

    max_tokens: int
    max_input_tokens: int
    evidence: Evidence | None
    investigation: Any
    on_tool: Callable[[ToolCall, str], None] | None
    _toolbox: Toolbox | None
    _messages: list[dict[str, Any]]
    _pending: dict[str, str]
    _approve: Callable[[ToolCall], bool] | None
    _stop: threading.Event
    _streamed: bool
    _max_retries: int

    @property
    def model(self) -> str: ...

    def _client_or_default(self) -> Any: ...

    def _params(self, messages: list[dict[str, Any]], *, tools: bool) -> dict[str, Any]: ...

    def _emit(self, chunk: str) -> None: ...

    def _offline(
        self, evidence: Evidence, path: str | None, *, why: str | None = None
    ) -> Answer: ...


class Exchange:
    """The turns of one :meth:`Architect.analyze`, :meth:`~Architect.investigate` or
    :meth:`~Architect.ask`, and what they gathered."""

    def __init__(
        self,
        arch: Conversation,
        *,
        max_steps: int,
        deadline: float | None,
        max_total_tokens: int | None,
    ) -> None:
        self.arch = arch
        self.toolbox = arch._toolbox
        self.max_steps = max_steps
        self.deadline = deadline
        self.max_total_tokens = max_total_tokens
        self.calls: list[ToolCall] = []
        self.texts: list[str] = []
        self.notes: list[str] = []
        self.usage: dict[str, int] = {}
        self.steps = 0
        self.told_budget = False

    def run(self, content: list[dict[str, Any]], path: str | None, question: str | None) -> Answer:
        """Turns until the model answers without asking for a tool, or a budget ends it."""
        arch = self.arch
        saved = f"the evidence is saved at {path}" if path else "nothing was lost"
        client = arch._client_or_default()
        messages = _appended(arch._messages, content)
        tools = self.max_steps > 0 or self.toolbox is not None
        model, stop_reason = None, None
        findings: list[Any] = []
        reported, first = False, True
        arch._streamed = False
        while True:
            ended = self._budget_reached()
            if ended and not first:
                self.notes.append(ended)
                break
            params = arch._params(messages, tools=tools)
            if first:
                check_size(client, params, arch.max_input_tokens, saved)
            elif self._over_tokens(count_tokens(client, params)):
                break
            first = False
            try:
                turn = stream_turn(
                    client, params, emit=arch._emit, retries=arch._max_retries, saved=saved
                )
            except ArchitectError as error:
                error.evidence_path = path  # type: ignore[attr-defined]
                if getattr(error, "unreachable", False) and not self.calls and arch.evidence:
                    return arch._offline(arch.evidence, path, why=error.message)
                raise
            arch._emit("\n")
            _add_usage(self.usage, turn.usage)
            model, stop_reason = turn.model or model, turn.stop_reason
            messages = [*messages, {"role": "assistant", "content": turn.blocks}]
            if turn.text.strip():
                self.texts.append(turn.text.strip())
            self.notes += _turn_notes(turn, arch.max_tokens)
            uses = [b for b in turn.blocks if b.get("type") == "tool_use"]
            owed = {b["id"]: "recorded" for b in uses if b.get("name") == REPORT_TOOL}
            if owed:
                reported = True
                findings, malformed = findings_from(turn.blocks)
                self.notes += malformed
                self.calls.append(
                    ToolCall(
                        name=REPORT_TOOL,
                        input={},
                        ok=not malformed,
                        summary=f"{len(findings)} finding(s) reported",
                    )
                )
            asked = [b for b in uses if b.get("name") != REPORT_TOOL]
            if not asked or turn.stop_reason != "tool_use" or self.toolbox is None:
                arch._pending = owed | {b["id"]: _not_run("the answer ended") for b in asked}
                if asked and self.toolbox is None:
                    self.notes.append("the model asked for tools in a conversation without them")
                break
            if self.told_budget:
                arch._pending = owed | {b["id"]: _not_run("the budget is used up") for b in asked}
                self.notes.append(
                    f"stopped: the step budget of {self.max_steps} was reached and the model "
                    "still asked for tools; what was gathered is kept"
                )
                break
            results = [_result(tool_id, text, error=False) for tool_id, text in owed.items()]
            results += [self._answer(request) for request in asked]
            reminder = self._budget_reached()
            if reminder:
                self.told_budget = True
                results.append(
                    {
                        "type": "text",
                        "text": f"{reminder[0].upper()}{reminder[1:]}: no more tools. Write "
                        "your answer with what you have and call report_findings.",
                    }
                )
            messages = [*messages, {"role": "user", "content": results}]
            if arch._stop.is_set():
                self.notes.append(f"stopped by the person after {self.steps} step(s)")
                break
        arch._messages = messages
        if not reported:
            self.notes.append(
                "the model did not call report_findings, so there are no structured findings: "
                "the narrative is the whole answer"
            )
        return Answer(
            markdown="\n\n".join(self.texts),
            findings=findings,
            usage=self.usage,
            model=model or arch.model,
            evidence_path=path,
            question=question,
            tool_calls=self.calls,
            notes=self.notes,
            stop_reason=stop_reason,
        )

    def _over_tokens(self, counted: int) -> bool:
        """Whether the next request would pass a token budget (said in the notes)."""
        limit, used = self.arch.max_input_tokens, sum(self.usage.values())
        if counted > limit:
            self.notes.append(
                f"stopped: the next request would be {counted:,} input tokens, over the budget "
                f"of {limit:,} per request; what was gathered is kept"
            )
            return True
        if self.max_total_tokens is not None and used + counted > self.max_total_tokens:
            self.notes.append(
                f"stopped: the investigation has used {used:,} tokens and the next request "
                f"would pass the budget of {self.max_total_tokens:,}; what was gathered is kept"
            )
            return True
        return False

    def _budget_reached(self) -> str | None:
        if self.arch._stop.is_set():
            return f"stopped by the person after {self.steps} step(s)"
        if self.told_budget:  # told to answer: one last turn, whatever budget ran out
            return None
        if self.deadline is not None and time.monotonic() > self.deadline:
            return f"the time budget is used up after {self.steps} step(s)"
        if self.steps >= self.max_steps:
            return f"the step budget of {self.max_steps} tool calls is used up"
        return None

    def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """The tool result for one requested call: run, denied, or not run (a budget)."""
        assert self.toolbox is not None
        call = self.toolbox.prepare(request["name"], request.get("input"), request["id"])
        self.calls.append(call)
        reason = self._budget_reached()
        if reason:
            call.summary = f"not run: {reason}"
            return _result(call.id, _not_run(reason), error=True)
        self.steps += 1  # a denied call counts too: a model asking again and again ends
        text, error = self._call(call)
        return _result(call.id, text, error=error)

    def _call(self, call: ToolCall) -> tuple[str, bool]:
        """Ask, run and record one call: the text the model reads, and whether it failed."""
        assert self.toolbox is not None
        approve = self.arch._approve
        self._notify(call, "requested")
        if call.gate is not None:
            approved = False
            if approve is not None:
                try:
                    approved = bool(approve(call))
                except Exception as exc:  # a failing approver denies, and says why
                    call.summary = f"denied: the approval failed ({type(exc).__name__})"
            call.approved = approved
            if not approved:
                call.summary = call.summary or "denied by the person"
                self._record_denied(call)
                self._notify(call, "denied")
                return (
                    f"denied by the person: {call.name} was not run. Do not ask for it again; "
                    "work with what you have.",
                    True,
                )
        self._notify(call, "running")
        outcome = self.toolbox.run(call)
        self._record(call, outcome)
        self._notify(call, "done")
        return self.toolbox.wrapped(call, outcome), not outcome.ok

    def _notify(self, call: ToolCall, phase: str) -> None:
        if self.arch.on_tool is not None:
            self.arch.on_tool(call, phase)

    def _record(self, call: ToolCall, outcome: Outcome) -> None:
        investigation = self.arch.investigation
        if investigation is None:
            return
        approval = " (approved)" if call.approved else ""
        if outcome.ok and outcome.value is not None:
            step = investigation.record(
                outcome.value,
                note=f"{call.name}{approval}: {outcome.summary}",
                title=outcome.title or f"Architect: {call.name}",
                code=outcome.code,
            )
        else:
            step = investigation.record(
                f"The architect called {call.describe()}{approval}: {outcome.summary}",
                title=f"Architect: {call.name} refused",
            )
        call.step = getattr(step, "id", None)

    def _record_denied(self, call: ToolCall) -> None:
        investigation = self.arch.investigation
        if investigation is None:
            return
        sql = f" `{call.sql}`" if call.sql else ""
        step = investigation.record(
            f"The architect asked for {call.describe()}{sql}; denied by the person, not run.",
            title=f"Architect: {call.name} denied",
        )
        call.step = getattr(step, "id", None)


def _appended(
    messages: list[dict[str, Any]], content: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``content`` as the next user turn (merged into a user turn the history ends with)."""
    if messages and messages[-1]["role"] == "user":
        return [*messages[:-1], {"role": "user", "content": [*messages[-1]["content"], *content]}]
    return [*messages, {"role": "user", "content": content}]


def _result(tool_id: str, text: str, *, error: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_id, "content": text}
    if error:
        out["is_error"] = True
    return out


def _not_run(reason: str) -> str:
    return f"not run: {reason}"


def _add_usage(total: dict[str, int], usage: dict[str, int]) -> None:
    for key, value in usage.items():
        total[key] = total.get(key, 0) + value


def _turn_notes(turn: Turn, max_tokens: int) -> list[str]:
    notes = []
    if turn.stop_reason == "max_tokens":
        notes.append(
            f"the answer was cut at the output limit of {max_tokens:,} tokens: raise it with "
            f"wb.Architect(max_tokens={max_tokens * 2})"
        )
    elif turn.stop_reason == "refusal":
        notes.append("the model declined to answer this (stop reason: refusal)")
    for kind in turn.retried:
        notes.append(f"the API reported {kind} in the middle of the answer; it was retried")
    return notes
