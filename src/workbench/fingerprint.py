"""Statement fingerprints: the same query with different values is the same statement.

Literals and placeholders become ``?``, ``IN (?, ?, ?)`` becomes ``IN (...)``, whitespace and
case are normalised: what ``pg_stat_statements`` calls the normalised query. An N+1 is one
fingerprint executed many times with different values.

>>> normalize("SELECT * FROM orders WHERE user_id = 42 AND status IN ('a', 'b')")
'select * from orders where user_id = ? and status in (...)'
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

__all__ = ["fingerprint", "normalize"]

_RULES = [
    (re.compile(r"--[^\n]*"), " "),  # comments
    (re.compile(r"/\*.*?\*/", re.S), " "),
    (re.compile(r"\$(\w*)\$.*?\$\1\$", re.S), "?"),  # $$dollar quoted$$ and $tag$..$tag$
    (re.compile(r"[EeBbXxNn]?'(?:[^'\\]|''|\\.)*'"), "?"),  # 'strings', E'..', X'..'
    (re.compile(r"%\(\w+\)s|%s|\$\d+|(?<![:\w]):\w+|\?"), "?"),  # placeholders of all styles
    (re.compile(r"(?<![\w.$])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])"), "?"),  # numbers
    (re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)"), "(...)"),  # (?, ?, ?) lists
    (re.compile(r"(?:\(\.\.\.\)\s*,\s*)+\(\.\.\.\)"), "(...)"),  # VALUES (...), (...)
    (re.compile(r"\s+"), " "),
]


@lru_cache(maxsize=4096)
def normalize(sql: str) -> str:
    """The statement with values replaced by ``?`` and spacing/case normalised."""
    text = sql
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text.strip().rstrip(";").strip().lower()


@lru_cache(maxsize=4096)
def fingerprint(sql: str) -> str:
    """A short stable id of the normalised statement."""
    return hashlib.sha1(normalize(sql).encode("utf-8"), usedforsecurity=False).hexdigest()[:12]
