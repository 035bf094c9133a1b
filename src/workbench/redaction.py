"""Redaction: what leaves the machine carries no secret and, by default, no literal value.

* The session's password is masked in every URL the workbench shows (:func:`mask_url`), and
  :class:`SecretScrubber` removes it (and any URL with an inline password) from driver messages
  before they reach an error, a log line or a report.
* Secrets, always: URL passwords, ``password=...`` pairs, API keys and tokens of the usual
  shapes (Anthropic, OpenAI, AWS, Google, Azure, Stripe, GitHub, Slack), JWTs, ``Bearer`` and
  ``Basic`` credentials, private key blocks.
* Literal values, unless the person opts out: constants in SQL text become ``?`` (the shape of
  the query is what an analysis needs; ``LIMIT``/``OFFSET`` counts stay, they are the shape),
  comments keep only their ``key=`` names (``/* user=a@b.c */`` becomes ``/* user=? */``),
  quoted strings and numbers in plan conditions become ``'?'`` and ``?``, and parameter values
  become ``?`` under their names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = [
    "MASK",
    "SecretScrubber",
    "mask_url",
    "parameter_values",
    "redact_comment",
    "redact_condition",
    "redact_params",
    "redact_secrets",
    "redact_sql",
    "scrub_text",
    "scrub_values",
]


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
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

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


_SECRET_PATTERNS = [
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"\bsk-[A-Za-z0-9]{20,}"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"),
    re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}\b"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]{16,}=*"),
    # HTTP Basic credentials: base64 of user:password
    re.compile(r"(?i)\bbasic\s+[A-Za-z0-9+/]{8,}={0,2}"),
    # JSON Web Tokens: header.payload.signature, each base64url ("eyJ" is '{"')
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    # Google API keys and OAuth access tokens
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}"),
    # Stripe secret and restricted keys
    re.compile(r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{16,}\b"),
    # Azure storage account keys and shared access signatures
    re.compile(r"(?i)\bAccountKey=[A-Za-z0-9+/]{20,}={0,2}"),
    re.compile(r"(?i)\bsig=[A-Za-z0-9%+/]{20,}={0,2}"),
    # AWS secret access keys where they are named
    re.compile(r"(?i)\baws_secret_access_key\s*[=:]\s*[A-Za-z0-9/+]{40}\b"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
    # a named value ends where its quote, separator or tag does (JSON and HTML stay whole)
    re.compile(r"(?i)\b(?:api[_-]?key|secret|token|passwd|pwd)\s*[=:]\s*[^\s,;&\"'<>]+"),
]
_STRING = re.compile(r"(?:[EeNn]?'(?:[^'\\]|''|\\.)*')")
_NUMBER = re.compile(r"(?<![\w$.])(?<!Plan )-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])")


def redact_secrets(text: str, extra: list[str] | None = None) -> str:
    """Remove passwords, keys and tokens (and the ``extra`` strings) from ``text``."""
    text = scrub_text(text, extra or [])
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("[REDACTED]", text)
    return text


def redact_condition(text: str) -> str:
    """Literal values in a plan condition or filter become placeholders.

    >>> redact_condition("((email)::text = 'olivia@example.com'::text) AND (id > 42)")
    "((email)::text = '?'::text) AND (id > ?)"
    """
    text = _STRING.sub("'?'", text)
    text = _NUMBER.sub("?", text)
    cut = text.find("'", text.rfind("'?'") + 3 if "'?'" in text else 0)
    return text[:cut] + "'?" if cut >= 0 else text  # an unterminated string: drop its rest


# tokens after which a number is structure, not a value
_KEEP_AFTER = frozenset({"LIMIT", "OFFSET", "FETCH", "GROUP_BY", "ORDER_BY", "PARAMETER", "TOP"})
_STRING_TOKENS = frozenset(
    {
        "STRING",
        "NATIONAL_STRING",
        "BIT_STRING",
        "HEX_STRING",
        "BYTE_STRING",
        "RAW_STRING",
        "HEREDOC_STRING",
        "UNICODE_STRING",
    }
)


def redact_sql(sql: str, dialect: str = "postgresql") -> str:
    """The statement with its constants replaced by ``?``, its formatting untouched: ``LIMIT``,
    ``OFFSET``, ``GROUP BY 1``, ``$1`` and type sizes (``varchar(20)``) stay.

    >>> redact_sql("SELECT * FROM users WHERE email = 'a@b.c' AND id > 3 LIMIT 20")
    'SELECT * FROM users WHERE email = ? AND id > ? LIMIT 20'
    """
    import sqlglot

    from workbench.sqltext import sqlglot_dialect

    try:
        tokens = sqlglot.tokenize(sql, read=sqlglot_dialect(dialect))
    except Exception:  # an unterminated string or comment: fall back to patterns
        return redact_condition(_comments_redacted(sql))
    spans: list[tuple[int, int]] = []
    for i, token in enumerate(tokens):
        kind = token.token_type.name
        if kind in _STRING_TOKENS:
            spans.append((token.start, token.end))
        elif kind == "NUMBER" and not _structural(tokens, i):
            start = token.start
            if i and tokens[i - 1].token_type.name == "DASH" and tokens[i - 1].end == start - 1:
                start = tokens[i - 1].start  # a negative literal
            spans.append((start, token.end))
    out, last = [], 0
    for start, end in spans:
        out.append(_comments_redacted(sql[last:start]))
        out.append("?")
        last = end + 1
    out.append(_comments_redacted(sql[last:]))
    return "".join(out)


# comments live between tokens: what is not a token's text is whitespace or a comment
_COMMENT = re.compile(r"--[^\n]*|/\*.*?(?:\*/|\Z)|#[^\n]*", re.DOTALL)
_COMMENT_KEY = re.compile(r"([A-Za-z_][\w.-]*)\s*[=:]")


def _comments_redacted(text: str) -> str:
    if "--" not in text and "/*" not in text and "#" not in text:
        return text
    return _COMMENT.sub(lambda m: redact_comment(m.group(0)), text)


def redact_comment(comment: str) -> str:
    """A SQL comment with its words replaced by ``?``, its ``key=`` names kept (sqlcommenter's
    ``/* controller='users',action='show' */`` says where a query comes from).

    >>> redact_comment("/* user=ada@example.com, route='/api/users/42' */")
    '/* user=?, route=? */'
    >>> redact_comment("-- fetched for olivia")
    '-- ?'
    """
    if comment.startswith("/*"):
        opener, closer = "/*", ("*/" if comment.endswith("*/") and len(comment) >= 4 else "")
    else:
        opener, closer = comment[:2] if comment.startswith("--") else comment[:1], ""
    body = comment[len(opener) : len(comment) - len(closer)]
    keys = _COMMENT_KEY.findall(body)
    inner = ", ".join(f"{key}=?" for key in keys) if keys else ("?" if body.strip() else "")
    return f"{opener} {inner} {closer}".rstrip() if closer else f"{opener} {inner}".rstrip()


def _structural(tokens: Any, i: int) -> bool:
    """A number that is part of the statement's shape: LIMIT 20, GROUP BY 1, $1, varchar(20)."""
    kinds = [t.token_type.name for t in tokens[max(0, i - 4) : i]]
    if kinds and kinds[-1] in _KEEP_AFTER:
        return True
    # varchar(20) and the 2 of numeric(10, 2)
    if kinds[-2:] and kinds[-1] == "L_PAREN" and i >= 2 and _is_type(tokens[i - 2].text):
        return True
    return kinds[-3:] == ["L_PAREN", "NUMBER", "COMMA"] and i >= 4 and _is_type(tokens[i - 4].text)


