"""Comparing an answer's rows with the planted query's: the same values (numbers as
numbers, column names aside), in order only where the task is about order; and what differs,
in words a learner can act on.

>>> from types import SimpleNamespace as Rows
>>> planted = Rows(columns=["a"], rows=[(1,), (2,)])
>>> answer = Rows(columns=["x"], rows=[(2,), (1.0,)])
>>> same_rows(planted, answer, ordered=False)
(True, '')
>>> same_rows(planted, answer, ordered=True)
(False, 'the right rows in another order, and this task is about their order')
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt

if TYPE_CHECKING:
    from workbench.execution import Result

__all__ = ["count", "rows_text", "same_rows"]


def count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def rows_text(reference: Result, *, ordered: bool) -> str:
    n = len(reference.rows)
    return f"the same {count(n, 'row')} as the planted query" + (
        ", in the same order" if ordered and n > 1 else ""
    )


def same_rows(expected: Result, got: Result, *, ordered: bool) -> tuple[bool, str]:
    """Whether ``got`` holds the rows of ``expected`` (in order when ``ordered``), and if not,
    what differs, in words. Column names do not count; values do (numbers compare as numbers).
    """
    if len(expected.columns) != len(got.columns):
        return False, (
            f"your query returns {count(len(got.columns), 'column')} ({', '.join(got.columns)}); "
            f"the planted query returns {count(len(expected.columns), 'column')} "
            f"({', '.join(expected.columns)})"
        )
    want = [_row(r) for r in expected.rows]
    have = [_row(r) for r in got.rows]
    if not ordered:
        want, have = sorted(want, key=repr), sorted(have, key=repr)
    if want == have:
        return True, ""
    if len(want) != len(have):
        return (
            False,
            f"your query returns {count(len(have), 'row')}; the planted query returns "
            f"{count(len(want), 'row')}",
        )
    if sorted(want, key=repr) == sorted(have, key=repr):
        return False, "the right rows in another order, and this task is about their order"
    differ = [i for i, (a, b) in enumerate(zip(want, have, strict=True)) if a != b]
    first = differ[0]
    return False, (
        f"{len(differ):,} of {len(want):,} rows differ (row {first + 1}: "
        f"{fmt.clip(repr(have[first]), 80)} where {fmt.clip(repr(want[first]), 80)} was expected)"
    )


def _row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(_value(v) for v in row)


def _value(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else round(float(value), 6)
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, 6)
    if isinstance(value, memoryview):
        return bytes(value)
    return value
