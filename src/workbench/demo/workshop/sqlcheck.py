"""Checking a SQL answer: the same rows first, then the property the scenario is about.

Everything happens in one transaction that is always rolled back: the scenario's setup and
settings, the planted query (its rows are the reference, its timings the baseline), then the
answer's settings and DDL (uniquely named), the answer's query, its rows, its timings or its
plan. Nothing is left on the server; learners on one server never see each other's indexes.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.demo.workshop.answers import (
    AnswerError,
    ParsedAnswer,
    normalized,
    parse,
    unique_names,
)
from workbench.demo.workshop.measure import (
    BUDGET_S,
    REQUIRED_SPEEDUP,
    as_profile,
    compare,
    fast_enough,
    insert_cost,
    timings,
    verdict,
)
from workbench.demo.workshop.result import CheckResult
from workbench.demo.workshop.rows import rows_text, same_rows
from workbench.errors import LockTimeoutError, WorkbenchError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from workbench.demo.workshop.model import Scenario, Swap
    from workbench.execution import Transaction
    from workbench.plans.model import Plan
    from workbench.session import Session

__all__ = ["ESTIMATE_WITHIN", "check_sql"]

#: how close the planner's estimate must come (either way) for an estimate scenario to pass
ESTIMATE_WITHIN = 3.0
#: how many more index entries (WAL records) an insert may write in a write-cost scenario
EXTRA_ENTRIES_ALLOWED = 1
#: seconds a check waits for a lock another session holds, and how often it tries
LOCK_TIMEOUT_S = 5.0
ATTEMPTS = 3
_ANSWER = "wb_workshop_answer"


def check_sql(
    session: Session,
    scenario: Scenario,
    text: str,
    *,
    draws: Callable[[], Sequence[Sequence[Swap]]] | None = None,
) -> CheckResult:
    """Check SQL ``text`` against the bound ``scenario`` on ``session``. ``draws`` gives, for
    each draw, the task's values the answer's query must carry and other values to try it
    with (looked up only once the answer is known to be one the check can run)."""
    token = secrets.token_hex(3)
    try:
        parsed = parse(text, token=token)
    except AnswerError as exc:
        return CheckResult(scenario.name, False, wrong=[exc.message], next=exc.hint or "")
    if scenario.fix == "query" and parsed.ddl:
        return CheckResult(
            scenario.name,
            False,
            wrong=[
                "this task asks for a rewrite of the query, and your answer "
                + (
                    "runs ANALYZE: the statistics are fresh, and the planner knows this table"
                    if all(s.lstrip().upper().startswith("ANALY") for s in parsed.ddl)
                    else "creates something: the index it needs exists already (and every "
                    "new index costs each insert)"
                )
            ],
            next="write only the rewritten SELECT",
        )
    query = parsed.query or scenario.sql
    if scenario.kind == "estimate" and normalized(query) != normalized(scenario.sql):
        return CheckResult(
            scenario.name,
            False,
            wrong=[
                "this task keeps the query as it is (the application sends it); your answer "
                "rewrites it, and the planner's estimate is judged on the planted query"
            ],
            next="leave the query out: answer with what tells the planner more about the data",
        )
    if not parsed.changes and normalized(query) == normalized(scenario.sql):
        return CheckResult(
            scenario.name,
            False,
            right=["it returns the right rows, of course"],
            wrong=["that is the planted query, unchanged"],
            next=scenario.hints[0],
        )
    swaps = draws() if draws else []
    required = _required(scenario, swaps[0] if swaps else [], token)
    # none of the task's values in the query: the rows were typed in or looked up by hand (a
    # query holding some of them is judged by its rows, here and with other values)
    if parsed.query and required and not any(s.found_in(query) for s in required):
        names = ", ".join(f"{{{s.name}}} ({s.value})" for s in required)
        return CheckResult(
            scenario.name,
            False,
            wrong=[
                f"your query does not use the task's {names}: the check also tries it with "
                "other values, so the query must be written with the values the task gives, "
                "not with rows or ids found beforehand"
            ],
            next="read the task again: which of its values ("
            + ", ".join(f"{{{s.name}}}" for s in required)
            + ") decide the rows?",
        )
    for attempt in range(1, ATTEMPTS + 1):
        try:
            result = _in_sandbox(session, scenario, parsed, query, token, swaps)
        except LockTimeoutError as exc:
            if attempt < ATTEMPTS:
                time.sleep(0.5 * attempt)
                continue
            return CheckResult(
                scenario.name,
                False,
                wrong=[f"the check waited too long for a lock: {exc.message}"],
                next="another session holds a lock on the table; run the check again in "
                "a moment (a database of your own avoids this: see the class setup)",
            )
        except WorkbenchError as exc:  # the engine refused a statement of the answer, or timed out
            return CheckResult(
                scenario.name,
                False,
                wrong=[f"a statement of the answer failed: {_engine_text(exc)}"],
                next=exc.hint or "fix the statement and run the check again",
            )
        if parsed.notes:
            said = [note.rstrip(".") + "." for note in parsed.notes]
            result.next = " ".join([*said, result.next]).strip()
        return result
    raise AssertionError("unreachable")  # pragma: no cover


def _required(scenario: Scenario, swaps: Sequence[Swap], token: str) -> list[Swap]:
    """The swaps whose value the reference solution's query carries (the page boundary for a
    keyset, the address for a login): the answer's query must carry them too."""
    if not swaps or not isinstance(scenario.solution, str):
        return []
    reference = parse(scenario.solution, token=token).query or scenario.sql
    return [s for s in swaps if s.found_in(reference)]


