"""What a workshop scenario is: a story, a task, the planted query, the reference answer, the
hints, the common wrong answers, and what the check measures.

A scenario's texts may hold ``{placeholders}`` for values read from the learner's own data
(an e-mail address that exists at every scale, the boundary of a deep page):
:meth:`Scenario.bind` fills them from a session, so the planted query, the solution and the
wrong answers are concrete SQL on any scale of the demo data.

>>> from workbench.demo.workshop import SCENARIOS
>>> sc = SCENARIOS[0]
>>> sc.name, sc.kind, len(sc.hints) >= 3
('login_by_email', 'speed', True)
>>> sc.placeholders
('email',)
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from workbench.errors import ConfigurationError

if TYPE_CHECKING:
    from workbench.session import Session

__all__ = ["KINDS", "Answer", "Scenario", "Swap", "WrongAnswer"]

#: what a check measures: ``speed`` (the same rows, at least 10× faster, significant),
#: ``estimate`` (the planner's row estimate), ``spill`` (a sort that fits in memory),
#: ``write_cost`` (a read made fast within a budget of index entries per insert), ``code``
#: (an application function: the same result, no N+1, at least 10× faster)
KINDS = ("speed", "estimate", "spill", "write_cost", "code")

#: an answer: SQL text (DDL, settings and/or the rewritten query), or for ``code`` scenarios a
#: function taking an ORM session
Answer = str | Callable[..., Any] | None

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class WrongAnswer:
    """A common wrong answer, recorded with why it fails (the instructor guide shows both, and
    a check that sees it says why)."""

    answer: str | Callable[..., Any]
    why: str


@dataclass(frozen=True)
class Scenario:
    """One workshop exercise on the demo data.

    ``sql`` is the planted query; ``solution`` the reference answer (DDL and/or a query, or a
    function for ``kind="code"``); ``hints`` reveal the way step by step, the last one close to
    the answer but never the answer; ``explanation`` is shown once the check passes.
    ``fix="query"`` means the task asks for a rewrite: DDL is refused with a reason.
    ``planted`` is the application function a ``code`` scenario starts from. ``tight``: the
    scan of ``table`` must touch about one page per row it returns (an index that serves the
    conditions reads a few pages to find them; one that only narrows a range reads a large
    part of itself, which on small data can still look 10× faster than the table).
    ``setup`` and ``settings`` are applied in the check's rolled-back transaction before
    anything else (the state the story starts from, and rows planted where a careless answer
    goes wrong: a midnight, a tie at a page boundary); ``lookups`` give each placeholder's
    value as a query on the demo data. ``variants`` give a second value for the placeholders
    an answer's query must carry: the check runs the answer again with those (an answer
    written for one value, a partial index on it or the expected rows typed in, fails there).
    """

    name: str
    chapter: str
    title: str
    story: str
    task: str
    sql: str
    solution: str | Callable[..., Any]
    hints: tuple[str, ...]
    wrong_answers: tuple[WrongAnswer, ...]
    objectives: tuple[str, ...]
    minutes: int
    explanation: str
    kind: str = "speed"
    ordered: bool = False
    fix: str = "any"
    table: str | None = None
    setup: tuple[str, ...] = ()
    settings: Mapping[str, str] = field(default_factory=dict)
    lookups: Mapping[str, str] = field(default_factory=dict)
    variants: Mapping[str, str] = field(default_factory=dict)
    write_sql: str | None = None
    index_only: bool = False
    tight: bool = False
    planted: Callable[..., Any] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigurationError(f"unknown scenario kind {self.kind!r}", hint=str(KINDS))
        missing = set(self.placeholders) - set(self.lookups)
        if missing:
            raise ConfigurationError(f"{self.name}: no lookup for {sorted(missing)}")
        strays = set(self.variants) - set(self.lookups)
        if strays:
            raise ConfigurationError(f"{self.name}: variants of no placeholder: {sorted(strays)}")

    @property
    def topic(self) -> str:
        """The chapter as the student sees it: the topic, not the technique that solves it.

        >>> wb.demo.workshop.scenario("login_by_email").topic
        '1 · Functions in WHERE'
        """
        return self.chapter.split(":", 1)[0]

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The ``{names}`` in the scenario's texts (SQL and prose), in order of appearance."""
        texts = [self.sql, self.write_sql or "", *self.setup, self.title, self.story, self.task]
        texts += [w.why for w in self.wrong_answers]
        texts += [
            t
            for t in (self.solution, *(w.answer for w in self.wrong_answers))
            if isinstance(t, str)
        ]
        seen: dict[str, None] = {}
        for text in texts:
            for match in _PLACEHOLDER.finditer(text):
                seen.setdefault(match.group(1), None)
        return tuple(seen)

    @property
    def bound(self) -> bool:
        """Whether the texts hold concrete values (no placeholder left)."""
        return not self.placeholders

    def bind(self, session: Session) -> Scenario:
        """This scenario with its placeholders filled from ``session``'s demo data (cached per
        database: the data does not change).

        >>> sc = wb.demo.workshop.scenario("orders_of_a_day")
        >>> sc.bind(s).sql == sc.sql            # nothing to fill in this one
        True
        """
        if self.bound:
            return self
        values = _values(session, self)
        return replace(
            self,
            sql=fill(self.sql, values),
            solution=fill(self.solution, values)
            if isinstance(self.solution, str)
            else self.solution,
            wrong_answers=tuple(
                replace(
                    w,
                    answer=fill(w.answer, values) if isinstance(w.answer, str) else w.answer,
                    why=fill(w.why, values),
                )
                for w in self.wrong_answers
            ),
            setup=tuple(fill(s, values) for s in self.setup),
            write_sql=fill(self.write_sql, values) if self.write_sql else None,
            title=fill(self.title, values),
            story=fill(self.story, values),
            task=fill(self.task, values),
            lookups={},
            variants={},
        )

    def swaps(self, session: Session, *, draws: int = 2) -> list[list[Swap]]:
        """For each of ``draws`` draws: each placeholder with a variant, its value and another
        one from ``session``'s data (what the check puts in place of the first). The variants'
        queries pick at random (``{draw}`` is the draw's number, from 0, for spreading them
        over the data): an answer cannot be tailored to the values it will be tried with."""
        if not self.variants:
            return []
        values = _values(session, self)
        out = []
        for draw in range(draws):
            others = {}
            for name, lookup in self.variants.items():
                rows = session.execute(lookup.replace("{draw}", str(draw))).rows
                if not rows or rows[0][0] is None:
                    raise ConfigurationError(f"{self.name}: the demo data has no other {name}")
                others[name] = rows[0][0]
            out.append([Swap(name, values[name], others[name]) for name in self.variants])
        return out