_TYPES = frozenset(
    {
        "VARCHAR",
        "CHAR",
        "CHARACTER",
        "DECIMAL",
        "NUMERIC",
        "TIMESTAMP",
        "TIME",
        "VARBINARY",
        "BINARY",
        "BIT",
        "FLOAT",
        "DOUBLE",
        "NVARCHAR",
        "NCHAR",
        "DATETIME",
        "TIMESTAMPTZ",
        "INTERVAL",
        "VARBIT",
        "INT",
        "INTEGER",
        "TINYINT",
        "SMALLINT",
        "BIGINT",
    }
)


def _is_type(word: str) -> bool:
    return word.upper() in _TYPES


def parameter_values(args: Any) -> list[str]:
    """The values among a statement's parameters that could identify someone, as text: strings
    of 3 characters or more, numbers of 4 digits or more (shorter ones read as structure: a
    LIMIT, a status code), longest first.

    >>> parameter_values({"email": "ada@example.com", "limit": 20, "id": 123456})
    ['ada@example.com', '123456']
    """
    if isinstance(args, Mapping):
        items = list(args.values())
    elif isinstance(args, list | tuple):
        items = list(args)
    else:
        items = []
    found: set[str] = set()
    for value in items:
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str) and len(value) >= 3:
            found.add(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            text = str(value)
            if len(text.lstrip("-").replace(".", "")) >= 4:
                found.add(text)
    return sorted(found, key=len, reverse=True)


def scrub_values(text: str, values: list[str]) -> str:
    """``text`` with each of ``values`` (not inside a longer word or number) replaced by ``?``.

    >>> scrub_values("Incorrect integer value: 'ada@example.com' for 'id'", ["ada@example.com"])
    "Incorrect integer value: '?' for 'id'"
    """
    if not values:
        return text
    pattern = "|".join(rf"(?<![\w.@]){re.escape(v)}(?![\w.@])" for v in values)
    return re.sub(pattern, "?", text)


def redact_params(params: Any) -> Any:
    """A statement's parameters with their values replaced by ``?``: the names (or the count)
    say what an analysis needs.

    >>> redact_params({"email": "ada@example.com", "limit": 20})
    {'email': '?', 'limit': '?'}
    >>> redact_params([42, "x"])
    ['?', '?']

    A profile's description of its parameters (``"{email: ?, id: uniform(1, 99)}"``) already
    holds no value, and stays as it is.
    """
    if params is None or isinstance(params, str):
        return params
    if isinstance(params, Mapping):
        return {str(key): "?" for key in params}
    if isinstance(params, list | tuple):
        if params and all(isinstance(item, Mapping) for item in params):  # a list of parameter sets
            return [redact_params(item) for item in params[:3]] + (["…"] if len(params) > 3 else [])
        return ["?" for _ in params]
    return "?"
