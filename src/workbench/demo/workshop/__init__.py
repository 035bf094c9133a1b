"""The workshop: thirteen graded scenarios on the demo data, a class on one server, notes for
the teacher.

>>> import workbench.demo.workshop as ws
>>> len(ws.SCENARIOS) >= 12
True
>>> [sc.name for sc in ws.SCENARIOS][:3]
['login_by_email', 'search_by_fragment', 'orders_of_a_day']
>>> ws.check(s, "orders_of_a_day", "SELECT 1", record=False).wrong     # s: SQLite here
["the workshop's checks run on PostgreSQL with the demo data; this session is sqlite"]

In a notebook (``notebooks/03-workshop.ipynb``)::

    s = ws.connect()                      # the class database, or the embedded PostgreSQL
    sc = ws.show(s, "login_by_email")     # the story, the task, the planted query
    s.explain(sc.sql, analyze=True)
    ws.hints("login_by_email")            # one more hint at each press
    ws.check(s, "login_by_email", answer) # right? what was wrong? what next? (recorded)

A check never trusts one timing: it compares the answer's rows with the planted query's, then
measures both many times in one transaction that is rolled back and judges the difference with
the profile statistics (:class:`~workbench.profiling.result.Comparison`). See
:func:`check` for what each kind of scenario is judged on, ``docs/workshop-instructor.md`` (or
:func:`instructor_guide`) for the solutions, and :mod:`~workbench.demo.workshop.classroom`
for a class of thirty.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from workbench.demo.workshop.answers import normalized
from workbench.demo.workshop.catalogue import PRIMER, PRIMER_SQL, SCENARIOS, scenario
from workbench.demo.workshop.classroom import (
    DEFAULT_SCALE,
    ClassSetup,
    LearnerDatabase,
    connect,
    setup,
    teardown,
)
from workbench.demo.workshop.codecheck import check_code, run_handler
from workbench.demo.workshop.display import hints, show
from workbench.demo.workshop.guide import instructor_guide
from workbench.demo.workshop.measure import REQUIRED_SPEEDUP
from workbench.demo.workshop.model import Answer, Scenario, WrongAnswer
from workbench.demo.workshop.progress import ClassReport, progress, record, report, results_dir
from workbench.demo.workshop.progress import record as _record_result
from workbench.demo.workshop.result import CheckResult
from workbench.demo.workshop.sqlcheck import check_sql

if TYPE_CHECKING:
    from workbench.session import Session

__all__ = [
    "DEFAULT_SCALE",
    "PRIMER",
    "PRIMER_SQL",
    "REQUIRED_SPEEDUP",
    "SCENARIOS",
    "Answer",
    "CheckResult",
    "ClassReport",
    "ClassSetup",
    "LearnerDatabase",
    "Scenario",
    "WrongAnswer",
    "check",
    "connect",
    "hints",
    "instructor_guide",
    "progress",
    "record",
    "report",
    "results_dir",
    "run_handler",
    "scenario",
    "setup",
    "show",
    "teardown",
]


def check(session: Session, name: str, answer: Answer, *, record: bool = True) -> CheckResult:
    """Check ``answer`` to scenario ``name`` on ``session`` (PostgreSQL with the demo data).

    ``answer`` is SQL text (the DDL, settings and/or rewritten query: what you would run) or,
    for the N+1 scenario, a function ``f(db)``. The check compares the rows (or the handler's
    result) with the planted query's first, then judges what the scenario is about: speed (at
    least 10× faster, significant), the planner's estimate, a spill, or the cost of an insert.
    The result says what was right, what was wrong and what to look at next; it is recorded
    in the learner's progress file unless ``record=False`` (or there was no answer).

    >>> wb.demo.workshop.check(s, "login_by_email", "  -- later", record=False).wrong
    ['no answer yet']
    """
    from workbench import demo

    sc = scenario(name)
    started = time.perf_counter()
    if _empty(answer):
        return CheckResult(
            name,
            False,
            wrong=["no answer yet"],
            next="write your answer in the answer cell above, run it, then run this check again",
            answered=False,
        )
    if session.dialect != "postgresql" or not demo.is_loaded(session):
        what = "has no demo data" if session.dialect == "postgresql" else f"is {session.dialect}"
        return CheckResult(
            name,
            False,
            wrong=[
                f"the workshop's checks run on PostgreSQL with the demo data; this session {what}"
            ],
            next="connect with wb.demo.workshop.connect()",
            answered=False,
        )
    bound = sc.bind(session)
    if sc.kind == "code":
        result = check_code(session, bound, answer)
    elif isinstance(answer, str):
        result = check_sql(session, bound, answer, draws=lambda: sc.swaps(session))
    else:
        result = CheckResult(
            name, False, wrong=[f"this scenario's answer is SQL text, not {type(answer).__name__}"]
        )
    if not result.passed:
        result.wrong += _known_mistake(bound, answer)
    result.seconds = time.perf_counter() - started
    if record and result.answered:
        try:
            _record_result(result)
        except OSError as exc:  # the check still counts for the learner; say why it is not kept
            from workbench.errors import warn

            warn(f"this check could not be recorded ({exc}); set WORKBENCH_WORKSHOP_DIR")
    return result


def _empty(answer: Answer) -> bool:
    if answer is None:
        return True
    if isinstance(answer, str):
        from workbench.guard import split_statements

        return not split_statements(answer, "postgresql")
    return False


def _known_mistake(sc: Scenario, answer: Answer) -> list[str]:
    """The recorded explanation when ``answer`` is one of the scenario's common wrong ones."""
    for wrong in sc.wrong_answers:
        if callable(wrong.answer) and answer is wrong.answer:
            return [f"a common mistake: {wrong.why}"]
        same_text = isinstance(wrong.answer, str) and isinstance(answer, str)
        if same_text and normalized(str(wrong.answer)) == normalized(str(answer)):
            return [f"a common mistake: {wrong.why}"]
    return []
