"""The instructor guide, written from the scenarios themselves: for each one its objectives,
time, story and task, the reference solution, the hints in order, the common wrong answers
with why they fail, and what to say once it passes. ``docs/workshop-instructor.md`` is this
text (a test keeps the two equal; ``workbench workshop guide -o FILE`` rewrites it).

>>> text = instructor_guide()
>>> text.startswith("# Workshop: instructor guide") and "login_by_email" in text
True
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from workbench.demo.workshop.catalogue import PRIMER, SCENARIOS
from workbench.demo.workshop.classroom import DEFAULT_SCALE, MIN_SCALE, SCALE_ENV, URL_ENV
from workbench.demo.workshop.measure import REQUIRED_SPEEDUP
from workbench.demo.workshop.model import Scenario
from workbench.demo.workshop.sqlcheck import (
    OTHER_VALUE_SPEEDUP,
    TIGHT_PAGES,
    WORK_MEM_FLOOR_KB,
    WORK_MEM_PER_DISK,
)

__all__ = ["instructor_guide"]

_CHECKS = {
    "speed": f"the same rows, then at least {REQUIRED_SPEEDUP:g}× faster (a significant "
    "Comparison of repeated runs of both queries in one rolled-back transaction)",
    "estimate": "the same rows, then the planner's row estimate for the table within 3× of "
    "the actual rows",
    "spill": "the same rows in the same order, then no node of the plan spilling to disk, "
    f"with work_mem at most {WORK_MEM_PER_DISK}× the planted sort's disk use "
    f"(or {WORK_MEM_FLOOR_KB // 1024} MB)",
    "write_cost": f"the same rows, the read at least {REQUIRED_SPEEDUP:g}× faster, and each "
    "insert writing at most one more WAL record (index entry) than before; the insert latency "
    "before and after is reported",
    "code": "the same result as the planted handler, no repeated statement and at most five "
    f"under s.capture(), then at least {REQUIRED_SPEEDUP:g}× faster (profiles of both handlers)",
}

_INTRO = f"""\
# Workshop: instructor guide

Thirteen scenarios on the demo shop's data, one per topic, in the order of
`notebooks/03-workshop.ipynb` (the student notebook: stories, tasks, hints that open one at a
time, and a check per scenario; no solutions). This guide holds what the notebook does not:
the solutions, the common wrong answers and why they fail, the learning objectives and the
time each takes. It is generated from `wb.demo.workshop.SCENARIOS` (`workbench workshop
guide -o docs/workshop-instructor.md`), so the solutions here are the ones the checks are
tested with.

Values in braces (`{{email}}`, `{{user}}`, …) are read from each learner's data when the
scenario is shown (`sc = ws.show(s, name)`, `scenario.bind(s)`): the demo data differs by
scale, the story and the checks do not.

## Running a class

**One server, a database per learner (recommended).** On a PostgreSQL server the hub can
reach (13 or newer; `pg_trgm` available), with an account that may create databases:

```
workbench workshop setup postgresql://admin@db/postgres --learners 30 --owner workshop
```

loads the demo data once into `workshop_template` (scale {DEFAULT_SCALE:g} by default, about
340,000 rows; {MIN_SCALE:g} at the least) and clones `workshop_01` … `workshop_30` from it
with `CREATE DATABASE … TEMPLATE` (a file copy). Measured on a two-core machine with
PostgreSQL 15: the template in 3 s, thirty learner databases in 7 s in all. `--learners
ada,grace,linus` names the databases after the hub's user names instead. `--owner ROLE` makes
the role learners connect as the owner of the databases and the demo tables (creating an
index or statistics needs it). Give each learner's server
`{URL_ENV}=postgresql+psycopg://workshop:…@db/workshop_<n>` (in `jupyterhub_config.py`:
`c.Spawner.environment`), and the notebook's `ws.connect()` opens it. `workbench workshop
teardown postgresql://admin@db/postgres` drops them all afterwards (only the databases the
setup created for that `--prefix`: their comment names the class, so `workshop` never drops
`workshop_b`'s). A class keeps one scale: set up again without `--scale`, it keeps its own; a
different `--scale` is refused unless `--replace` recreates the learners' databases.

**One embedded PostgreSQL per learner.** Without a class server, `ws.connect()` starts the
learner's own embedded PostgreSQL 18 and loads the demo data at `{SCALE_ENV}` (default
{DEFAULT_SCALE:g}), showing its progress. Each user's server lives in their own data directory
(`WORKBENCH_HOME`); for thirty of them on one machine set `WORKBENCH_SHARED_BUFFERS=64MB`
(thirty times 64 MB of shared buffers; the default is 256 MB each). If PostgreSQL cannot
start, the notebook says so: the workshop never falls back to SQLite.

**Read-only notebook folders.** Check results go to `WORKBENCH_WORKSHOP_DIR` when set (a
folder the whole class can write: `install -d -m 1777 /srv/workshop/results`), else to
`workshop/` in the learner's own workbench directory (also when the class folder cannot be
written: the learner is warned once, and should tell you); nothing is written to the notebook
folder, which may be read-only. One small JSON file per learner
(`WORKBENCH_LEARNER`, else `JUPYTERHUB_USER`, else the login name).

**The class's progress:** `workbench workshop-report /srv/workshop/results` (or
`ws.report("/srv/workshop/results")` in a notebook): one row per learner, ✓ passed, ✗N failed
N times, · not tried, and per scenario how many passed. A folder that does not exist is an
error (not an empty class); files that cannot be read are named, and a learner's next check
moves such a file aside instead of overwriting it.

