"""A conversation with the architect: one analysis, follow-ups, and investigations in which the
model calls the workbench's tools, each gated call approved by a person.

Each turn is one streamed request (:mod:`.transport`): the persona and the workbench's
protocol as two system blocks (cached), the evidence as data blocks (cached), the newest turn
with its own cache breakpoint so the history is read from the cache, not billed again.
"""

from __future__ import annotations

import copy
import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from workbench import snippets
from workbench.architect.additions import added_evidence
from workbench.architect.answer import Answer, _execution_count
from workbench.architect.loop import Exchange
from workbench.architect.offline import offline_followup, offline_markdown
from workbench.architect.protocol import DATA_PREAMBLE, DEFAULT_TASK, protocol_text, report_tool
from workbench.errors import ConfigurationError
from workbench.evidence.payload import block
from workbench.persona import Persona, load_persona, provider_model, resolve_model
from workbench.tools import Toolbox, ToolCall

if TYPE_CHECKING:
    import anthropic

    from workbench.evidence import Evidence
    from workbench.execution import Executor

__all__ = ["Architect", "Recorder"]

_SECRET_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
INVESTIGATE_TASK = (
    "Investigate with the tools you have, one step at a time, until you can say what makes "
    "this slow, what to change and what the change will buy. Then answer in Markdown as your "
    "instructions describe and call report_findings once."
)


class Recorder(Protocol):
    """Where the calls are recorded (an :class:`~workbench.investigation.Investigation`)."""

    def record(
        self,
        obj: Any,
        note: str | None = None,
        *,
        title: str | None = None,
        code: str | None = None,
    ) -> Any: ...


class _Connected(Protocol):
    @property
    def executor(self) -> Executor: ...


