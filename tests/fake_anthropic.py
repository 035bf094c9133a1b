"""A local stand-in for Anthropic's Messages API, for tests: the real SDK talks to it.

It speaks enough of the protocol for the workbench: ``POST /v1/messages`` (streamed as
server-sent events, text and ``tool_use`` blocks), ``POST /v1/messages/count_tokens``, error
statuses with ``retry-after-ms`` so the SDK's retries are quick, and an error *event* in the
middle of a 200 stream. ``script`` plays turns in order (text, tool calls, stop reason), so a
test can drive a whole tool loop. Every request is recorded (path, headers, JSON body) so a
test can assert exactly what was sent. Loopback only.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ERRORS = {
    401: ("authentication_error", "invalid x-api-key"),
    429: ("rate_limit_error", "rate limited"),
    500: ("api_error", "internal error"),
    529: ("overloaded_error", "Overloaded"),
}


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def raw(self) -> str:
        return json.dumps(self.body)


@dataclass
class Scripted:
    """One assistant turn: its text, its tool calls ``(name, input)``, its stop reason
    (default: ``tool_use`` when it calls tools), or an error event after ``error_after``
    characters of text (``error`` names its type)."""

    text: str = ""
    tools: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stop: str | None = None
    error: str | None = None
    error_after: int = 10


@dataclass
class FakeAnthropic:
    """Configure, then point the SDK at ``url``."""

    text: str = "## Diagnosis\nThe scan of `orders` dominates."
    findings: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "code": "missing_index",
                "severity": "high",
                "title": "orders.user_id has no index",
                "fix": "CREATE INDEX orders_user_id_idx ON orders (user_id)",
                "expected_effect": "the scan becomes an index lookup",
                "node_ids": [1],
            }
        ]
    )
    failures: list[int] = field(default_factory=list)  # statuses to answer first, in order
    always: int | None = None  # a status to answer forever
    input_tokens: int | None = None  # what count_tokens reports (default: the body's size / 4)
    requests: list[Recorded] = field(default_factory=list)
    script: list[Scripted] = field(default_factory=list)  # turns played in order, then the default
    _cached: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    fake.requests.append(Recorded(self.path, headers, body))
                if self.path.startswith("/v1/messages/count_tokens"):
                    tokens = fake.input_tokens or len(json.dumps(body)) // 4
                    return self._json(200, {"input_tokens": tokens})
                status = fake._next_status()
                if status != 200:
                    kind, message = ERRORS.get(status, ("api_error", "error"))
                    return self._json(
                        status,
                        {"type": "error", "error": {"type": kind, "message": message}},
                        {"retry-after-ms": "20"},
                    )
                self._stream(body)

            def _json(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.end_headers()
                for event, data in fake._events(body):
                    self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
                    self.wfile.flush()
                    if event == "error":
                        break

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def messages(self) -> list[Recorded]:
        """The ``/v1/messages`` requests (not the token counts)."""
        return [r for r in self.requests if r.path.rstrip("/") == "/v1/messages"]

    def _next_status(self) -> int:
        with self._lock:
            if self.failures:
                return self.failures.pop(0)
        return self.always or 200

    def _events(self, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            turn = self.script.pop(0) if self.script else None
        if turn is None:
            tools = [("report_findings", {"findings": self.findings})] if self.findings else []
            turn = Scripted(text=self.text, tools=tools)
        # prompt caching: a prefix marked with cache_control is "written" once, "read" after
        prefix = json.dumps([body.get("system"), body.get("messages", [{}])[0]], sort_keys=True)
        cached = 1200 if prefix in self._cached else 0
        created = 0 if cached else 1200
        self._cached.add(prefix)
        message = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": 300,
                "output_tokens": 1,
                "cache_creation_input_tokens": created,
                "cache_read_input_tokens": cached,
            },
        }
        events: list[tuple[str, dict[str, Any]]] = [
            ("message_start", {"type": "message_start", "message": message}),
        ]
        index = 0
        if turn.text or not turn.tools:
            events.append(_start(index, {"type": "text", "text": ""}))
            sent = 0
            for piece in _pieces(turn.text):
                if turn.error and sent >= turn.error_after:
                    events.append(
                        (
                            "error",
                            {
                                "type": "error",
                                "error": {"type": turn.error, "message": "Overloaded"},
                            },
                        )
                    )
                    return events
                events.append(_delta(index, {"type": "text_delta", "text": piece}))
                sent += len(piece)
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
            index += 1
        for name, tool_input in turn.tools:
            tool_id = f"toolu_{len(self.requests)}_{index}"
            events.append(
                _start(index, {"type": "tool_use", "id": tool_id, "name": name, "input": {}})
            )
            events.append(
                _delta(index, {"type": "input_json_delta", "partial_json": json.dumps(tool_input)})
            )
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
            index += 1
        stop = turn.stop or ("tool_use" if turn.tools else "end_turn")
        events.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": 42},
                },
            )
        )
        events.append(("message_stop", {"type": "message_stop"}))
        return events


def _start(index: int, block: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def _delta(index: int, delta: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def _pieces(text: str, size: int = 12) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
