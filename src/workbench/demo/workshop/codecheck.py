"""Checking an application-code answer (the ORM's N+1): the learner's function runs under
``s.capture()`` on an ORM session whose work is rolled back; its result must equal the
planted handler's, it must send no repeated statement, and it must be at least 10× faster
(profiles of both handlers, compared)."""

from __future__ import annotations

import inspect
import secrets
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from workbench.demo.workshop.measure import REQUIRED_SPEEDUP, fast_enough, verdict
from workbench.demo.workshop.result import CheckResult

if TYPE_CHECKING:
    from workbench.demo.workshop.model import Scenario
    from workbench.profiling.result import Profile
    from workbench.session import Session

__all__ = ["MAX_STATEMENTS", "check_code", "run_handler"]

#: statements a fixed handler may send (eager loading takes one or two per relationship)
MAX_STATEMENTS = 5
#: runs of each handler's profile (the planted one takes seconds at scale 1)
PLANTED_RUNS = 5
#: the answer is fast: more runs, so that one slow call (a checkpoint, a cold page) among them
#: cannot make a 15× difference "inconclusive" (with 7 against 5, one call slower than every
#: planted one already moved p to 0.05)
ANSWER_RUNS = 15

# per database: the planted handler's result and profile (it takes seconds; the data and the
# handler do not change while a session lives)
_PLANTED: weakref.WeakKeyDictionary[Any, dict[str, tuple[Any, Profile | None]]] = (
    weakref.WeakKeyDictionary()
)


def run_handler(session: Session, handler: Callable[..., Any], *, setup: Sequence[str] = ()) -> Any:
    """Call ``handler(db)`` with an ORM session on ``session``'s database, inside a
    transaction that is rolled back afterwards (a ``db.commit()`` only ends a savepoint).
    ``setup``: statements run first in that transaction (the check's planted rows)."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session as OrmSession

    with session.engine.connect() as conn:
        outer = conn.begin()
        for statement in setup:
            conn.execute(text(statement))
        db = OrmSession(bind=conn, join_transaction_mode="create_savepoint")
        try:
            return handler(db)
        finally:
            db.close()
            outer.rollback()


def check_code(session: Session, scenario: Scenario, answer: Any) -> CheckResult:
    """Check the function ``answer`` against the scenario's planted handler."""
    name = scenario.name
    if not callable(answer):
        return CheckResult(
            name,
            False,
            wrong=[f"this scenario's answer is a Python function, not {type(answer).__name__}"],
            next="def my_list_users(db): ... return the same list list_users(db) returns; "
            "then check(s, name, my_list_users)",
        )
    planted = scenario.planted
    assert planted is not None, "a code scenario names its planted handler"
    # the check's own rows (orders, at random, for users who had none) come first, in the
    # rolled-back transaction: a result computed earlier, or one that leaves the orders out,
    # differs; the first call's rows are the same each time (seeded), so the planted handler's
    # result is computed once per database
    setup = _seeded(scenario.setup, FIRST_SEED)
    expected = _planted(session, name, planted, setup)[0]
    with session.capture() as cap:
        try:
            got = run_handler(session, answer, setup=setup)
        except NotImplementedError:
            return CheckResult(
                name,
                False,
                wrong=["no answer yet: my_list_users raises NotImplementedError"],
                next="write the function's body, run its cell, then run this check again",
                answered=False,
            )
        except Exception as exc:  # the learner's code: say what it raised, where
            return CheckResult(
                name,
                False,
                wrong=[
                    f"your function raised {type(exc).__name__}: "
                    + (str(exc).splitlines()[0] if str(exc) else "")
                ],
                next="run it on its own first: run_handler(s, my_list_users)",
            )
    same, detail = _same_result(expected, got)
    if not same:
        return CheckResult(
            name, False, wrong=[detail], next="compare with list_users(db), field by field"
        )
    right = [f"the same {len(expected)} users, fields and order as list_users"]
    sent = _queries(cap, setup)
    repeated = cap.n_plus_one()
    if repeated:
        group = repeated[0]
        where = "; ".join(group.get("call_sites") or []) or "your code"
        return CheckResult(
            name,
            False,
            right=right,
            wrong=[
                f"{sent} statements, one of them {group['count']} times "
                f"({group.get('sql', '')[:90]}…) from {where}: still an N+1"
            ],
            next=scenario.hints[-1],
        )
    if sent > MAX_STATEMENTS:
        return CheckResult(
            name,
            False,
            right=right,
            wrong=[f"{sent} statements; a constant few (at most {MAX_STATEMENTS}) will do"],
            next=scenario.hints[-1],
        )
    right.append(f"{sent} statement{'s' if sent != 1 else ''}, none repeated")
    before = _planted(session, name, planted, setup, profiled=True)[1]
    assert before is not None
    # each timed call on other rows (a new seed): every result must match that call's data, as
    # the reference solution reads it (a result kept from an earlier call does not)
    calls: list[tuple[float, Any]] = []

    def timed_call() -> None:
        seed = secrets.randbelow(2_000_001) / 1_000_000 - 1.0
        calls.append((seed, run_handler(session, answer, setup=_seeded(scenario.setup, seed))))

    after = session.profile(timed_call, runs=ANSWER_RUNS, warmup=1, label="your answer")
    reference = scenario.solution
    assert callable(reference), "a code scenario's solution is a function"
    for number, (seed, result) in enumerate(calls, start=1):
        want = run_handler(session, reference, setup=_seeded(scenario.setup, seed))
        same, detail = _same_result(want, result)
        if not same:
            return CheckResult(
                name,
                False,
                right=right,
                wrong=[
                    f"call {number} of {len(calls)} (on other rows) returned another result: "
                    f"{detail}; does your function keep results between calls?"
                ],
                next="read the data on every call: the page must show the orders as they are",
            )
    comparison = before.compare(after)
    result = CheckResult(name, False, right, comparison=comparison)
    if fast_enough(comparison):
        result.right.append(comparison.verdict)
        result.passed = True
        result.next = scenario.explanation
    else:
        result.wrong.append(f"{verdict(comparison)}; the bar is {REQUIRED_SPEEDUP:g}× faster")
        result.next = "profile it: s.profile(lambda: run_handler(s, my_list_users), runs=5)"
    return result


