"""The Python line of each action: what the panel shows under its buttons, what the guided
demo records, and what a report's reproduction appendix prints. One builder per action, so
the three always agree and a line pasted into a new cell runs after the ones before it.

Every value from a person or a database goes in as a ``repr`` literal (a query can never turn
into code), and comments are folded onto one line.

>>> explain_line("SELECT * FROM orders WHERE id = :id", analyze=True, params={"id": 7})
"plan = s.explain('SELECT * FROM orders WHERE id = :id', analyze=True, params={'id': 7})"
>>> profile_line("SELECT 1", runs=200, concurrency=4, name="after")
"after = s.profile('SELECT 1', runs=200, concurrency=4)"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench import formatting as fmt

__all__ = [
    "ask_line",
    "capture_lines",
    "comment",
    "compare_line",
    "connect_line",
    "evidence_line",
    "explain_line",
    "export_line",
    "findings_line",
    "investigate_line",
    "profile_http_line",
    "profile_line",
    "try_fix_line",
]


def comment(value: Any, width: int = 120) -> str:
    """Text safe inside a Python comment: one line, bounded."""
    return fmt.clip(str(value), width)


def _options(**options: Any) -> str:
    """``, name=value`` for each option that differs from its default (given as ``None``)."""
    return "".join(f", {name}={value!r}" for name, value in options.items() if value is not None)


def connect_line(*, demo: bool = False, described: str | None = None) -> str:
    """The session: the demo database, or a URL kept out of the line (secrets stay out)."""
    if demo:
        return "s = wb.demo.connect()" + (f"  # {comment(described)}" if described else "")
    line = 's = wb.connect(os.environ["DATABASE_URL"])'
    return line + (f"  # {comment(described)}" if described else "")


def explain_line(
    sql: str,
    *,
    analyze: bool = False,
    params: Mapping[str, Any] | Sequence[Any] | None = None,
    allow_writes: bool = False,
    settings: Mapping[str, Any] | None = None,
    name: str = "plan",
) -> str:
    options = _options(
        analyze=analyze or None,
        params=params or None,
        allow_writes=allow_writes or None,
        settings=dict(settings) if settings else None,
    )
    return f"{name} = s.explain({sql!r}{options})"


def profile_line(
    sql: str,
    *,
    runs: int | None = None,
    warmup: int | None = None,
    concurrency: int = 1,
    params: Any = None,
    allow_writes: bool = False,
    name: str = "prof",
) -> str:
    return (
        f"{name} = s.profile({sql!r}"
        + _options(
            runs=runs,
            warmup=warmup,
            concurrency=concurrency if concurrency > 1 else None,
            params=params or None,
            allow_writes=allow_writes or None,
        )
        + ")"
    )


def profile_http_line(
    url: str,
    *,
    method: str = "GET",
    runs: int | None = None,
    concurrency: int = 1,
    curl: bool = False,
    name: str = "prof",
) -> str:
    """An endpoint's profile; ``url`` as shown (secrets masked). ``curl``: the request came as
    a curl command line, held in the notebook's ``curl`` variable (its headers may be secret).

    >>> profile_http_line("http://127.0.0.1:8000/api/users", runs=20, name="prof_2")
    "prof_2 = s.profile_http('http://127.0.0.1:8000/api/users', runs=20)"
    """
    target = "curl=curl" if curl else repr(url)
    options = _options(
        method=method if method != "GET" and not curl else None,
        runs=runs,
        concurrency=concurrency if concurrency > 1 else None,
    )
    return f"{name} = s.profile_http({target}{options})"


def compare_line(before: str = "before", after: str = "after", *, name: str = "comparison") -> str:
    return f"{name} = {before}.compare({after})"


def capture_lines(code: str = "app_code()", *, where: str | None = None) -> str:
    """A capture around app code, then its N+1 candidates."""
    site = f"  # the code at {comment(where)}" if where else ""
    return f"with s.capture() as cap:\n    {code}{site}\ncap.repeated"


def evidence_line(
    sql: str | None = None,
    *,
    plan: str | None = None,
    profile: str | None = None,
    capture: str | None = None,
    name: str = "ev",
) -> str:
    """``ev = s.evidence(...)`` naming the variables that hold the plan, profile, capture."""
    args = [repr(sql)] if sql else []
    args += [f"{k}={v}" for k, v in (("plan", plan), ("profile", profile), ("capture", capture))]
    args = [a for a in args if not a.endswith("=None")]
    return f"{name} = s.evidence({', '.join(args)})"


def findings_line(evidence: str = "ev", *, name: str = "findings") -> str:
    return f"{name} = wb.analyze({evidence})"


def ask_line(
    question: str | None = None,
    *,
    evidence: str = "ev",
    follow_up: bool = False,
    architect: str = "arch",
    name: str = "answer",
) -> str:
    """The architect's analysis of ``evidence``, or a follow-up question in the conversation."""
    if follow_up:
        return f"{name} = {architect}.ask({question!r})"
    question_option = _options(question=question or None)
    return (
        f"{architect} = wb.Architect()\n{name} = {architect}.analyze({evidence}{question_option})"
    )


def investigate_line(
    question: str | None = None,
    *,
    sql: str | None = None,
    evidence: str | None = None,
    max_steps: int = 8,
    persona: str | None = None,
    architect: str = "arch",
    name: str = "answer",
) -> str:
    """The architect investigating by itself with the session's tools, from a question (or
    the ``evidence`` variable's evidence, whose question it is).

    >>> print(investigate_line("why?", sql="SELECT 1", max_steps=4))
    arch = wb.Architect(session=s)
    answer = arch.investigate('why?', sql='SELECT 1', max_steps=4, approve=wb.prompt_approval)
    """
    args = [evidence] if evidence else ([repr(question)] if question else [])
    if sql:
        args.append(f"sql={sql!r}")
    if max_steps != 8:
        args.append(f"max_steps={max_steps}")
    args.append("approve=wb.prompt_approval")
    persona_arg = f"{persona!r}, " if persona else ""
    made = f"{architect} = wb.Architect({persona_arg}session=s)"
    return f"{made}\n{name} = {architect}.investigate({', '.join(args)})"


def try_fix_line(
    fix: str,
    sql: str,
    *,
    params: Mapping[str, Any] | Sequence[Any] | None = None,
    fix_is_code: bool = False,
    name: str = "trial",
) -> str:
    """``trial = s.try_fix(...)``; ``fix_is_code``: ``fix`` is a Python expression (a finding
    such as ``findings[0]``), not SQL text."""
    fix_text = fix if fix_is_code else repr(fix)
    return f"{name} = s.try_fix({fix_text}, sql={sql!r}" + _options(params=params or None) + ")"


def export_line(path: str, *, investigation: str = "inv") -> str:
    return f"{investigation}.export({path!r})"