@dataclass(frozen=True)
class Swap:
    """A value of the task (as the texts show it) and the other value the check tries."""

    name: str
    value: Any
    other: Any

    def apply(self, text: str) -> str:
        """``text`` with this value replaced by the other one (strings in any case, numbers
        as whole numbers only).

        >>> Swap("user", 213, 4071).apply("WHERE user_id = 213 AND total > 2130")
        'WHERE user_id = 4071 AND total > 2130'
        >>> Swap("email", "ada@x.org", "bob@y.org").apply("lower('Ada@X.org')")
        "lower('bob@y.org')"
        >>> at, then = datetime(2024, 3, 23, 18, 53, 38), datetime(2024, 9, 2, 14, 6, 18)
        >>> Swap("last", at, then).apply("< ('2024-03-23T18:53:38', 7)")
        "< ('2024-09-02 14:06:18', 7)"
        """
        return self._pattern().sub(lambda _: str(self.other), text)

    def _pattern(self) -> re.Pattern[str]:
        value = str(self.value)
        if isinstance(self.value, int) and not isinstance(self.value, bool):
            return re.compile(rf"(?<![\w.]){re.escape(value)}(?![\w.])")
        if isinstance(self.value, datetime):
            # as the story shows it, or in ISO form ('T'), fractions of a second as written
            day, _, clock = value.partition(" ")
            whole, _, fraction = clock.partition(".")
            fraction = fraction.rstrip("0")
            tail = rf"\.{fraction}0*" if fraction else r"(?:\.0+)?"
            return re.compile(rf"{re.escape(day)}[ T]{re.escape(whole)}{tail}(?![\d])")
        return re.compile(re.escape(value), re.IGNORECASE)

    def found_in(self, text: str) -> bool:
        """Whether ``text`` holds this value."""
        return self.apply(text) != text


def fill(text: str, values: Mapping[str, Any]) -> str:
    """``text`` with each ``{name}`` replaced by its value (other braces left alone).

    >>> fill("WHERE id = {user}", {"user": 42})
    'WHERE id = 42'
    """
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


# values per database: weakly keyed by the Engine, so a closed session's cache goes with it
_VALUES: weakref.WeakKeyDictionary[Any, dict[str, dict[str, Any]]] = weakref.WeakKeyDictionary()


def _values(session: Session, scenario: Scenario) -> dict[str, Any]:
    cache = _VALUES.setdefault(session.engine, {})
    if scenario.name not in cache:
        values: dict[str, Any] = {}
        for name in scenario.placeholders:
            rows = session.execute(scenario.lookups[name]).rows
            if not rows or rows[0][0] is None:
                raise ConfigurationError(
                    f"{scenario.name}: the demo data has no value for {{{name}}}",
                    hint="load the demo data (wb.demo.load) at a scale of 0.05 or more",
                )
            values[name] = rows[0][0]
        cache[scenario.name] = values
    return cache[scenario.name]
