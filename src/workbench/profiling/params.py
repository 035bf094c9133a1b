"""Parameters for profiled statements: constants, lists, callables and random draws.

A benchmark that looks up the same row every time measures a cache. ``params`` says how each
execution gets its values:

* a dict — the same values every time; values may be :func:`uniform` or :func:`choice`
  draws, new for each execution (``{"id": wb.uniform(1, 100_000)}``);
* a list of dicts — used in turn;
* a callable ``i -> dict`` — called for execution ``i``.

Values are computed before the timed loop starts (the callable is not timed, and works with
any lambda, even with worker processes); random draws are seeded, so a rerun uses the same
values. For pgbench, constants and draws become ``-D`` definitions and ``\\set`` commands.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.errors import ConfigurationError

__all__ = ["ParamSource", "choice", "uniform"]

#: values computed ahead for open-ended (duration) runs; reused in turn past that
POOL_SIZE = 100_000


@dataclass(frozen=True)
class _Uniform:
    low: int
    high: int

    def draw(self, rng: random.Random) -> int:
        return rng.randint(self.low, self.high)

    def __repr__(self) -> str:
        return f"uniform({self.low}, {self.high})"


@dataclass(frozen=True)
class _Choice:
    values: tuple[Any, ...]

    def draw(self, rng: random.Random) -> Any:
        return self.values[rng.randrange(len(self.values))]

    def __repr__(self) -> str:
        return f"choice({len(self.values)} values)"


def uniform(low: int, high: int) -> Any:
    """A random integer in ``[low, high]`` for each execution.

    >>> import workbench as wb
    >>> spec = {"id": wb.uniform(1, 100_000)}
    """
    if not isinstance(low, int) or not isinstance(high, int) or low > high:
        raise ConfigurationError(f"uniform({low!r}, {high!r}) needs two integers, low ≤ high")
    return _Uniform(low, high)


def choice(values: Sequence[Any]) -> Any:
    """One of ``values`` at random for each execution."""
    values = tuple(values)
    if not values:
        raise ConfigurationError("choice() needs at least one value")
    return _Choice(values)


class ParamSource:
    """Turns ``params`` into one value mapping per execution."""

    def __init__(self, params: Any, *, seed: int = 12345) -> None:
        self.params = params
        self.seed = seed
        if params is None or isinstance(params, Mapping):
            self.kind = "constant" if not _draws(params or {}) else "random"
        elif callable(params):
            self.kind = "callable"
        elif isinstance(params, Sequence) and not isinstance(params, str | bytes):
            if not params or not all(isinstance(p, Mapping) for p in params):
                raise ConfigurationError(
                    "params as a list must be a non-empty list of dicts",
                    hint="e.g. params=[{'id': 1}, {'id': 2}]",
                )
            self.kind = "list"
        else:
            raise ConfigurationError(
                "params must be a dict, a list of dicts or a callable, not "
                f"{type(params).__name__}",
                hint="e.g. params={'id': wb.uniform(1, 100_000)} or params=lambda i: {'id': i}",
            )

    @property
    def named(self) -> bool:
        return self.params is not None

    def describe(self) -> str:
        """How the values were given, without the values themselves (they can be personal
        data, and this description goes into evidence, investigations and reports): random
        draws show their range, constants show as ``?``.

        >>> ParamSource({"email": "ada@example.com", "id": uniform(1, 99)}).describe()
        '{email: ?, id: uniform(1, 99)}'
        """
        if self.params is None:
            return "none"
        if self.kind == "callable":
            return f"callable {getattr(self.params, '__name__', '')}".strip()
        if self.kind == "list":
            return f"list of {len(self.params)}"
        shown = ", ".join(
            f"{name}: {value!r}" if isinstance(value, _Uniform | _Choice) else f"{name}: ?"
            for name, value in dict(self.params).items()
        )
        return "{" + shown + "}"

    def values(self, count: int) -> list[Mapping[str, Any]]:
        """The mappings for executions ``0 .. count-1`` (computed now, outside any timing)."""
        if self.params is None:
            return [{}]
        if self.kind == "constant":
            return [dict(self.params)]
        if self.kind == "list":
            return [self.params[i % len(self.params)] for i in range(count)]
        if self.kind == "callable":
            fn: Callable[[int], Mapping[str, Any]] = self.params
            out = []
            for i in range(count):
                value = fn(i)
                if not isinstance(value, Mapping):
                    raise ConfigurationError(
                        f"params({i}) returned a {type(value).__name__}, not a dict",
                        hint="the callable takes the execution number and returns {name: value}",
                    )
                out.append(value)
            return out
        rng = random.Random(self.seed)  # noqa: S311 - test data, reproducible, not secrets
        spec = dict(self.params)
        return [
            {k: (v.draw(rng) if isinstance(v, _Uniform | _Choice) else v) for k, v in spec.items()}
            for _ in range(count)
        ]

    def pgbench(self) -> tuple[list[str], dict[str, str]] | None:
        """``(\\set lines, -D definitions)`` for pgbench, or ``None`` when pgbench cannot express
        these parameters (lists, callables, random choices)."""
        if self.params is None:
            return [], {}
        if self.kind not in ("constant", "random"):
            return None
        lines: list[str] = []
        defines: dict[str, str] = {}
        for name, value in dict(self.params).items():
            if not name.isidentifier():
                return None
            if isinstance(value, _Uniform):
                lines.append(f"\\set {name} random({value.low}, {value.high})")
            elif isinstance(value, _Choice | bool) or value is None:
                return None
            elif isinstance(value, int | float | str):
                defines[name] = str(value)
            else:
                return None
        return lines, defines


def _draws(spec: Mapping[str, Any]) -> bool:
    return any(isinstance(v, _Uniform | _Choice) for v in spec.values())
