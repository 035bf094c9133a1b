"""Load without wrk: an async client (httpx) with one task per connection.

The event loop runs in a thread of its own (a notebook's kernel already runs one in the main
thread). Python's client costs tens of microseconds per request, so on a small machine a fast
endpoint measures the client as much as the server: wrk (:mod:`workbench.http.wrk`) is used
instead wherever it is installed, and the profile's notes say which measured.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench.http.samples import Samples, failure_text
from workbench.profiling.modes import Progress, progress_bar

if TYPE_CHECKING:
    from workbench.http.request import HttpRequest

__all__ = ["run_async"]


def run_async(
    request: HttpRequest,
    *,
    concurrency: int,
    runs: int,
    duration: float | None,
    timeout_s: float,
    progress: Progress = None,
    stop: Callable[[], bool] | None = None,
) -> Samples:
    """``runs`` requests over ``concurrency`` connections (or as many as ``duration`` allows)."""
    samples = Samples("httpx-async")
    halt = threading.Event()
    failures: list[BaseException] = []
    bar = progress_bar(progress, None if duration is not None else runs, duration, [])
    lock = threading.Lock()

    def tick() -> None:
        if bar is not None:
            with lock:
                bar.update(1)

    def main() -> None:
        try:
            asyncio.run(_load(request, samples, concurrency, runs, duration, timeout_s, halt, tick))
        except BaseException as exc:  # reported in the caller's thread
            failures.append(exc)

    thread = threading.Thread(target=main, name="workbench-http-load", daemon=True)
    began = time.perf_counter()
    thread.start()
    try:
        while thread.is_alive():
            thread.join(timeout=0.1)
            if stop is not None and not halt.is_set() and stop():
                samples.interrupted = True
                halt.set()
    except KeyboardInterrupt:
        samples.interrupted = True
        halt.set()
        thread.join(timeout=timeout_s + 5)
    finally:
        if bar is not None:
            bar.close()
    if failures:
        raise failures[0]
    samples.wall_s = samples.wall_s or time.perf_counter() - began
    return samples


async def _load(
    request: HttpRequest,
    samples: Samples,
    concurrency: int,
    runs: int,
    duration: float | None,
    timeout_s: float,
    halt: threading.Event,
    tick: Callable[[], None],
) -> None:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    issued = [0]
    began = time.perf_counter()
    deadline = None if duration is None else began + duration
    headers = list(request.headers)

    async with httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s),
        limits=limits,
        follow_redirects=False,
        trust_env=not request.loopback,
    ) as client:

        async def worker(number: int) -> None:
            while not halt.is_set():
                if deadline is None:
                    if issued[0] >= runs:
                        return
                    issued[0] += 1
                elif time.perf_counter() >= deadline:
                    return
                started = time.perf_counter_ns()
                try:
                    response: Any = await client.request(
                        request.method, request.url, headers=headers, content=request.body
                    )
                except Exception as exc:
                    ended = time.perf_counter_ns()
                    text = request.scrub(failure_text(exc, timeout_s))
                    samples.add(started, ended - started, 0, text, number)
                else:
                    ended = time.perf_counter_ns()
                    samples.add(started, ended - started, response.status_code, None, number)
                tick()

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    samples.wall_s = time.perf_counter() - began