**How the checks grade.** A check runs the learner's answer in a transaction that is always
rolled back, with uniquely named indexes and statistics (learners on one database never wait
on each other's names). It compares the answer's rows with the planted query's first
(order-insensitive unless the task is about order: `SELECT 1` and rewrites that change the
result fail there), then the property the scenario is about. Speed is measured with repeated
runs of both queries (at least seven each) and judged by the profile statistics: the ratio of
medians, a bootstrap confidence interval and a rank test, never one EXPLAIN each way. A check
takes 0.3–1.5 s at scale {DEFAULT_SCALE:g}; the N+1 check measures the planted handler once per
session (2–4 s the first time).

What a check does so that only a real fix passes:

- Where the task names a value (an address, a customer, a page boundary), the answer's query
  must hold it, and the check runs the answer again with two other values drawn at random
  from the data, one from each half: the expected rows typed in (`VALUES …`, `WHERE id = …`)
  and an index on the one value or on the part of the data it is in fail there, on the rows
  or on the speed (at least {OTHER_VALUE_SPEEDUP:g}× there).
- Every scenario's check plants rows of its own in its transaction, with random ids and
  values, so rows typed in from an earlier output never match, and where the demo data would
  hide a trap it plants the trap: orders at the edges of the day (a `BETWEEN` that includes
  the next midnight, a `<=` that misses the last microsecond), an order tied with the
  previous page's last one, a pending order older than all others, the task's address stored
  in odd case, the search fragment in other parts of addresses, and orders for the newest
  users (who have none in the demo data).
- The N+1's handler runs on other random rows at each timed call, and every call's result is
  compared with the reference solution's on the same rows: a result kept from an earlier call
  fails.
- An index-only scan must be the only way the table is read (a dummy subquery on the primary
  key does not count), and a sort that spills in parallel workers is a spill.
- Where the lesson is the order of an index's columns (customer_history, index_budget), the
  scan must touch about one page per row it fetches (plus {TIGHT_PAGES}): on small data a
  range-first index can look 10× faster than the table while it walks a large part of itself.
- The estimate scenario judges the planted query unchanged: a rewrite is refused.
- The spill scenario accepts a work_mem up to {WORK_MEM_PER_DISK}× what the planted sort wrote
  to disk (at least {WORK_MEM_FLOOR_KB // 1024} MB): `SET work_mem = '1GB'` passes nothing.
- What cannot be undone is refused: `DROP`, `ALTER`, `CREATE TABLE AS`, materialized views,
  `VACUUM`, `CLUSTER`, transaction control, settings that lift the timeout, and functions
  with side effects outside the transaction. `ANALYZE` in an answer is rolled back with the
  rest, except the "last analyzed" time and counters in `pg_stat_user_tables`, which
  PostgreSQL keeps.

## Timing

Allow 2 h 30 for the whole set with a break; the primer takes ten minutes.

| # | scenario | topic | minutes | checked by |
| --- | --- | --- | --- | --- |
"""


def instructor_guide() -> str:
    """The instructor guide as Markdown."""
    rows = [
        f"| {i} | `{sc.name}` | {sc.chapter.split(' · ', 1)[-1]} | {sc.minutes} | {sc.kind} |"
        for i, sc in enumerate(SCENARIOS, start=1)
    ]
    total = sum(sc.minutes for sc in SCENARIOS)
    parts = [_INTRO + "\n".join(rows), f"\nIn all: {total} minutes of exercises.\n"]
    parts.append("## The primer: reading a plan\n\n" + PRIMER)
    parts += [_section(sc) for sc in SCENARIOS]
    return "\n".join(parts).rstrip() + "\n"


def _section(sc: Scenario) -> str:
    lines = [
        f"## {sc.chapter}: {sc.title}",
        "",
        f"`{sc.name}` · about {sc.minutes} minutes · checked by {_CHECKS[sc.kind]}.",
        "",
        "**Objectives.**",
        "",
        *[f"- {o}" for o in sc.objectives],
        "",
        f"**Story.** {sc.story}",
        "",
        f"**Task.** {sc.task}",
        "",
    ]
    if sc.kind == "code" and sc.planted is not None:
        lines += ["**Planted.** `" + _name(sc.planted) + "`; the statement it repeats:", ""]
    else:
        lines += ["**Planted query.**", ""]
    lines += [_code(sc.sql), ""]
    if sc.settings:
        settings = ", ".join(f"`{k} = {v}`" for k, v in sc.settings.items())
        lines += [f"Runs with {settings} (the scenario's starting point).", ""]
    if sc.write_sql:
        lines += [
            "The insert measured with and without the answer's indexes:",
            "",
            _code(sc.write_sql),
            "",
        ]
    if sc.lookups:
        lines += ["Values read from the learner's data:", ""]
        lines += [f"- `{{{k}}}`: `{v}`" for k, v in sc.lookups.items()]
        lines.append("")
    lines += ["**Solution.**", "", _answer(sc.solution), ""]
    lines += ["**Hints** (revealed one at a time):", ""]
    lines += [f"{i}. {h}" for i, h in enumerate(sc.hints, start=1)]
    lines += ["", "**Common wrong answers.**", ""]
    for wrong in sc.wrong_answers:
        lines += [_answer(wrong.answer), "", f"Why it fails: {wrong.why}", ""]
    lines += [f"**Once it passes.** {sc.explanation}", ""]
    return "\n".join(lines)


def _answer(answer: str | Callable[..., Any]) -> str:
    if isinstance(answer, str):
        return _code(answer)
    try:
        source = inspect.getsource(answer)
    except (OSError, TypeError):
        return f"`{_name(answer)}`"
    return f"```python\n{source.rstrip()}\n```"


def _name(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _code(sql: str) -> str:
    return f"```sql\n{sql.strip()}\n```"