def _engine_text(exc: WorkbenchError) -> str:
    text = getattr(exc, "engine_message", None) or exc.message
    return str(text).splitlines()[0]


def _in_sandbox(
    session: Session,
    scenario: Scenario,
    parsed: ParsedAnswer,
    query: str,
    token: str,
    swaps: Sequence[Sequence[Swap]],
) -> CheckResult:
    from workbench.explain import explain_in

    kind = scenario.kind
    executor = session.executor
    with executor.transaction(
        allow_writes=True,
        read_only=False,
        settings=dict(scenario.settings),
        timeout_s=max(executor.timeout_s, 60.0),
        lock_timeout_s=LOCK_TIMEOUT_S,
    ) as tx:
        for number, statement in enumerate(scenario.setup, start=900):
            tx.execute(unique_names(statement, token=token, number=number)[0])
        reference = tx.execute(scenario.sql)
        before = explain_in(tx, scenario.sql) if kind in ("estimate", "spill") else None
        # the planted query's runs bracket the answer's (half before, half after it is undone),
        # so a machine that gets busier or quieter meanwhile does not favour either side
        timed = kind in ("speed", "write_cost")
        base = timings(tx, scenario.sql, budget_s=BUDGET_S / 2, min_runs=4) if timed else []
        tx.execute_internal(f"SAVEPOINT {_ANSWER}")
        for name, value in parsed.settings.items():
            executor.dialect.validate_settings({name: value})
            tx.execute_internal("SELECT set_config(%s, %s, true)", (name, value))
        for statement in parsed.ddl:
            tx.execute(statement)
        got = tx.execute(query)
        same, detail = same_rows(reference, got, ordered=scenario.ordered)
        if not same:
            planted = (
                " The check adds a few rows of its own in its transaction (rows your data "
                "does not have), so your own output may not show the difference."
                if scenario.setup
                else ""
            )
            return CheckResult(
                scenario.name,
                False,
                wrong=[detail],
                next="compare your rows with the planted query's: s.query(sc.sql) and "
                "s.query(your query); the rows must stay the same, only faster." + planted,
            )
        right = [rows_text(reference, ordered=scenario.ordered)]
        if kind == "estimate":
            return _estimate(scenario, right, before, explain_in(tx, query))
        if kind == "spill":
            return _spill(scenario, right, before, explain_in(tx, query), _work_mem_kb(tx))
        answer = timings(tx, query)
        plan = explain_in(tx, query)
        # with the answer's indexes in place: the answer again with other values (judged after
        # its own verdict: an answer slow for every value is told so, not that it is slow for
        # others); skipped when the answer is nowhere near the bar for its own value
        near = _median(base) / max(_median(answer), 1e-6) >= OTHER_VALUE_SPEEDUP
        other = _other_values(tx, scenario, query, swaps, base, right) if near else None
        inserts_before = inserts_after = None
        if scenario.write_sql:  # with the answer's indexes, then without: both warm
            inserts_after = insert_cost(tx, scenario.write_sql)
        tx.execute_internal(f"ROLLBACK TO SAVEPOINT {_ANSWER}")
        if scenario.write_sql:
            inserts_before = insert_cost(tx, scenario.write_sql)
        base += timings(tx, scenario.sql, budget_s=BUDGET_S / 2, min_runs=4)
        comparison = compare(
            as_profile(scenario.sql, base, label="planted"),
            as_profile(query, answer, label="your answer"),
        )
    result = _speed(scenario, right, comparison, plan)
    if result.passed and other is not None:
        return other
    if inserts_before is not None and inserts_after is not None:
        _write_cost(result, inserts_before, inserts_after)
    return result


#: how much faster than the planted query the answer must be with the other value (fewer
#: runs, no test: it only has to show that the answer is not fast for one value alone)
OTHER_VALUE_SPEEDUP = REQUIRED_SPEEDUP / 2


