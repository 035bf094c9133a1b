"""The request an HTTP profile sends, and how it is shown: never with its secrets.

A request carries what must never reach a saved profile, a report, evidence or an error:
``Authorization`` and ``Cookie`` headers (and any header named like a token, key, secret or
session), the password of a URL (``https://user:pw@host``), query parameters named like
secrets (``?token=...``, ``?api_key=...``) and the body (a login form). :class:`HttpRequest`
keeps them for sending and shows them masked; :meth:`HttpRequest.scrub` takes them out of any
text (an error message that quotes the URL).

>>> r = HttpRequest.build("https://app:pw@shop.test/api/users?page=2&token=abc123",
...                       headers={"Authorization": "Bearer abc123", "Accept": "text/html"})
>>> r.shown_url
'https://app:***@shop.test/api/users?page=2&token=***'
>>> r.describe()
'headers Authorization: ***, Accept: text/html'
>>> r.scrub("GET https://app:pw@shop.test/api/users?token=abc123 failed")
'GET https://app:***@shop.test/api/users?token=*** failed'
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

from workbench.errors import ConfigurationError
from workbench.redaction import MASK, scrub_text

__all__ = ["HttpRequest", "is_secret_name"]

_SECRET_NAME = re.compile(
    r"auth|token|secret|passw|passwd|pwd|cookie|session|api[-_]?key|apikey|^key$|[-_]key$"
    r"|signature|^sig$|credential|jwt|csrf|xsrf|^code$|private",
    re.IGNORECASE,
)
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def is_secret_name(name: str) -> bool:
    """A header or query parameter whose value must be masked."""
    return bool(_SECRET_NAME.search(name))


@dataclass(frozen=True, repr=False)
class HttpRequest:
    """One HTTP request, ready to send many times: method, URL, headers, body."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None

    @classmethod
    def build(
        cls,
        url: str | None = None,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        body: str | bytes | Mapping[str, Any] | Sequence[Any] | None = None,
        curl: str | None = None,
    ) -> HttpRequest:
        """From a URL and options, or from a ``curl`` command line (whose headers and body the
        options extend or replace)."""
        pairs: list[tuple[str, str]] = []
        data: bytes | None = None
        if curl is not None:
            from workbench.http.curl import parse_curl

            parsed = parse_curl(curl)
            if url is not None and url != parsed.url:
                raise ConfigurationError(
                    "give the URL or a curl command line, not both",
                    hint="s.profile_http(curl=\"curl 'https://...' -H ...\")",
                )
            url, pairs, data = parsed.url, list(parsed.headers), parsed.body
            method = parsed.method if method == "GET" else method
        if not url:
            raise ConfigurationError(
                "no URL to profile", hint="s.profile_http('http://127.0.0.1:8000/api/users')"
            )
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"not an http(s) URL: {_masked(url)}",
                hint="e.g. http://127.0.0.1:8000/api/users",
            )
        given = list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
        names = {n.lower() for n, _v in given}
        pairs = [(n, v) for n, v in pairs if n.lower() not in names] + [
            (str(n), str(v)) for n, v in given
        ]
        if body is not None:
            data, content_type = _encode(body)
            if content_type and not any(n.lower() == "content-type" for n, _v in pairs):
                pairs.append(("Content-Type", content_type))
        verb = method.upper()
        if verb not in _METHODS:
            raise ConfigurationError(f"unknown HTTP method {method!r}", hint=", ".join(_METHODS))
        return cls(verb, url, tuple(pairs), data)

    # -- where it goes ----------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")

    @property
    def path(self) -> str:
        """Path and query, as sent on the request line."""
        parts = urlsplit(self.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    # -- how it is shown --------------------------------------------------------------------------
    @property
    def shown_url(self) -> str:
        """The URL with its password and secret query values masked."""
        return _masked(self.url)

    @property
    def line(self) -> str:
        """``GET https://host/path?query`` (masked): what a profile is named by."""
        return f"{self.method} {self.shown_url}"

    def describe(self) -> str:
        """Headers (secret values masked) and the body's size."""
        parts = []
        if self.headers:
            shown = ", ".join(
                f"{n}: {MASK if is_secret_name(n) else scrub_text(v)}" for n, v in self.headers
            )
            parts.append(f"headers {shown}")
        if self.body is not None:
            parts.append(f"body {len(self.body):,} bytes")
        return "; ".join(parts) or "none"

    def secrets(self) -> list[str]:
        """Every value that must not be shown, in the forms it may appear in."""
        found: set[str] = set()
        parts = urlsplit(self.url)
        values = [parts.password or ""]
        values += [
            v for n, v in parse_qsl(parts.query, keep_blank_values=True) if is_secret_name(n)
        ]
        for name, value in self.headers:
            if is_secret_name(name):
                values.append(value)
                values += value.split(None, 1)[1:]  # "Bearer <token>": the token alone too
                values += [c.split("=", 1)[-1] for c in value.split(";")]  # cookie values
        if self.body:
            values.append(self.body.decode("utf-8", "replace"))
        for value in values:
            value = value.strip()
            if len(value) >= 3:
                found.update({value, quote(value, safe=""), quote_plus(value)})
        return sorted(found, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """``text`` without this request's secrets (URLs in it masked too)."""
        text = text.replace(self.url, self.shown_url)
        return _mask_query(scrub_text(text, self.secrets()))

    def __repr__(self) -> str:
        return f"<HttpRequest {self.line} ({self.describe()})>"


def _encode(body: str | bytes | Mapping[str, Any] | Sequence[Any]) -> tuple[bytes, str | None]:
    if isinstance(body, bytes):
        return body, None
    if isinstance(body, str):
        return body.encode("utf-8"), None
    return json.dumps(body).encode("utf-8"), "application/json"


def _masked(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user = parts.username or ""
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{user}:{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_secret_name(n) for n, _v in pairs):
            query = urlencode(
                [(n, MASK if is_secret_name(n) else v) for n, v in pairs], safe="*/:,"
            )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


_QUERY_SECRET = re.compile(r"([?&;]([\w.-]+)=)([^&#\s'\"]*)")


def _mask_query(text: str) -> str:
    """Secret-named query values in any URL quoted inside ``text``."""
    return _QUERY_SECRET.sub(
        lambda m: m.group(1) + (MASK if is_secret_name(m.group(2)) else m.group(3)), text
    )
