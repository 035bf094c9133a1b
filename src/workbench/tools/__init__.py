"""The tools an agent may call: one set, defined once, for the architect and the MCP server.

Each tool is a thin wrapper over the guarded probes (the same calls a person makes on a
session), and returns what a model reads in the evidence's own form: redacted (no literal
values, no secrets), condensed (a plan one node per line, a profile as its numbers, never
rows of user data), and wrapped as a data block that text inside it cannot close.

Every call is a :class:`ToolCall`. Reads that change nothing and execute none of the user's
statements (``explain`` without ANALYZE, ``describe_tables``, ``top_statements``,
``findings``, ``health``) run without asking; a call that executes statements (``explain``
with ANALYZE, ``profile``) or builds something (``try_fix``, an index advice verified for
real) is *gated*: the architect asks the person (``approve=``), the MCP server runs it only
when it was started with the matching ``--allow-...`` option. The guard decides what may run
either way: a write, a ``DROP`` or a second statement comes back as the guard's refusal.

>>> box = Toolbox(s.executor)
>>> call = box.prepare("explain", {"sql": "SELECT * FROM orders WHERE user_id = 42"})
>>> call.gate is None                       # a plain EXPLAIN: nothing executes
True
>>> print(box.run(call).text.splitlines()[1])     # doctest: +ELLIPSIS
plan 1: sqlite, ...
>>> box.prepare("explain", {"sql": "SELECT 1", "analyze": True}).gate
'analyze'
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.errors import ConfigurationError, WorkbenchError
from workbench.evidence.payload import block
from workbench.redaction import redact_secrets
from workbench.tools.catalogue import available
from workbench.tools.model import GATES, Gate, Outcome, Tool, ToolCall

if TYPE_CHECKING:
    from workbench.evidence import Evidence
    from workbench.execution import Executor
    from workbench.fixes import FixTrial
    from workbench.plans.model import Plan
    from workbench.profiling.result import Profile

__all__ = [
    "GATES",
    "MAX_PROFILE_RUNS",
    "Gate",
    "Outcome",
    "Tool",
    "ToolCall",
    "Toolbox",
    "prompt_approval",
    "tool_names",
]

#: a model may ask for at most this many runs of a profile
MAX_PROFILE_RUNS = 200
#: a tool's result is condensed to about this many tokens
RESULT_BUDGET = 2_500


class Toolbox:
    """The tools on one database, and what they gathered (plans, profiles, trials), which the
    ``findings`` tool judges with the offline rules.

    ``tools`` limits the set (names; ``None``: all); ``evidence``: what the conversation
    started from (its plans and profiles count for ``findings``).
    """

    def __init__(
        self,
        executor: Executor,
        *,
        tools: Iterable[str] | None = None,
        evidence: Evidence | None = None,
        max_profile_runs: int = MAX_PROFILE_RUNS,
        redact_literals: bool = True,
        budget: int = RESULT_BUDGET,
    ) -> None:
        self.executor = executor
        self.evidence = evidence
        self.max_profile_runs = max_profile_runs
        self.redact_literals = redact_literals
        self.budget = budget
        every = available()
        if tools is not None:
            wanted = list(tools)
            unknown = [name for name in wanted if name not in every]
            if unknown:
                raise ConfigurationError(
                    f"no tool named {', '.join(unknown)}",
                    hint=f"the tools are {', '.join(every)}",
                )
            every = {name: every[name] for name in wanted}
        self.tools: dict[str, Tool] = every
        self.plans: list[Plan] = []
        self.profiles: list[Profile] = []
        self.trials: list[FixTrial] = []

    def specs(self) -> list[dict[str, Any]]:
        """Every tool's schema, for the request."""
        return [tool.schema() for tool in self.tools.values()]

    def prepare(self, name: str, tool_input: Any, call_id: str = "") -> ToolCall:
        """The call a model asked for, with the gate its input falls under."""
        data = dict(tool_input) if isinstance(tool_input, dict) else {}
        call = ToolCall(name=name, input=data, id=call_id)
        tool = self.tools.get(name)
        if tool is not None:
            try:
                call.gate = tool.gate(data)
            except Exception:  # a malformed input: run() refuses it with the reason
                call.gate = None
        return call

    def run(self, call: ToolCall) -> Outcome:
        """Run one call through the guard. A refusal or a failure is an outcome (``ok`` false)
        the model reads, never an exception."""
        tool = self.tools.get(call.name)
        started = time.perf_counter()
        if tool is None:
            outcome = Outcome(
                False,
                f"there is no tool named {call.name!r}; the tools are {', '.join(self.tools)}",
                f"unknown tool {call.name}",
            )
        else:
            try:
                outcome = tool.run(self, call.input)
            except WorkbenchError as exc:
                hint = f" ({exc.hint})" if getattr(exc, "hint", None) else ""
                outcome = Outcome(
                    False,
                    f"refused by the workbench: {exc.message}{hint}",
                    f"refused: {fmt.clip(exc.message, 160)}",
                )
            except (TypeError, ValueError, KeyError) as exc:
                outcome = Outcome(
                    False, f"invalid input for {call.name}: {exc}", f"invalid input: {exc}"
                )
        call.ok = outcome.ok
        call.summary = self.scrub(outcome.summary)
        call.elapsed_ms = (time.perf_counter() - started) * 1000
        outcome.text = self.scrub(outcome.text)
        outcome.summary = call.summary
        return outcome

    def wrapped(self, call: ToolCall, outcome: Outcome) -> str:
        """The outcome as the model reads it: one data block, escaped."""
        return block(f"tool {call.name}", outcome.text)

    def scrub(self, text: str) -> str:
        return redact_secrets(self.executor.scrub(text))


def tool_names() -> list[str]:
    """The names of the tools this installation offers.

    >>> tool_names()[:3]
    ['explain', 'profile', 'describe_tables']
    """
    return list(available())


def prompt_approval(call: ToolCall) -> bool:
    """Ask the person at the keyboard (a terminal, or a notebook's input box) to allow one
    call: the tool, why it needs approval, and the exact SQL. Anything but "y" denies.

    >>> wb.Architect(session=s).investigate("why?", approve=prompt_approval)  # doctest: +SKIP
    """
    lines = [f"The architect asks to run {call.describe()}"]
    if call.sql:
        lines.append(f"    {call.sql}")
    if call.statement and call.statement != call.sql:
        lines.append(f"  to plan: {call.statement}")
    print("\n".join(lines))
    try:
        reply = input("Allow? [y/N] ")
    except (EOFError, OSError):  # no one to ask: denied
        return False
    return reply.strip().lower() in ("y", "yes")