def _other_values(
    tx: Transaction,
    scenario: Scenario,
    query: str,
    draws: Sequence[Sequence[Swap]],
    base: list[float],
    right: list[str],
) -> CheckResult | None:
    """The first draw of other values the answer fails with, as the check's result."""
    for swaps in draws:
        failed = _other_value(tx, scenario, query, swaps, base, right)
        if failed is not None:
            return failed
    return None


def _other_value(
    tx: Transaction,
    scenario: Scenario,
    query: str,
    swaps: Sequence[Swap],
    base: list[float],
    right: list[str],
) -> CheckResult | None:
    """The answer again with the task's values replaced by others (the answer's indexes in
    place): the same rows as the planted query with those, and fast there too. None when it
    is, or when the scenario has no such values."""
    if not swaps:
        return None
    planted, answer = scenario.sql, query
    for swap in swaps:
        planted, answer = swap.apply(planted), swap.apply(answer)
    said = ", ".join(f"{{{s.name}}} = {s.other}" for s in swaps)
    same, detail = same_rows(tx.execute(planted), tx.execute(answer), ordered=scenario.ordered)
    if not same:
        return CheckResult(
            scenario.name,
            False,
            right=list(right),
            wrong=[
                f"with another value ({said}) your query's rows are not the planted query's: "
                f"{detail}; an answer must work for any value, not only the task's"
            ],
            next="which part of your answer holds only for the task's value?",
        )
    if not base:
        return None
    times = timings(tx, answer, budget_s=BUDGET_S / 4, min_runs=5)
    ratio = _median(base) / _median(times) if _median(times) > 0 else float("inf")
    if ratio >= OTHER_VALUE_SPEEDUP:
        return None
    return CheckResult(
        scenario.name,
        False,
        right=list(right),
        wrong=[
            f"with another value ({said}) your query takes {fmt.milliseconds(_median(times))} "
            f"a run (median of {len(times)}), the planted one {fmt.milliseconds(_median(base))}"
            f": {fmt.factor(ratio)}×, the bar is {OTHER_VALUE_SPEEDUP:g}×. It is fast only "
            "for the value it names (a partial index on it?)"
        ],
        next="an index for this query must serve any value of the task, not one",
    )


def _work_mem_kb(tx: Transaction) -> float:
    rows = tx.execute_internal("SELECT setting::float8 FROM pg_settings WHERE name = 'work_mem'")
    return float(rows.rows[0][0])


def _speed(scenario: Scenario, right: list[str], comparison: Any, plan: Plan) -> CheckResult:
    result = CheckResult(scenario.name, False, list(right), comparison=comparison, plan=plan)
    if fast_enough(comparison):
        result.right.append(comparison.verdict)
    else:
        result.wrong.append(
            f"{verdict(comparison)}; the bar is {REQUIRED_SPEEDUP:g}× faster, measured"
        )
    if scenario.index_only and scenario.table:
        scans = [n for n in plan.nodes if n.relation == scenario.table]
        if scans and all("Index Only Scan" in n.operation for n in scans):
            result.right.append(f"{scenario.table} is read by an Index Only Scan")
        else:
            how = ", ".join(sorted({n.operation for n in scans if "Only" not in n.operation}))
            how = how or "no scan"
            result.wrong.append(
                f"{scenario.table} is read by {how}, not an Index Only Scan: the table is "
                "still visited for every row"
            )
    if scenario.tight and scenario.table:
        _tight(result, plan, scenario.table)
    result.passed = not result.wrong
    result.next = scenario.explanation if result.passed else _look_at(plan)
    return result


#: pages a scan may touch beyond one per row it returns (the descent of an index, a page the
#: rows share): what an index whose key serves the conditions needs
TIGHT_PAGES = 8


def _tight(result: CheckResult, plan: Plan, table: str) -> None:
    """Whether the scans of ``table`` touch about a page per row they return (their buffers
    include their index's)."""
    scans = [n for n in plan.nodes if n.relation == table]
    if not any("Index" in n.operation or "Bitmap" in n.operation for n in scans):
        return  # the table read whole: the speed says it
    pages = sum(n.buffers.get("shared_hit", 0.0) + n.buffers.get("shared_read", 0.0) for n in scans)
    rows = sum(n.actual_rows or 0.0 for n in scans)
    # rows fetched and then filtered out are the answer's honest cost (an index on the equality
    # column alone fetches the customer's older orders too); entries an index walks past
    # without fetching are what this catches
    fetched = rows + sum(
        (n.rows_removed_by_filter or 0.0) + (n.rows_removed_by_index_recheck or 0.0) for n in scans
    )
    limit = fetched + TIGHT_PAGES
    what = f"the scan of {table} touches {pages:,.0f} pages for {fetched:,.0f} rows"
    if scans and pages <= limit:
        result.right.append(what)
    else:
        result.wrong.append(
            f"{what} (at most {limit:,.0f}: about one per row): the index narrows the search "
            "but still reads a large part of itself"
        )


