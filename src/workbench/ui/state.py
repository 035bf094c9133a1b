"""What the panel knows, as one object every tab draws from.

The current statement and what belongs to it (its plan, findings, the architect's answer, fix
trials) live together: a new statement clears them, so no tab shows the results of an earlier
query. Profiles are kept as a history across statements, each with the statement it measured
and the notebook name it was given (``prof_1``, ``prof_2``, ...), so Compare can offer the
pairs that make sense and refuse the ones that do not.

>>> state = PanelState()
>>> state.begin(Statement("SELECT 1", None))
True
>>> state.begin(Statement("select  1", None))   # the same statement: nothing is cleared
False
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.errors import ConfigurationError
from workbench.fingerprint import fingerprint

if TYPE_CHECKING:
    from workbench.architect import Answer
    from workbench.capture import Capture
    from workbench.findings import Finding
    from workbench.fixes import FixTrial
    from workbench.plans.model import Plan
    from workbench.profiling.result import Comparison, Profile

__all__ = ["Measured", "PanelState", "Statement"]


@dataclass(frozen=True)
class Statement:
    """The editor's statement and its parameters, as an action ran it."""

    sql: str
    params: dict[str, Any] | None
    #: an HTTP endpoint ("GET http://..."), not a SQL statement
    endpoint: bool = False

    @property
    def key(self) -> str:
        """The same statement whatever its spacing, case or values: its fingerprint; the same
        endpoint whatever its query string: its method and path."""
        if self.endpoint:
            from urllib.parse import urlsplit

            method, _, url = self.sql.partition(" ")
            parts = urlsplit(url)
            return f"{method} {parts.netloc}{parts.path}"
        return fingerprint(self.sql)

    def short(self, width: int = 70) -> str:
        return fmt.clip(self.sql, width)

    @classmethod
    def from_editor(cls, sql: str, params: str) -> Statement:
        """The statement as typed, its parameters as a JSON object (used when the statement
        has ``:name`` placeholders).

        >>> Statement.from_editor("SELECT * FROM t WHERE id = :id", '{"id": 7}').params
        {'id': 7}
        """
        sql, text = sql.strip(), params.strip()
        if not sql:
            raise ConfigurationError("type a statement in the editor first")
        if not text or ":" not in sql:
            return cls(sql, None)
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(
                f"params is not JSON: {exc.msg}", hint='write a JSON object, e.g. {"id": 42}'
            ) from None
        if not isinstance(values, dict):
            raise ConfigurationError("params must be a JSON object", hint='e.g. {"id": 42}')
        return cls(sql, values)


@dataclass
class Measured:
    """One profile of the history, with the statement it measured and its notebook name."""

    number: int
    profile: Profile
    statement: Statement

    @property
    def name(self) -> str:
        return f"prof_{self.number}"

    def describe(self) -> str:
        summary = self.profile.summary()
        return (
            f"{self.name}: {self.statement.short(50)} — p50 {fmt.milliseconds(summary['p50'])}, "
            f"{fmt.count(summary['runs'])} runs"
        )


@dataclass
class PanelState:
    """The panel's state; see the module docstring."""

    statement: Statement | None = None
    plan: Plan | None = None
    findings: list[Finding] | None = None  # None: not computed for this statement yet
    findings_line: str | None = None
    answer: Answer | None = None
    trials: list[FixTrial] = field(default_factory=list)
    comparison: Comparison | None = None
    compared: tuple[str, str] | None = None
    profiles: list[Measured] = field(default_factory=list)
    capture: Capture | None = None
    error: str | None = None

    def begin(self, statement: Statement) -> bool:
        """An action on ``statement``: when it is a different statement, what belonged to the
        previous one goes (the profile history stays). Returns whether it was new."""
        self.error = None
        if self.statement is not None and self.statement.key == statement.key:
            self.statement = statement  # new parameter values: the same statement
            return False
        self.statement = statement
        self.plan = None
        self.findings = None
        self.findings_line = None
        self.answer = None
        self.trials = []
        self.comparison = None
        self.compared = None
        return True

    def add_profile(self, profile: Profile, statement: Statement) -> Measured:
        measured = Measured(len(self.profiles) + 1, profile, statement)
        self.profiles.append(measured)
        return measured

    @property
    def current_profiles(self) -> list[Measured]:
        """The profiles of the current statement, oldest first."""
        if self.statement is None:
            return []
        return [m for m in self.profiles if m.statement.key == self.statement.key]

    @property
    def latest_profile(self) -> Measured | None:
        current = self.current_profiles
        return current[-1] if current else None

    def default_pair(self) -> tuple[Measured, Measured] | None:
        """The last two profiles of the current statement (before, after), if there are two."""
        current = self.current_profiles
        return (current[-2], current[-1]) if len(current) >= 2 else None

    def measured(self, name: str) -> Measured:
        for m in self.profiles:
            if m.name == name:
                return m
        raise KeyError(name)
