"""The tools on one statement: its plan, its latency, a fix tried in the rollback sandbox."""

from __future__ import annotations

import json
from typing import Any

from workbench import formatting as fmt
from workbench import snippets
from workbench.evidence.payload import plan_text
from workbench.redaction import redact_params
from workbench.tools.inputs import integer_input, params_input, shown_sql, text_input
from workbench.tools.model import Outcome, ToolContext

__all__ = ["explain", "profile", "try_fix"]


def explain(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.explain import explain

    sql, params, analyze = text_input(data, "sql"), params_input(data), bool(data.get("analyze"))
    plan = explain(box.executor, sql, analyze=analyze, params=params)
    box.plans.append(plan)
    number = len(box.plans)
    text = plan_text(plan, number - 1, box.budget, redact_literals=box.redact_literals)
    headline = plan.root.label
    if plan.total_time_ms is not None:
        headline += f", {fmt.milliseconds(plan.total_time_ms)}"
    return Outcome(
        True,
        f"statement: {shown_sql(box, sql)}\n{text}",
        f"{'EXPLAIN ANALYZE' if analyze else 'EXPLAIN'}: {len(plan.nodes)} nodes, {headline}",
        value=plan,
        code=snippets.explain_line(
            sql, analyze=analyze, params=params, name=f"plan_{number}" if number > 1 else "plan"
        ),
        title=f"Architect: {'EXPLAIN ANALYZE' if analyze else 'EXPLAIN'}",
    )


def profile(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.evidence import Evidence
    from workbench.profiling.launch import profile

    sql, params = text_input(data, "sql"), params_input(data)
    runs = integer_input(data, "runs", 50, 5, box.max_profile_runs)
    asked = data.get("runs")
    prof = profile(box.executor, sql, runs=runs, warmup=min(10, runs), params=params)
    box.profiles.append(prof)
    summary = Evidence.profile_summary(prof)
    summary["sql"] = shown_sql(box, sql)
    summary["params"] = redact_params(summary.get("params")) if box.redact_literals else params
    if box.redact_literals:
        from workbench.redaction import redact_condition

        summary["errors"] = [redact_condition(e) for e in summary.get("errors", [])]
    capped = (
        f"\n(runs capped at {box.max_profile_runs}; {asked} were asked)"
        if isinstance(asked, int) and asked > box.max_profile_runs
        else ""
    )
    s = prof.summary()
    number = len(box.profiles)
    return Outcome(
        True,
        json.dumps(summary, indent=1, default=str) + capped,
        f"{s['runs']:,} runs: p50 {fmt.milliseconds(s['p50'])}, p95 "
        f"{fmt.milliseconds(s['p95'])}, {s['errors']:,} errors",
        value=prof,
        code=snippets.profile_line(
            sql, runs=runs, warmup=min(10, runs), params=params, name=f"prof_{number}"
        ),
        title="Architect: profile",
    )


def try_fix(box: ToolContext, data: dict[str, Any]) -> Outcome:
    from workbench.fixes import try_fix

    fix, sql, params = text_input(data, "fix"), text_input(data, "sql"), params_input(data)
    trial = try_fix(box.executor, fix, sql, params=params)
    box.trials.append(trial)
    diff = trial.diff
    lines = [
        f"fix: {shown_sql(box, fix)}",
        f"verdict: {trial.verdict}",
        *(f"note: {n}" for n in trial.notes),
        "changed: " + ("; ".join(diff.changed_operations) or "no operation changed"),
        "before:",
        plan_text(trial.before, 0, box.budget // 2, redact_literals=box.redact_literals),
        "after:",
        plan_text(trial.after, 1, box.budget // 2, redact_literals=box.redact_literals),
    ]
    return Outcome(
        True,
        "\n".join(lines),
        trial.verdict + (" (hypothetical index)" if trial.hypothetical else ""),
        value=trial,
        code=snippets.try_fix_line(fix, sql, params=params, name=f"trial_{len(box.trials)}"),
        title="Architect: fix tried (rolled back)",
    )
