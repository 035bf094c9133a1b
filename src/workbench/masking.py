"""Keep secrets out of every string the workbench produces.

A connection URL's password is the one secret a session holds. It is masked in every URL the
workbench shows, and :class:`SecretScrubber` removes it (and any URL with an inline password)
from driver messages before they reach an error, a log line or a report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

MASK = "***"

# user:password@host inside any URL-looking text (postgresql://u:p@h, mysql+pymysql://u:p@h ...)
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<tail>@)")
# password=... in libpq-style conninfo strings and query strings
_KV_PASSWORD = re.compile(r"(?i)(?P<head>\bpass(?:word)?\s*=\s*)(?P<pw>'[^']*'|[^\s&;]+)")


def mask_url(url: str | URL) -> str:
    """Return ``url`` as a string with its password replaced by ``***``.

    >>> mask_url("postgresql://app:s3cret@db:5432/shop")
    'postgresql://app:***@db:5432/shop'
    """
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except (ArgumentError, ValueError, TypeError):  # not a URL SQLAlchemy reads: mask as text
        return scrub_text(str(url))
    text = parsed.render_as_string(hide_password=False)
    if parsed.password:
        text = parsed.set(password=MASK).render_as_string(hide_password=False)
    return scrub_text(text)


def scrub_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove inline URL passwords, ``password=`` pairs and the given secrets from ``text``."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", text)
    text = _KV_PASSWORD.sub(lambda m: f"{m['head']}{MASK}", text)
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, MASK)
    return text


class SecretScrubber:
    """Scrubs one session's secrets (its password, in plain and URL-quoted forms) from text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        from urllib.parse import quote, quote_plus

        found: set[str] = set()
        for secret in secrets:
            if secret:
                found.update({secret, quote(secret, safe=""), quote_plus(secret)})
        # longest first, so a quoted form is not half-replaced by a shorter plain one
        self._secrets = sorted(found, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        return scrub_text(text, self._secrets)

    def __repr__(self) -> str:  # never show what it guards
        return f"SecretScrubber({len(self._secrets)} secret forms)"
