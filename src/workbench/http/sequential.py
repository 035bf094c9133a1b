"""One client in this process, one request at a time (``concurrency=1``).

Each request is timed around the client's call (the response read to its end) on a kept-alive
connection. Between two requests, outside the timed region, ``after_each`` runs: the HTTP
profile reads the database's statement counters there, so each request's statements are its
own. A failed request (a 500, a refused connection, a timeout) is recorded and the run goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench.http.samples import Samples, failure_text
from workbench.profiling.modes import Progress, progress_bar

if TYPE_CHECKING:
    from workbench.http.request import HttpRequest

__all__ = ["client_for", "run_sequential", "send"]


def client_for(request: HttpRequest, timeout_s: float, *, connections: int = 1) -> Any:
    """An httpx client for ``request``'s host: no redirects followed (a redirect is what the
    endpoint answered), proxies from the environment only for hosts other than this machine."""
    import httpx

    return httpx.Client(
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        trust_env=not request.loopback,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


def send(client: Any, request: HttpRequest, timeout_s: float) -> tuple[int, int, int, str | None]:
    """``(start ns, latency ns, status, failure)`` of one request."""
    headers = list(request.headers)
    started = time.perf_counter_ns()
    try:
        response = client.request(
            request.method, request.url, headers=headers, content=request.body
        )
    except Exception as exc:
        ended = time.perf_counter_ns()
        return started, ended - started, 0, request.scrub(failure_text(exc, timeout_s))
    ended = time.perf_counter_ns()
    return started, ended - started, response.status_code, None


def run_sequential(
    request: HttpRequest,
    *,
    runs: int,
    duration: float | None,
    timeout_s: float,
    client: Any,
    after_each: Callable[[], None] | None = None,
    progress: Progress = None,
    stop: Callable[[], bool] | None = None,
) -> Samples:
    """``runs`` requests one after another (or as many as fit in ``duration`` seconds)."""
    samples = Samples("sequential")
    total = None if duration is not None else runs
    bar = progress_bar(progress, total, duration, [])
    began = time.perf_counter()
    deadline = None if duration is None else began + duration
    try:
        while True:
            if deadline is None and len(samples) >= runs:
                break
            if deadline is not None and time.perf_counter() >= deadline:
                break
            if stop is not None and stop():
                samples.interrupted = True
                break
            start, latency, status, failure = send(client, request, timeout_s)
            samples.add(start, latency, status, failure)
            if after_each is not None:
                after_each()
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        samples.interrupted = True
    finally:
        if bar is not None:
            bar.close()
    samples.wall_s = time.perf_counter() - began
    return samples
