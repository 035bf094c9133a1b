"""One request to the Messages API, streamed, counted before it is sent, retried when the
stream breaks, and every failure said as what it was.

The SDK retries 429, 529 and 5xx before the stream starts. An error *event* in the middle of
a stream (``overloaded_error`` after ``200 OK``) is not retried by the SDK: here it is, like
a 529, with a line in the streamed text saying so; after the last retry the error names it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.errors import ArchitectError

__all__ = ["Turn", "check_size", "describe_error", "stream_turn"]

#: a local estimate this far over the budget refuses at once (the estimate errs high by less)
PLAINLY_OVER = 1.25
#: mid-stream errors retried like the SDK retries a 529 before the stream
RETRIED_KINDS = frozenset({"overloaded_error", "api_error", "rate_limit_error"})


@dataclass
class Turn:
    """One assistant turn: its content blocks (plain dicts), text, stop reason and usage."""

    blocks: list[dict[str, Any]]
    text: str
    stop_reason: str | None
    usage: dict[str, int]
    model: str | None
    retried: list[str]


def count_tokens(client: Any, params: dict[str, Any]) -> int:
    """The request's input tokens: the API's counter, else a local estimate."""
    from workbench.evidence import estimate_tokens

    counter = getattr(getattr(client, "messages", None), "count_tokens", None)
    counted = 0
    if counter is not None:
        keys = ("model", "system", "messages", "tools", "tool_choice")
        try:
            result = counter(**{k: v for k, v in params.items() if k in keys})
            counted = int(getattr(result, "input_tokens", 0))
        except Exception:  # a gateway without the counting endpoint: estimate locally
            counted = 0
    return counted or estimate_tokens(json.dumps(params, default=str))


def check_size(client: Any, params: dict[str, Any], limit: int, saved: str) -> int:
    """The request's input tokens, or an :class:`ArchitectError` past ``limit`` (nothing is
    sent; a request plainly over is not even sent to the counter)."""
    from workbench.evidence import estimate_tokens

    estimate = estimate_tokens(json.dumps(params, default=str))
    hint = (
        f"condense it (Architect(budget=3000)), send fewer plans, or raise max_input_tokens; "
        f"{saved}"
    )
    if estimate > limit * PLAINLY_OVER:
        raise ArchitectError(
            f"the request would be about {estimate:,} input tokens (counted locally), far "
            f"over the budget of {limit:,}; nothing was sent",
            hint=hint,
        )
    counted = count_tokens(client, params)
    if counted > limit:
        raise ArchitectError(
            f"the request would be {counted:,} input tokens, over the budget of {limit:,}; "
            "nothing was sent",
            hint=hint,
        )
    return counted


def stream_turn(
    client: Any,
    params: dict[str, Any],
    *,
    emit: Callable[[str], None],
    retries: int,
    saved: str,
    backoff_s: float = 0.5,
) -> Turn:
    """Send one request, streaming its text to ``emit``; retry a stream that breaks."""
    retried: list[str] = []
    attempt = 0
    while True:
        parts: list[str] = []
        try:
            with client.messages.stream(**params) as stream:
                for chunk in stream.text_stream:
                    parts.append(chunk)
                    emit(chunk)
                final = stream.get_final_message()
            break
        except Exception as exc:
            kind = _mid_stream_kind(exc)
            if kind is None or attempt >= retries:
                raise describe_error(exc, saved, retries=retries, mid_stream=kind) from None
            attempt += 1
            retried.append(kind)
            if parts:
                emit(f"\n\n[the API reported {kind} in the middle of the answer; retrying]\n\n")
            time.sleep(min(backoff_s * 2 ** (attempt - 1), 8.0))
    blocks = [_plain(block) for block in final.content]
    return Turn(
        blocks=blocks,
        text="".join(b.get("text", "") for b in blocks if b.get("type") == "text")
        or "".join(parts),
        stop_reason=getattr(final, "stop_reason", None),
        usage=_usage(final),
        model=getattr(final, "model", None),
        retried=retried,
    )


def _mid_stream_kind(exc: Exception) -> str | None:
    """The error type of an error event inside a 200 stream (``None``: another failure)."""
    import anthropic

    if not isinstance(exc, anthropic.APIStatusError) or exc.status_code != 200:
        return None
    body = getattr(exc, "body", None)
    kind = getattr(exc, "type", None)
    if not kind and isinstance(body, dict):
        inner = body.get("error")
        kind = (inner if isinstance(inner, dict) else body).get("type")
    kind = str(kind or "api_error")
    return kind if kind in RETRIED_KINDS else None


def describe_error(
    exc: Exception, saved: str, *, retries: int, mid_stream: str | None = None
) -> ArchitectError:
    """The SDK's exception as an :class:`ArchitectError` that says what happened and what to
    do; ``saved`` says where the evidence is (nothing is lost)."""
    import anthropic

    if mid_stream:
        error = ArchitectError(
            f"the API reported {mid_stream} in the middle of the answer (an error event after "
            f"200 OK) and again after {retries} retries",
            hint=f"try again in a minute, or use the offline findings (wb.analyze(ev)); {saved}",
        )
    elif isinstance(exc, anthropic.AuthenticationError):
        error = ArchitectError(
            "the API refused the key (401 Unauthorized)",
            hint=f"check ANTHROPIC_API_KEY; {saved}",
        )
    elif isinstance(exc, anthropic.PermissionDeniedError):
        error = ArchitectError(
            "the API refused the request (403 Forbidden)",
            hint=f"check the key's permissions and the model id; {saved}",
        )
    elif isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        if status == 200:  # an error event the stream does not retry
            error = ArchitectError(
                f"the API reported an error in the middle of the answer: {exc}",
                hint=f"try again; {saved}",
            )
        elif status == 400:
            error = ArchitectError(
                f"the API rejected the request (400): {exc}",
                hint=f"check the model id and the persona; {saved}",
            )
        else:
            kind = {429: "rate limited", 529: "overloaded"}.get(status, "failing")
            error = ArchitectError(
                f"the API is {kind} ({status}) and did not recover after {retries} retries",
                hint=f"try again in a minute, or use the offline findings (wb.analyze(ev)); "
                f"{saved}",
            )
    elif isinstance(exc, anthropic.APIConnectionError):
        error = ArchitectError(
            f"cannot reach the API ({type(exc).__name__})",
            hint=f"check the network and ANTHROPIC_BASE_URL; {saved}",
        )
        error.unreachable = True  # type: ignore[attr-defined]
    else:
        error = ArchitectError(f"the request failed: {type(exc).__name__}: {exc}", hint=saved)
    return error


def _plain(block: Any) -> dict[str, Any]:
    """An SDK content block as the plain dict the next request sends back."""
    data = block.model_dump() if hasattr(block, "model_dump") else dict(block)
    kind = data.get("type")
    if kind == "text":
        return {"type": "text", "text": data.get("text", "")}
    if kind == "tool_use":
        return {
            "type": "tool_use",
            "id": data["id"],
            "name": data["name"],
            "input": data.get("input") or {},
        }
    return {k: v for k, v in data.items() if v is not None}


def _usage(message: Any) -> dict[str, int]:
    usage = getattr(message, "usage", None)
    if usage is None:
        return {}
    out = {}
    for key in (
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ):
        value = getattr(usage, key, None)
        if isinstance(value, int):
            out[key] = value
    return out
