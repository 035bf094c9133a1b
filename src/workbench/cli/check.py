"""``workbench check``: a latency regression check for CI, against a saved baseline: of a
statement, or of an endpoint (``workbench check http://host/api/users --baseline F``)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from workbench import formatting as fmt
from workbench.cli.commands import (
    EXIT_FOUND,
    EXIT_INTERRUPTED,
    EXIT_OK,
    print_json,
    profile_json,
    session_for,
)
from workbench.cli.http import is_endpoint, profile_endpoint, request_from
from workbench.errors import ConfigurationError, QueryError
from workbench.profiling.baseline import load_baseline, save_baseline

if TYPE_CHECKING:
    from workbench.profiling.result import Profile

__all__ = ["CHECK_MIN_RUNS", "check"]

CHECK_MIN_RUNS = 10


def check(args: argparse.Namespace) -> int:
    if args.runs < CHECK_MIN_RUNS:  # fewer cannot tell a regression from noise
        raise ConfigurationError(
            f"check needs --runs {CHECK_MIN_RUNS} or more, not {args.runs}",
            hint="e.g. --runs 200 (the default)",
        )
    if len(args.target) == 1 and is_endpoint(args.target[0]):  # an endpoint's latency
        baseline = None if args.save_baseline else load_baseline(args.baseline)
        request = request_from(args, args.target[0])
        current = profile_endpoint(args, request, concurrency=1, statements=False)
        sql = current.sql
    else:
        current, baseline, sql = _statement(args)
    if current.interrupted:  # a partial sample is neither a baseline nor a verdict
        print("workbench: interrupted: nothing saved, nothing compared", file=sys.stderr)
        return EXIT_INTERRUPTED
    if current.latencies_ms.size < 2:
        first = current.messages[0] if current.messages else "no execution succeeded"
        raise QueryError(f"the statement failed in every run: {first}")
    if current.errors:
        print(f"workbench: note: {current.errors} of {current.runs} runs failed", file=sys.stderr)
    if args.save_baseline:
        save_baseline(args.baseline, current)
        summary = current.summary()
        if args.json:
            print_json({"baseline": str(args.baseline), "saved": True, **profile_json(current)})
        else:
            print(
                f"baseline saved: {args.baseline} (p50 {fmt.milliseconds(summary['p50'])}, "
                f"{summary['runs']:,} runs)"
            )
        return EXIT_OK
    assert baseline is not None
    if " ".join(baseline.sql.split()) != " ".join(sql.split()):
        print(
            "workbench: note: the baseline was measured for a different statement", file=sys.stderr
        )
    comparison = baseline.compare(current)
    compared = comparison.summary()
    regressed = comparison.regressed(threshold=args.threshold, min_delta_ms=args.min_delta_ms)
    result = EXIT_FOUND if regressed else EXIT_OK
    if args.json:
        print_json(
            {
                "regressed": regressed,
                "verdict": comparison.verdict,
                "slowdown": comparison.slowdown,
                "threshold": args.threshold,
                "delta_ms": comparison.delta_ms,
                "min_delta_ms": args.min_delta_ms,
                **compared,
                "exit_code": result,
            }
        )
    else:
        state = "FAIL" if regressed else "ok"
        before = fmt.milliseconds(compared["baseline_p50"])
        now = fmt.milliseconds(compared["candidate_p50"])
        print(
            f"{state}: {comparison.verdict} (baseline p50 {before}, now {now}, threshold "
            f"{args.threshold:g}× and {args.min_delta_ms:g} ms)"
        )
    return result


def _statement(args: argparse.Namespace) -> tuple[Profile, Profile | None, str]:
    with session_for(args) as (session, sql):
        baseline = None if args.save_baseline else load_baseline(args.baseline)
        if baseline is not None and baseline.dialect != session.dialect:
            raise ConfigurationError(
                f"the baseline was measured on {baseline.dialect}, this database is "
                f"{session.dialect}",
                hint="compare like with like: save a baseline on this database (--save-baseline)",
            )
        current = session.profile(
            sql,
            runs=args.runs,
            warmup=args.warmup,
            params=args.params,
            allow_writes=args.allow_writes,
            progress=False,
        )
    return current, baseline, sql