class Architect:
    """A conversation with the backend-architect persona about one investigation.

    >>> ev = s.evidence("SELECT * FROM orders WHERE user_id = 42")
    >>> arch = wb.Architect(on_text=lambda text: None)   # no API key here: the offline rules
    >>> answer = arch.analyze(ev)        # in a notebook it streams; .markdown .findings .usage
    >>> answer.offline
    True
    >>> arch.ask("and if the table grows 100x?")    # doctest: +SKIP

    With a session, the model may investigate by itself (every call that executes a
    statement or builds something needs ``approve`` to say yes):

    >>> arch = wb.Architect(session=s, on_text=lambda text: None)
    >>> sql = "SELECT * FROM orders WHERE user_id = 42"
    >>> answer = arch.investigate("why is this slow?", sql=sql,
    ...                           approve=lambda call: call.name == "explain")  # doctest: +SKIP

    ``persona``: an agent file's path or name (``.claude/agents/``), or ``None`` for the
    shipped one; ``model``: a model id or family (``sonnet``/``opus``/``haiku``); ``client``:
    an ``anthropic`` client (``Anthropic``, ``AnthropicBedrock``, ``AnthropicVertex``); by
    default one is made from ``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL``. ``session``
    gives the model the tools; ``investigation`` records each call as a step;
    ``cache_ttl="1h"`` keeps the cached prefix an hour instead of five minutes.
    """

    def __init__(
        self,
        persona: str | Path | Persona | None = None,
        *,
        session: _Connected | None = None,
        investigation: Recorder | None = None,
        model: str | None = None,
        client: anthropic.Anthropic
        | anthropic.AnthropicBedrock
        | anthropic.AnthropicVertex
        | None = None,
        max_tokens: int = 4096,
        max_input_tokens: int = 40_000,
        budget: int = 6_000,
        save_dir: str | Path | None = None,
        on_text: Callable[[str], None] | None = None,
        on_tool: Callable[[ToolCall, str], None] | None = None,
        tools: list[str] | None = None,
        cache_ttl: str = "5m",
        timeout: float = 120.0,
        max_retries: int = 2,
    ) -> None:
        if cache_ttl not in ("5m", "1h"):
            raise ConfigurationError("cache_ttl is '5m' or '1h'")
        self.persona = persona if isinstance(persona, Persona) else load_persona(persona)
        self.session = session
        self.investigation = investigation
        self._requested_model = model
        self.max_tokens = max_tokens
        self.max_input_tokens = max_input_tokens
        self.budget = budget
        self.save_dir = Path(save_dir) if save_dir else None
        self.on_text = on_text
        self.on_tool = on_tool
        self.cache_ttl = cache_ttl
        self._timeout = timeout
        self._max_retries = max_retries
        self._client = client
        self._model: str | None = None
        self._requested_tools = self._known_tools(tools)
        self._messages: list[dict[str, Any]] = []
        self._pending: dict[str, str] = {}  # tool_use ids still owed a result, and that result
        self._toolbox: Toolbox | None = None
        self._approve: Callable[[ToolCall], bool] | None = None
        self._stop = threading.Event()
        self._streamed = False
        self.evidence: Evidence | None = None
        self.answers: list[Answer] = []

    # -- configuration --------------------------------------------------------------------------
    @property
    def model(self) -> str:
        """The model id: the argument, ``WORKBENCH_MODEL``, or the persona's family mapped to
        the newest id the SDK knows, in the client's provider's form (resolved when first
        needed: offline, never)."""
        if self._model is None:
            self._model = provider_model(
                resolve_model(self._requested_model, self.persona), self._provider()
            )
        return self._model

    def _provider(self) -> str:
        name = type(self._client).__name__ if self._client is not None else ""
        if "Bedrock" in name:
            return "bedrock"
        if "Vertex" in name:
            return "vertex"
        return "anthropic"

    @property
    def online(self) -> bool:
        """True when a model will be called (a client was given, or a key is set)."""
        return self._client is not None or any(os.environ.get(k) for k in _SECRET_ENV)

    @property
    def tool_names(self) -> list[str]:
        """The tools the model may call (none without a session; the persona's ``tools:``
        line limits them)."""
        if self.session is None:
            return []
        limited = self.persona.tools
        names = self._requested_tools
        return list(names) if limited is None else [n for n in names if n in limited]

    @staticmethod
    def _known_tools(tools: list[str] | None) -> list[str]:
        from workbench.tools import tool_names

        names = list(tools) if tools is not None else tool_names()
        unknown = [n for n in names if n not in tool_names()]
        if unknown:
            raise ConfigurationError(
                f"no tool named {', '.join(unknown)}", hint=f"the tools are {tool_names()}"
            )
        return names

    def use_persona(self, persona: str | Path | Persona | None) -> None:
        """Speak as another persona from now on (a new conversation; the model is resolved
        again from its ``model:`` line unless one was given)."""
        self.persona = persona if isinstance(persona, Persona) else load_persona(persona)
        self._model = None
        self.evidence = None
        self._messages = []
        self._pending = {}

    def stop(self) -> None:
        """End an investigation between steps (from another thread, the panel's Stop)."""
        self._stop.set()

    # -- public ---------------------------------------------------------------------------------
    def analyze(self, evidence: Evidence, question: str | None = None) -> Answer:
        """Start the conversation about ``evidence`` (a new conversation each time): one
        request, no tools but the findings report."""
        self._start(evidence, toolbox=None)
        path = self._save(evidence)
        if not self.online:
            return self._offline(evidence, path)
        return self._converse(self._opening(evidence, question), path, question, max_steps=0)

    def investigate(
        self,
        question_or_evidence: str | Evidence | None = None,
        *,
        sql: str | None = None,
        max_steps: int = 8,
        approve: Callable[[ToolCall], bool] | None = None,
        max_seconds: float = 300.0,
        max_total_tokens: int = 250_000,
    ) -> Answer:
        """Let the model investigate with the tools, ``max_steps`` calls at most.

        Reads that change nothing run at once; each call that executes a statement or builds
        something is put to ``approve`` (``ToolCall -> bool``); without it those calls are
        denied, and the model is told so. Budgets: ``max_steps`` tool calls, ``max_seconds``
        of wall time, ``max_total_tokens`` over the whole investigation (each request is also
        counted before it is sent, against ``max_input_tokens``); reaching one ends the
        investigation with what was gathered, and the answer says which.
        """
        if self.session is None:
            raise ConfigurationError(
                "investigate() needs a database to investigate",
                hint="wb.Architect(session=s)",
            )
        if not isinstance(max_steps, int) or max_steps < 0:
            raise ConfigurationError("max_steps must be a whole number, 0 or more")
        from workbench.evidence import Evidence
        from workbench.evidence.collect import collect

        executor = self.session.executor
        if isinstance(question_or_evidence, Evidence):
            evidence, question = question_or_evidence, None
        else:
            question = question_or_evidence
            evidence = collect(executor, sql, question=question)
        toolbox = Toolbox(
            executor,
            tools=self.tool_names,
            evidence=evidence,
            budget=max(1_000, self.budget // 2),
            redact_literals=evidence.redact_literals,
        )
        self._start(evidence, toolbox=toolbox)
        self._approve = approve
        path = self._save(evidence)
        if not self.online:
            if sql and not evidence.plans:
                from workbench.explain import explain

                # offline, the rules judge the plan: planning executes nothing
                evidence.plans.append(explain(executor, sql))
                evidence._findings = None
            return self._offline(evidence, path)
        task = question or evidence.question or INVESTIGATE_TASK
        if question:
            task = f"{question}\n\n{INVESTIGATE_TASK}"
        answer = self._converse(
            self._opening(evidence, task),
            path,
            question,
            max_steps=max_steps,
            deadline=time.monotonic() + max_seconds,
            max_total_tokens=max_total_tokens,
        )
        return self._record_answer(
            answer, snippets.investigate_line(question, sql=sql, max_steps=max_steps)
        )

    def ask(self, question: str, *, evidence: Any = None, max_steps: int = 3) -> Answer:
        """A follow-up in the same conversation (persona and history come from the cache).

        ``evidence`` adds something new to the conversation first: a fix trial, a plan, a
        profile, a comparison or an :class:`Evidence`. After :meth:`investigate`, the model
        may call tools again (``max_steps``), approved as before."""
        if self.evidence is None:
            raise ConfigurationError(
                "ask() follows analyze() or investigate(): there is no conversation yet",
                hint="call arch.analyze(ev) first",
            )
        if not question or not question.strip():
            raise ConfigurationError("the question is empty")
        if not self.online:
            answer = Answer(markdown=offline_followup(question), offline=True, question=question)
            self.answers.append(answer)
            return answer
        content: list[dict[str, Any]] = [
            {"type": "tool_result", "tool_use_id": tool_id, "content": text}
            for tool_id, text in self._pending.items()
        ]
        self._pending = {}
        self._stop.clear()
        if evidence is not None:
            kind, text = added_evidence(evidence, self.budget)
            content.append({"type": "text", "text": DATA_PREAMBLE})
            content.append({"type": "text", "text": block(kind, text)})
        content.append({"type": "text", "text": question})
        return self._converse(
            content,
            self._last_path(),
            question,
            max_steps=max_steps if self._toolbox is not None else 0,
        )

    def request(self, evidence: Evidence, question: str | None = None) -> dict[str, Any]:
        """The exact request :meth:`analyze` would send (for inspection; nothing is sent)."""
        return self._params(
            [{"role": "user", "content": self._opening(evidence, question)}], tools=False
        )

    # -- the exchange ---------------------------------------------------------------------------
    def _start(self, evidence: Evidence, *, toolbox: Toolbox | None) -> None:
        self.evidence = evidence
        self._messages = []
        self._pending = {}
        self._toolbox = toolbox
        self._stop.clear()

    def _cache(self) -> dict[str, Any]:
        mark: dict[str, Any] = {"type": "ephemeral"}
        if self.cache_ttl != "5m":
            mark["ttl"] = self.cache_ttl
        return mark

    def _system(self, tools: bool) -> list[dict[str, Any]]:
        names = [t for t in self.tool_names] if tools and self._toolbox is not None else []
        return [
            {"type": "text", "text": self.persona.prompt},
            {"type": "text", "text": protocol_text(names), "cache_control": self._cache()},
        ]

    def _opening(self, evidence: Evidence, question: str | None) -> list[dict[str, Any]]:
        """The first user turn: a note that what follows is data, the evidence (cached: a
        follow-up reads it from the cache), the task."""
        return [
            {"type": "text", "text": DATA_PREAMBLE},
            {
                "type": "text",
                "text": evidence.payload(budget=self.budget),
                "cache_control": self._cache(),
            },
            {"type": "text", "text": question or evidence.question or DEFAULT_TASK},
        ]

    def _params(self, messages: list[dict[str, Any]], *, tools: bool) -> dict[str, Any]:
        messages = copy.deepcopy(messages)
        if len(messages) > 1 and messages[-1]["role"] == "user":
            # the newest turn's own breakpoint: the whole history before it is read from the
            # cache next time (the evidence keeps its own, the system one more: three of four)
            last = messages[-1]["content"][-1]
            if isinstance(last, dict) and "cache_control" not in last:
                last["cache_control"] = self._cache()
        specs = [report_tool()]
        if tools and self._toolbox is not None:
            specs = [*self._toolbox.specs(), *specs]
        return {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": self._system(tools),
            "messages": messages,
            "tools": specs,
            "tool_choice": {"type": "auto"},
        }

    def _converse(
        self,
        content: list[dict[str, Any]],
        path: str | None,
        question: str | None,
        *,
        max_steps: int,
        deadline: float | None = None,
        max_total_tokens: int | None = None,
    ) -> Answer:
        answer = Exchange(
            self, max_steps=max_steps, deadline=deadline, max_total_tokens=max_total_tokens
        ).run(content, path, question)
        if self._streamed and self.on_text is None:
            answer._streamed_in = _execution_count()
        self.answers.append(answer)
        return answer

    def _record_answer(self, answer: Answer, code: str) -> Answer:
        if self.investigation is not None:
            self.investigation.record(answer, title="Architect: answer", code=code)
        return answer

    def _client_or_default(self) -> Any:
        if self._client is None:
            import anthropic

            # the key and endpoint come from the environment only (ANTHROPIC_API_KEY,
            # ANTHROPIC_BASE_URL): never from arguments, widgets or files
            self._client = anthropic.Anthropic(max_retries=self._max_retries, timeout=self._timeout)
        return self._client

    def _emit(self, chunk: str) -> None:
        if self.on_text is not None:
            self.on_text(chunk)
        else:
            self._streamed = self._streamed or bool(chunk.strip())
            sys.stdout.write(chunk)
            sys.stdout.flush()

    # -- offline ----------------------------------------------------------------------------------
    def _offline(self, evidence: Evidence, path: str | None, *, why: str | None = None) -> Answer:
        findings = evidence.findings
        reason = (
            f"the API could not be reached ({why}), so no model was called; these are the "
            "workbench's rules"
            if why
            else None
        )
        answer = Answer(
            markdown=offline_markdown(findings, why=reason),
            findings=list(findings),
            offline=True,
            evidence_path=path,
            notes=[f"offline: {why}"] if why else [],
        )
        self.answers.append(answer)
        return answer

    # -- saving -----------------------------------------------------------------------------------
    def _save(self, evidence: Evidence) -> str | None:
        folder = self.save_dir
        if folder is None:
            from workbench.paths import workbench_home

            folder = workbench_home() / "evidence"
        text = evidence.to_json()
        digest = hashlib.sha256(text.encode()).hexdigest()[:10]
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        try:
            return str(evidence.save(Path(folder) / f"{stamp}-{digest}.json"))
        except OSError:  # a read-only home: the request goes ahead, unsaved
            return None

    def _last_path(self) -> str | None:
        return self.answers[-1].evidence_path if self.answers else None