#: WAL records an insert may write beyond the budget, whatever its rows: a page split of an
#: index (the check's rolled-back entries stay in the pages until vacuumed) adds one or two
SPLIT_SLACK = 2


def _write_cost(result: CheckResult, before: Any, after: Any) -> None:
    extra = round(after.wal_records - before.wal_records)
    rows = max(1, after.rows)
    was, now = _median(before.latencies_ms), _median(after.latencies_ms)
    what = "an insert" if rows == 1 else f"an insert of {rows} rows"
    how = (
        f"{what} writes {after.wal_records:g} WAL records (was {before.wal_records:g}; "
        f"median latency {fmt.milliseconds(was)} → {fmt.milliseconds(now)})"
    )
    if extra <= EXTRA_ENTRIES_ALLOWED * rows + SPLIT_SLACK:
        result.right.append(how)
    else:
        per_row = extra / rows
        result.wrong.append(
            f"{how}: {fmt.number(per_row, 2)} more index entries per row, the budget is "
            f"{EXTRA_ENTRIES_ALLOWED}"
        )
        result.passed = False
        result.next = "which one index serves the query's filter and its ORDER BY together?"


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values) if values else float("nan")


def _estimate(
    scenario: Scenario, right: list[str], before: Plan | None, after: Plan
) -> CheckResult:
    table = scenario.table or ""
    was, now = _worst_estimate(before, table), _worst_estimate(after, table)
    text = (
        f"the planner's estimate for {table}: off by {fmt.factor(was)}× before, "
        f"{fmt.factor(now)}× now"
    )
    passed = now <= ESTIMATE_WITHIN
    return CheckResult(
        scenario.name,
        passed,
        right=[*right, text] if passed else right,
        wrong=[] if passed else [f"{text}; the bar is within {ESTIMATE_WITHIN:g}×"],
        next=scenario.explanation
        if passed
        else f"compare estimated and actual rows on the scan of {table}: "
        "s.explain(sc.sql, analyze=True).misestimated(); what does the planner not know "
        "about these columns?",
        plan=after,
    )


def _worst_estimate(plan: Plan | None, table: str) -> float:
    """The largest misestimate on a scan of ``table``; infinite when the plan reads no
    ``table`` at all (then there is no estimate to judge, and nothing passes)."""
    if plan is None:
        return 1.0
    scans = [n for n in plan.nodes if n.relation == table]
    if not scans:
        return float("inf")
    return max((n.misestimate.factor for n in scans if n.misestimate), default=1.0)


#: the most work_mem a spill answer may ask for, as a multiple of what the planted sort wrote
#: to disk (an in-memory sort needs a few times its on-disk size), and never less than this
WORK_MEM_PER_DISK = 16
WORK_MEM_FLOOR_KB = 64 * 1024


def _spill(
    scenario: Scenario, right: list[str], before: Plan | None, after: Plan, work_mem_kb: float
) -> CheckResult:
    spills = [n for n in after.nodes if n.spill]
    planted = [n.spill for n in (before.nodes if before else []) if n.spill]
    was = [s.detail for s in planted]
    context = f" (the planted plan: {was[0]})" if was else ""
    disk_kb = max((s.disk_kb or 0.0 for s in planted), default=0.0)
    limit_kb = max(WORK_MEM_FLOOR_KB, WORK_MEM_PER_DISK * disk_kb)
    if not spills and work_mem_kb > limit_kb:
        return CheckResult(
            scenario.name,
            False,
            right=[*right, "nothing spills to disk now"],
            wrong=[
                f"work_mem is {fmt.kilobytes(work_mem_kb)}, "
                f"{fmt.factor(work_mem_kb / max(disk_kb, 1))}× what the sort wrote to disk "
                f"({fmt.kilobytes(disk_kb)}): every sort of every connection may take that much"
            ],
            next=f"ask for what this sort needs: a little above its disk use (at most "
            f"{fmt.kilobytes(limit_kb)} here)",
            plan=after,
        )
    if spills:
        return CheckResult(
            scenario.name,
            False,
            right=right,
            wrong=[f"{spills[0].label} still spills: {spills[0].spill.detail}{context}"],  # type: ignore[union-attr]
            next=_look_at(after),
            plan=after,
        )
    return CheckResult(
        scenario.name,
        True,
        right=[*right, f"nothing spills to disk now{context}"],
        next=scenario.explanation,
        plan=after,
    )


def _look_at(plan: Plan) -> str:
    node = plan.hot_path[0] if plan.hot_path else plan.root
    share = plan.share(node)
    where = f"{node.label}" + (f" ({fmt.percent(share)} of the time)" if share else "")
    return f"in the plan of your answer, most time goes to {where}; the hints say where to go"
