"""``s.profile_http()``: an endpoint's latency, and what the database did for it.

=====================  ===========================================================================
run                    how
=====================  ===========================================================================
``concurrency=1``      one client in this process (httpx), requests one after another; the
                       database's counters are read after each request, so each request's
                       statements and database time are its own
``concurrency > 1``    wrk with the workbench's logging script where wrk is installed (a C load
                       generator: the load measures the service, not the client); an async
                       httpx client otherwise; the database's counters before and after the run
=====================  ===========================================================================

Warm-up requests go first, one at a time, outside both the measurement and the database's
snapshots. A 500, a refused connection and a timeout are recorded with the time they took and
the run goes on. The request's secrets (``Authorization``, cookies, a URL's password, secret
query values, the body) are in nothing the profile keeps: its name, parameters, messages and
notes are masked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench import formatting as fmt
from workbench.errors import ConfigurationError, warn
from workbench.execution import check_timeout
from workbench.http.request import HttpRequest
from workbench.http.sequential import client_for, run_sequential, send
from workbench.http.snapshots import Counters, Unavailable, open_counters
from workbench.http.statements import StatementReader
from workbench.profiling.result import Profile

if TYPE_CHECKING:
    from workbench.execution import Executor
    from workbench.http.samples import Samples
    from workbench.profiling.modes import Progress
    from workbench.profiling.server_side import ServerStatements

__all__ = ["ENGINES", "profile_http"]

ENGINES = ("auto", "sequential", "wrk", "httpx")


def profile_http(
    executor: Executor,
    url: str | None = None,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    body: str | bytes | Mapping[str, Any] | Sequence[Any] | None = None,
    runs: int = 50,
    warmup: int = 5,
    concurrency: int = 1,
    duration: float | None = None,
    curl: str | None = None,
    timeout: float | None = None,
    role: str | None = None,
    statements: bool = True,
    engine: str = "auto",
    label: str | None = None,
    progress: Progress = None,
    stop: Callable[[], bool] | None = None,
) -> Profile:
    """Profile an HTTP endpoint (any language, any framework) and what it made the database do.

    ``url`` (or ``curl=``, a command line as "Copy as cURL" gives it) is requested ``runs``
    times (or for ``duration`` seconds) after ``warmup`` requests; ``concurrency > 1`` makes a
    load run (wrk where installed). The result is a :class:`~workbench.profiling.result.Profile`
    (mode ``"http"``) whose ``statements`` are the statements the session's database counted
    meanwhile (``pg_stat_statements``; ``performance_schema`` digests on MySQL/MariaDB; ``role``
    narrows PostgreSQL's to one role), ``repeated`` the N+1 candidates among them and ``split``
    each request's time in the database and outside it. ``timeout``: seconds a request may take
    (the session's statement timeout by default); ``statements=False`` measures latency only.

    >>> prof = s.profile_http("http://127.0.0.1:8000/api/users", runs=20)  # doctest: +SKIP
    >>> prof.repeated[["count", "sql"]]                                   # doctest: +SKIP
    """
    request = HttpRequest.build(url, method=method, headers=headers, body=body, curl=curl)
    _check(runs, warmup, concurrency, duration, engine)
    timeout_s = executor.timeout_s if timeout is None else check_timeout(timeout)
    chosen = _engine(engine, concurrency)
    counters: Counters | Unavailable | None = None
    if statements:
        counters = open_counters(executor, role=role)
        if isinstance(counters, Unavailable) and counters.how:  # it could be switched on
            warn(
                f"the database's statements cannot be read: {counters.reason}"
                + (f"; to see them, {counters.how}" if counters.how else "")
            )
    started_at = datetime.now()
    reader = None
    notes: list[str] = []
    try:
        with client_for(request, timeout_s) as client:
            for _ in range(warmup):  # one at a time, before anything is counted
                send(client, request, timeout_s)
            if isinstance(counters, Counters):
                reader = StatementReader(counters, per_request=chosen == "sequential")
                reader.start()
            samples = _run(
                chosen, request, client, concurrency, runs, duration, timeout_s, reader,
                progress, stop, notes,
            )  # fmt: skip
            server, db_ms, trips = reader.finish(len(samples)) if reader else (None, None, None)
    finally:
        if isinstance(counters, Counters):
            counters.close()
    profile = _profile(
        executor, request, samples, runs, duration, concurrency, server, db_ms, trips
    )
    if isinstance(counters, Unavailable):
        profile.notes.append(
            f"no statements: {counters.reason}" + (f"; {counters.how}" if counters.how else "")
        )
    profile.notes = [executor.scrub(request.scrub(n)) for n in notes + profile.notes]
    profile.warmup = warmup
    profile.started_at = started_at
    profile.label = label
    return profile


def _run(
    chosen: str,
    request: HttpRequest,
    client: Any,
    concurrency: int,
    runs: int,
    duration: float | None,
    timeout_s: float,
    reader: StatementReader | None,
    progress: Progress,
    stop: Callable[[], bool] | None,
    notes: list[str],
) -> Samples:
    if chosen == "sequential":
        samples = run_sequential(
            request,
            runs=runs,
            duration=duration,
            timeout_s=timeout_s,
            client=client,
            after_each=reader.request_done if reader else None,
            progress=progress,
            stop=stop,
        )
        notes.append(
            "measured by one client in this process (httpx), one request at a time on a "
            "kept-alive connection"
        )
        return samples
    if chosen == "wrk":
        from workbench.http.wrk import WrkUnreachable, run_wrk

        try:
            return run_wrk(
                request,
                concurrency=concurrency,
                runs=runs,
                duration=duration,
                timeout_s=timeout_s,
                progress=progress,
                stop=stop,
            )
        except WrkUnreachable as exc:
            notes.append(
                f"wrk could not connect ({exc}): the async client measured instead, recording "
                "each failed request"
            )
    from workbench.http.aload import run_async

    samples = run_async(
        request,
        concurrency=concurrency,
        runs=runs,
        duration=duration,
        timeout_s=timeout_s,
        progress=progress,
        stop=stop,
    )
    notes.append(
        f"measured by an async client in this process (httpx), {concurrency} connections"
        + (
            "; wrk is not installed (apt install wrk): a Python client's own CPU time may limit "
            "a load run on a fast endpoint"
            if chosen == "httpx-fallback"
            else ""
        )
    )
    return samples


def _profile(
    executor: Executor,
    request: HttpRequest,
    samples: Samples,
    runs: int,
    duration: float | None,
    concurrency: int,
    server: ServerStatements | None,
    db_ms: np.ndarray | None,
    trips: np.ndarray | None,
) -> Profile:
    arrays = samples.arrays(None if duration is not None else runs)
    order = arrays.pop("order")
    extra: dict[str, np.ndarray] = {"status": arrays.pop("status")}
    latency = arrays["all_latencies_ms"]
    wall = samples.wall_s
    if db_ms is not None and trips is not None and db_ms.size == len(samples):
        extra["db_ms"] = db_ms[order]
        extra["round_trips"] = trips[order]
        # "python_ms" as a handler's split calls it: here the time outside the database
        extra["python_ms"] = np.maximum(latency - extra["db_ms"], 0.0)
        wall = float(np.nansum(latency)) / 1000.0  # the snapshots between requests are no load
    profile = Profile(
        sql=request.line,
        dialect=executor.dialect.name,
        mode="http",
        concurrency=concurrency,
        messages=[executor.scrub(m) for m in samples.messages],
        params=request.describe(),
        wall_s=wall,
        interrupted=samples.interrupted,
        extra=extra,
        notes=list(samples.notes),
        server=server,
        **arrays,
    )
    if server is not None:
        profile.notes += server.notes + _database_notes(profile, server)
    return profile


def _database_notes(profile: Profile, server: ServerStatements) -> list[str]:
    """The headline: statements and database time per request, the N+1 candidates."""
    notes = []
    ok = profile.latencies_ms
    median = float(np.median(ok)) if ok.size else float("nan")
    share = server.db_ms_per_request / median if ok.size and median > 0 else float("nan")
    notes.append(
        f"database: {server.statements_per_request:,.1f} statements and "
        f"{fmt.milliseconds(server.db_ms_per_request)} per request"
        + (
            f", {fmt.percent(min(share, 1.0))} of the median request's {fmt.milliseconds(median)}"
            if share == share
            else ""
        )
    )
    for group in server.n_plus_one()[:3]:
        notes.append(
            f"N+1 candidate: `{fmt.clip(group['sql'], 120)}` ran {group['count']} times per "
            f"request ({fmt.milliseconds(group['total_ms'])} per request)"
        )
    return notes


def _engine(engine: str, concurrency: int) -> str:
    if engine == "auto":
        if concurrency == 1:
            return "sequential"
        from workbench.http.wrk import find_wrk

        return "wrk" if find_wrk() else "httpx-fallback"
    if engine == "sequential" and concurrency != 1:
        raise ConfigurationError("engine='sequential' sends one request at a time: concurrency=1")
    if engine == "wrk":
        from workbench.http.wrk import find_wrk

        if find_wrk() is None:
            raise ConfigurationError(
                "wrk is not installed", hint="apt install wrk, or engine='httpx'"
            )
    return engine


def _check(runs: int, warmup: int, concurrency: int, duration: float | None, engine: str) -> None:
    if not isinstance(runs, int) or isinstance(runs, bool) or runs < 1:
        raise ConfigurationError(f"runs must be a positive integer, not {runs!r}")
    if not isinstance(warmup, int) or warmup < 0:
        raise ConfigurationError(f"warmup must be 0 or more, not {warmup!r}")
    if not isinstance(concurrency, int) or not 1 <= concurrency <= 256:
        raise ConfigurationError(f"concurrency must be between 1 and 256, not {concurrency!r}")
    if duration is not None and (not isinstance(duration, int | float) or not duration > 0):
        raise ConfigurationError(f"duration must be a positive number of seconds, not {duration!r}")
    if engine not in ENGINES:
        raise ConfigurationError(f"unknown engine {engine!r}", hint=", ".join(ENGINES))