_BOOKKEEPING = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "END")


def _queries(cap: Any, setup: Sequence[str]) -> int:
    """The handler's queries: not the check's own rows, nor the savepoints its ORM session
    takes in the check's transaction (``db.commit()`` there only releases one)."""
    handler = [e for e in cap.entries if _first_word(e.sql) not in _BOOKKEEPING]
    return max(0, len(handler) - len(setup))


def _first_word(sql: str) -> str:
    words = sql.split(None, 1)
    return words[0].upper() if words else ""


#: the seed of the check's first call (the planted handler's result for it is kept)
FIRST_SEED = 0.42


def _seeded(setup: Sequence[str], seed: float) -> list[str]:
    """``setup`` after ``setseed``: its random() gives the same rows for the same seed."""
    return [f"SELECT setseed({seed!r})", *setup] if setup else []


def _planted(
    session: Session,
    name: str,
    handler: Callable[..., Any],
    setup: Sequence[str],
    *,
    profiled: bool = False,
) -> tuple[Any, Profile | None]:
    cache = _PLANTED.setdefault(session.engine, {})
    result, profile = cache.get(name, (None, None))
    if result is None:
        result = run_handler(session, handler, setup=setup)
    if profiled and profile is None:
        profile = session.profile(
            lambda: run_handler(session, handler, setup=setup),
            runs=PLANTED_RUNS,
            warmup=1,
            label="planted",
        )
    cache[name] = (result, profile)
    return result, profile


def _same_result(expected: list[dict[str, Any]], got: Any) -> tuple[bool, str]:
    if not isinstance(got, list | tuple):
        return (
            False,
            f"your function returned {type(got).__name__}; list_users returns a list of dicts",
        )
    if len(got) != len(expected):
        return False, f"your function returned {len(got)} items; list_users returns {len(expected)}"
    for i, (want, have) in enumerate(zip(expected, got, strict=True)):
        if not isinstance(have, dict):
            return False, f"item {i + 1} is a {type(have).__name__}, not a dict like list_users'"
        if set(have) != set(want):
            return False, (
                f"item {i + 1} has the keys {sorted(have)}; list_users' items have {sorted(want)}"
            )
        for key in want:
            if _plain(have[key]) != _plain(want[key]):
                return False, (
                    f"item {i + 1} (user {want.get('id')}): {key} is {have[key]!r}, "
                    f"list_users says {want[key]!r}"
                )
    return True, ""


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


def describe(handler: Callable[..., Any]) -> str:
    """A handler's source, for the instructor guide."""
    try:
        return inspect.getsource(handler)
    except (OSError, TypeError):
        return repr(handler)
