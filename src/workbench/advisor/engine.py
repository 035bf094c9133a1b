"""``s.advise()``: the workload, the candidates, the search, the verification, the advice."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from workbench.advisor.advice import Advice
from workbench.advisor.candidates import candidates as candidates_for
from workbench.advisor.candidates import usages
from workbench.advisor.facts import Facts, read_facts
from workbench.advisor.model import IndexSpec, QueryImpact, Recommendation
from workbench.advisor.search import Budget, greedy
from workbench.advisor.whatif import HypoJudge, Judge, PlanJudge, SandboxJudge
from workbench.advisor.workload import Statement, Workload
from workbench.advisor.workload import load as load_workload
from workbench.errors import ConfigurationError, LockTimeoutError

if TYPE_CHECKING:
    from workbench.execution import Executor, Transaction

__all__ = ["advise"]

#: a candidate must make one statement this much cheaper on its own to enter the search
SEED_GAIN = 0.10
#: a statement counts as helped by an index when its cost drops by this much
HELPED = 0.05
#: share of a covering index's gain its key-only twin must keep to be preferred
NARROW_SHARE = 0.8
#: rows a MySQL/MariaDB plan must expect to examine in a full scan to earn a recommendation
PLAN_MIN_ROWS = 1_000


def advise(
    executor: Executor,
    queries: Sequence[str] | None = None,
    *,
    top: int = 10,
    max_indexes: int = 5,
    max_size: int | None = None,
    verify: bool = True,
    hypothetical: bool | None = None,
    build_limit_mb: float | None = 200.0,
    lock_timeout: float = 2.0,
    runs: int = 50,
    min_gain: float = 0.02,
    max_calls: int = 5_000,
    time_budget: float = 120.0,
) -> Advice:
    """Index recommendations for a workload, measured before they are recommended.

    The workload is ``queries``, or the ``top`` statements by total time on the server
    (``pg_stat_statements``, performance_schema). Candidates come from each statement's
    filters, joins, sort keys and columns read; the planner judges them across the whole
    workload (HypoPG's hypothetical indexes where the extension is installed, else real
    indexes inside a rolled-back transaction); a greedy search picks at most ``max_indexes``
    (and ``max_size`` bytes). With ``verify``, the chosen set is built in a rolled-back
    transaction and each statement it helps, and an insert into each table it changes, is
    timed before and after (``runs`` executions each).

    Safety: tables over ``build_limit_mb`` get no real index (HypoPG judges them, nothing
    measures them; ``None`` lifts the limit); every transaction waits at most
    ``lock_timeout`` seconds for a lock (building candidates without HypoPG then raises
    :class:`~workbench.errors.LockTimeoutError` naming the sessions that hold it; the
    measurement is skipped and said); nothing is left behind (hypothetical indexes reset,
    every build rolled back). ``hypothetical``: ``True`` requires HypoPG, ``False`` never uses
    it. ``max_calls`` and ``time_budget`` bound the search (the best set so far is returned).

    >>> advice = s.advise(["SELECT id FROM orders WHERE user_id = 42"], runs=5)
    >>> advice.recommendations[0].ddl
    'CREATE INDEX orders_user_id_idx ON orders (user_id)'
    >>> advice.method, advice.verified
    ('timed', True)
    """
    started = time.perf_counter()
    dialect = executor.dialect.name
    _check(top, max_indexes, runs, lock_timeout)
    if dialect == "duckdb":
        return Advice(
            [],
            [],
            dialect,
            "none",
            notes=[
                "DuckDB reads columns through zone maps; its ART indexes serve point lookups "
                "and constraints, so there is no index to advise"
            ],
        )
    hypo = dialect == "postgresql" and hypothetical is not False and _has_hypopg(executor)
    if hypothetical and not hypo:
        raise ConfigurationError(
            "hypothetical=True needs the HypoPG extension in this database",
            hint="CREATE EXTENSION hypopg (it is a package: postgresql-NN-hypopg), or leave "
            "hypothetical=None to build candidates in a rolled-back transaction",
        )
    build_limit = None if build_limit_mb is None else int(build_limit_mb * 2**20)
    read_only = hypo or dialect in ("mysql", "mariadb")
    notes: list[str] = []
    with executor.transaction(
        allow_writes=not read_only, read_only=read_only, lock_timeout_s=lock_timeout
    ) as tx:
        workload = load_workload(executor, tx, queries, top)
        if not workload.statements:
            return _empty(executor, workload, started)
        facts = read_facts(tx, sorted({t for s in workload.statements for t in s.tables}))
        pool = _candidates(executor, workload.statements, facts)
        judge = _judge(tx, hypo, facts, build_limit)
        try:
            chosen, impacts, recommendations, stopped = _search(
                judge,
                workload.statements,
                pool,
                facts,
                max_indexes,
                max_size,
                min_gain,
                Budget(max_calls, time_budget, lambda: judge.calls),
            )
        finally:
            judge.close()
    if stopped:
        notes.append(f"the search stopped: {stopped}")
    notes.extend(judge.notes)
    notes.extend(_failures(judge, chosen))
    verified = False
    if verify and recommendations and judge.can_try:
        verified = _verify(
            executor,
            recommendations,
            impacts,
            workload.statements,
            facts,
            build_limit,
            runs=runs,
            lock_timeout=lock_timeout,
            notes=notes,
        )
    elif verify and recommendations:
        notes.append(
            f"not measured: {dialect} commits DDL implicitly, so no index can be built in a "
            "transaction that is rolled back; try the recommendations on a copy of the database"
        )
    for r in recommendations:
        r.ddl = r.spec.ddl(dialect, r.spec.name(facts.taken), concurrently=True)
    recommendations.sort(key=lambda r: -(r.saved_ms if r.saved_ms is not None else r.cost_saved))
    if workload.skipped:
        notes.append(
            f"{len(workload.skipped)} statement{'s' if len(workload.skipped) != 1 else ''} "
            "skipped (advice.skipped says why)"
        )
    return Advice(
        recommendations,
        list(impacts.values()),
        dialect,
        judge.method,
        planner_calls=judge.calls,
        wall_s=time.perf_counter() - started,
        verified=verified,
        notes=notes,
        skipped=workload.skipped,
        candidates=len(pool),
        source=workload.source,
    )


def _check(top: int, max_indexes: int, runs: int, lock_timeout: float) -> None:
    for name, value in (("top", top), ("max_indexes", max_indexes), ("runs", runs)):
        if not isinstance(value, int) or value < 1:
            raise ConfigurationError(f"{name} must be a positive integer, not {value!r}")
    if not lock_timeout > 0:
        raise ConfigurationError(
            f"lock_timeout must be a positive number of seconds, not {lock_timeout!r}"
        )


def _has_hypopg(executor: Executor) -> bool:
    def probe(dbapi: object) -> bool:
        from workbench.dialects.base import fetch_dicts

        rows = fetch_dicts(dbapi, "SELECT count(*) AS n FROM pg_extension WHERE extname = 'hypopg'")
        return bool(rows[0]["n"])

    return executor.introspect(probe)


def _empty(executor: Executor, workload: Workload, started: float) -> Advice:
    return Advice(
        [],
        [],
        executor.dialect.name,
        "none",
        wall_s=time.perf_counter() - started,
        notes=[f"no statement to tune in the workload ({workload.source})"],
        skipped=workload.skipped,
        source=workload.source,
    )


def _candidates(executor: Executor, statements: list[Statement], facts: Facts) -> list[IndexSpec]:
    columns = {name: set(f.types) for name, f in facts.tables.items()}
    pool: dict[IndexSpec, None] = {}
    for statement in statements:
        for usage in usages(statement.sql, executor.dialect.name, columns):
            table = facts.tables.get(usage.table)
            if table is not None:
                for spec in candidates_for(usage, table, dialect=executor.dialect.name):
                    pool.setdefault(spec, None)
    return list(pool)


def _judge(tx: Transaction, hypo: bool, facts: Facts, build_limit: int | None) -> Judge:
    dialect = tx.executor.dialect.name
    if hypo:
        return HypoJudge(tx)
    if dialect in ("mysql", "mariadb"):
        return PlanJudge(tx)
    return SandboxJudge(tx, sizes=facts.sizes, build_limit=build_limit)


def _touches(statement: Statement, spec: IndexSpec) -> bool:
    return spec.table.lower() in statement.tables


def _search(
    judge: Judge,
    statements: list[Statement],
    pool: list[IndexSpec],
    facts: Facts,
    max_indexes: int,
    max_size: int | None,
    min_gain: float,
    budget: Budget,
) -> tuple[list[IndexSpec], dict[int, QueryImpact], list[Recommendation], str]:
    empty: frozenset[IndexSpec] = frozenset()
    base = {s.id: judge.cost(s, empty) for s in statements}
    # weights turn costs into the statements' recorded time, where the server counted it
    weight = {
        s.id: (s.total_ms / base[s.id]) if s.total_ms and base[s.id] > 0 else 1.0
        for s in statements
    }

    def workload_cost(config: frozenset[IndexSpec]) -> float:
        return sum(weight[s.id] * judge.cost(s, config) for s in statements)

    if judge.can_try:
        useful = [
            spec
            for spec in pool
            if any(
                judge.cost(s, frozenset({spec})) <= (1 - SEED_GAIN) * base[s.id]
                for s in statements
                if _touches(s, spec)
            )
        ]
        result = greedy(
            useful,
            workload_cost,
            max_indexes=max_indexes,
            size=judge.size,
            max_size=max_size,
            min_gain=min_gain,
            budget=budget,
        )
        chosen = _narrowed(result.chosen, workload_cost)
        stopped = result.stopped if result.stopped.startswith("the ") else ""
    else:
        chosen, stopped = _from_plans(judge, statements, pool, max_indexes), ""
    config = frozenset(chosen)
    impacts = {
        s.id: QueryImpact(
            sql=s.text,
            calls=s.calls,
            total_ms=s.total_ms,
            cost_before=base[s.id],
            cost_after=judge.cost(s, config) if judge.can_try else None,
            plan_before=judge.plan(s, empty),
            plan_after=judge.plan(s, config) if judge.can_try else None,
            values=s.values,
        )
        for s in statements
    }
    shares: dict[tuple[IndexSpec, int], float] = {}
    recommendations = [
        _recommendation(judge, spec, chosen, statements, base, weight, shares) for spec in chosen
    ]
    # each statement's measured gain is shared out by the indexes' planner marginals
    totals: dict[int, float] = {}
    for (_, sid), value in shares.items():
        totals[sid] = totals.get(sid, 0.0) + value
    for key, value in shares.items():
        shares[key] = value / totals[key[1]] if totals[key[1]] > 0 else 0.0
    for r in recommendations:
        r.shares = {sid: share for (spec, sid), share in shares.items() if spec == r.spec}
    return chosen, impacts, recommendations, stopped


def _narrowed(
    chosen: list[IndexSpec], cost: Callable[[frozenset[IndexSpec]], float]
) -> list[IndexSpec]:
    """A covering index (INCLUDE columns) gives way to its key-only twin when the twin keeps
    at least :data:`NARROW_SHARE` of the gain: the extra columns cost space and writes."""
    out = list(chosen)
    for i, spec in enumerate(out):
        if not spec.include:
            continue
        twin = IndexSpec(spec.table, spec.columns, (), spec.directions, spec.schema)
        if twin in out:
            continue
        without = cost(frozenset(out[:i] + out[i + 1 :]))
        wide = without - cost(frozenset(out))
        narrow = without - cost(frozenset([*out[:i], twin, *out[i + 1 :]]))
        if wide > 0 and narrow >= NARROW_SHARE * wide:
            out[i] = twin
    return out


def _recommendation(
    judge: Judge,
    spec: IndexSpec,
    chosen: list[IndexSpec],
    statements: list[Statement],
    base: dict[int, float],
    weight: dict[int, float],
    shares: dict[tuple[IndexSpec, int], float],
) -> Recommendation:
    alone = frozenset({spec})
    whole = frozenset(chosen)
    others = frozenset(c for c in chosen if c != spec)
    queries = []
    saved_ms = 0.0
    cost_saved = 0.0
    timed = False
    for s in statements:
        if not _touches(s, spec):
            continue
        if not judge.can_try:
            queries.append(
                QueryImpact(
                    s.text,
                    s.calls,
                    s.total_ms,
                    base[s.id],
                    None,
                    judge.plan(s, frozenset()),
                    None,
                    s.values,
                )
            )
            continue
        after = judge.cost(s, alone)
        if after > (1 - HELPED) * base[s.id]:
            continue
        queries.append(
            QueryImpact(
                s.text,
                s.calls,
                s.total_ms,
                base[s.id],
                after,
                judge.plan(s, frozenset()),
                judge.plan(s, alone),
                s.values,
            )
        )
        marginal = max(0.0, judge.cost(s, others) - judge.cost(s, whole))
        shares[(spec, s.id)] = marginal
        cost_saved += weight[s.id] * marginal
        if s.total_ms and base[s.id] > 0:
            saved_ms += s.total_ms * marginal / base[s.id]
            timed = True
    return Recommendation(
        spec=spec,
        ddl="",
        queries=queries,
        size_bytes=judge.size(spec) if judge.can_try else None,
        size_source="estimated" if judge.method == "hypopg" else "built" if judge.can_try else None,
        estimated_saved_ms=saved_ms if timed else None,
        cost_saved=cost_saved,
    )


def _from_plans(
    judge: Judge, statements: list[Statement], pool: list[IndexSpec], max_indexes: int
) -> list[IndexSpec]:
    """MySQL/MariaDB: for each table a statement's plan reads in full, the first candidate
    (equality columns, then a range) of that statement, most rows examined first."""
    ranked = sorted(statements, key=lambda s: -judge.cost(s, frozenset()) * (s.calls or 1))
    chosen: list[IndexSpec] = []
    for s in ranked:
        plan = judge.plan(s, frozenset())
        if judge.cost(s, frozenset()) < PLAN_MIN_ROWS:
            continue
        for spec in pool:
            if spec in chosen or not _touches(s, spec):
                continue
            if f"ALL on {spec.table}" in plan and len(chosen) < max_indexes:
                chosen.append(spec)
                break
    return chosen


def _failures(judge: Judge, chosen: list[IndexSpec]) -> list[str]:
    if not judge.failed:
        return []
    reasons = dict.fromkeys(judge.failed.values())
    return [
        f"{len(judge.failed)} candidate{'s' if len(judge.failed) != 1 else ''} could not be "
        f"judged: {'; '.join(list(reasons)[:3])}"
    ]


def _verify(
    executor: Executor,
    recommendations: list[Recommendation],
    impacts: dict[int, QueryImpact],
    statements: list[Statement],
    facts: Facts,
    build_limit: int | None,
    *,
    runs: int,
    lock_timeout: float,
    notes: list[str],
) -> bool:
    from workbench.advisor.verify import verify

    buildable = []
    for r in recommendations:
        table_bytes = facts.sizes.get(r.spec.table.lower())
        if build_limit is not None and table_bytes and table_bytes > build_limit:
            r.notes.append(
                f"not measured: {r.spec.table} is {table_bytes / 2**20:,.0f} MB, over the build "
                f"limit ({build_limit / 2**20:,.0f} MB): building the index would block its "
                "writes until the rollback (advise(build_limit_mb=None) lifts the limit)"
            )
            continue
        buildable.append(r)
    if not buildable:
        return False
    specs = [r.spec for r in buildable]
    helped = [s for s in statements if any(_touches(s, spec) for spec in specs)]
    try:
        result = verify(executor, specs, helped, runs=runs, lock_timeout=lock_timeout)
    except LockTimeoutError as exc:
        notes.append(
            f"not measured: building the indexes waited too long for a lock: {exc.message}"
        )
        return False
    for statement in helped:
        comparison = result.comparisons.get(statement.id)
        impact = impacts[statement.id]
        if comparison is not None:
            impact.measured = comparison
            impact.measured_summary = comparison.summary()
        built_plan = result.plans.get(statement.id)
        if built_plan is not None:
            impact.plan_after = built_plan
    for r in buildable:
        if r.spec in result.unusable:
            r.notes.append(result.unusable[r.spec])
        if r.spec in result.sizes:
            r.size_bytes, r.size_source = result.sizes[r.spec], "built"
        r.write_overhead = result.writes.get(r.spec.table.lower())
        shared = [o.spec.label() for o in buildable if o is not r and o.spec.table == r.spec.table]
        if shared and r.write_overhead is not None:
            r.notes.append(f"the insert was timed with {', '.join(shared)} built too")
        saved = 0.0
        for q in r.queries:
            statement = next(s for s in statements if s.text == q.sql)
            measured = impacts[statement.id]
            q.measured, q.measured_summary = measured.measured, measured.measured_summary
            built_plan = result.plans.get(statement.id, "")
            if built_plan and f"new {r.spec.label()}" not in built_plan:
                r.notes.append(
                    "built for real, the index was not chosen by the planner for "
                    f"{q.sql[:60]}…: it chose {built_plan}"
                )
            summary = q.measured_summary or {}
            delta = float(summary.get("baseline_p50") or 0) - float(
                summary.get("candidate_p50") or 0
            )
            share = r.shares.get(statement.id, 1.0)
            saved += max(0.0, delta) * (statement.calls or 1) * share
        r.measured_saved_ms = saved if any(q.measured_summary for q in r.queries) else None
    notes.extend(result.notes)
    return True
