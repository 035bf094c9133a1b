"""What the HTTP load engines record: one entry per request, and the words for a failure.

Every engine (one client in this process, an async client, wrk) fills a :class:`Samples`:
start, latency, status code (0: no response), the client connection, and an error message
index. A 500 is an error with its latency; a refused connection, a timeout or a connection the
server closed are errors too, recorded with the time they took, and the run goes on.
"""

from __future__ import annotations

import http
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Samples", "failure_text", "status_text"]


def status_text(status: int) -> str:
    """``HTTP 500 Internal Server Error``."""
    try:
        return f"HTTP {status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def failure_text(exc: BaseException, timeout_s: float) -> str:
    """A failed request in plain words (httpx's exceptions, translated)."""
    import httpx

    detail = " ".join(str(exc).split())
    if isinstance(exc, httpx.TimeoutException):
        what = {
            httpx.ConnectTimeout: "connecting",
            httpx.WriteTimeout: "sending the request",
            httpx.PoolTimeout: "waiting for a free connection",
        }.get(type(exc), "waiting for the response")
        return f"timeout: no answer within {timeout_s:g} s ({what})"
    if isinstance(exc, httpx.ConnectError):
        if "refused" in detail.lower() or "errno 111" in detail.lower() or _refused(exc):
            return "connection refused (is the service running, on that port?)"
        return f"cannot connect: {detail or type(exc).__name__}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the server closed the connection without a complete response ({detail})"
    if isinstance(exc, httpx.TransportError):
        return f"connection error: {detail or type(exc).__name__}"
    return f"{type(exc).__name__}: {detail}"


def _refused(exc: BaseException) -> bool:
    """A refused connection somewhere down the chain (anyio says "All connection attempts
    failed" and keeps the operating system's error as the cause)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return True
        nested = getattr(current, "exceptions", None)  # an ExceptionGroup of attempts
        if nested and any(_refused(e) for e in nested):
            return True
        current = current.__cause__ or current.__context__
    return False


@dataclass
class Samples:
    """Requests as they were measured (times in ns on one monotonic clock)."""

    engine: str
    start_ns: list[float] = field(default_factory=list)
    latency_ns: list[float] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    worker: list[int] = field(default_factory=list)
    error: list[int] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)

    def add(
        self, start_ns: float, latency_ns: float, status: int, failure: str | None, worker: int = 0
    ) -> None:
        if failure is None and status >= 400:
            failure = status_text(status)
        self.start_ns.append(start_ns)
        self.latency_ns.append(latency_ns)
        self.status.append(status)
        self.worker.append(worker)
        self.error.append(self.message_index(failure) if failure else -1)

    def message_index(self, message: str) -> int:
        if message not in self.messages:
            self.messages.append(message)
        return self.messages.index(message)

    def __len__(self) -> int:
        return len(self.start_ns)

    def arrays(self, limit: int | None = None) -> dict[str, Any]:
        """The samples in start order (the first ``limit`` of them): the fields of a
        :class:`~workbench.profiling.result.Profile`."""
        start = np.asarray(self.start_ns, dtype=np.float64)
        order = np.argsort(start, kind="stable")
        if limit is not None:
            order = order[:limit]
        origin = start[order].min() if order.size else 0.0
        return {
            "start_ms": (start[order] - origin) / 1e6,
            "all_latencies_ms": np.asarray(self.latency_ns, dtype=np.float64)[order] / 1e6,
            "rows": np.full(order.size, -1, dtype=np.int64),
            "worker": np.asarray(self.worker, dtype=np.int16)[order],
            "error": np.asarray(self.error, dtype=np.int16)[order],
            "status": np.asarray(self.status, dtype=np.int16)[order],
            "order": order,
        }
