"""Untrusted text to HTML: a model's Markdown, or anything a database returned.

Markdown goes through markdown-it-py in its safe preset (raw HTML is not rendered, dangerous
link protocols are refused) and then through nh3 (an allowlist sanitizer): no script, no event
handler, no ``javascript:`` or ``data:`` URL survives, whatever the model wrote.
"""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any

__all__ = ["escape", "render_markdown", "sanitize"]

_TAGS = {
    "a", "p", "br", "hr", "em", "strong", "b", "i", "code", "pre", "blockquote", "ul", "ol",
    "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
    "del", "s", "sup", "sub", "span", "div", "details", "summary",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "pre": {"class"},
    "th": {"align"},
    "td": {"align"},
    "span": {"class"},
    "div": {"class"},
}
_SCHEMES = {"http", "https", "mailto"}


def escape(text: Any) -> str:
    """Text as HTML text (quotes too)."""
    return html.escape(str(text), quote=True)


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    # "js-default": CommonMark without raw HTML, with tables and strikethrough
    return MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})


def sanitize(fragment: str) -> str:
    """Keep only allowlisted tags, attributes and URL schemes."""
    import nh3

    return str(
        nh3.clean(
            fragment,
            tags=_TAGS,
            attributes=_ATTRIBUTES,
            url_schemes=_SCHEMES,
            link_rel="noopener noreferrer nofollow",
            strip_comments=True,
        )
    )


def render_markdown(text: str) -> str:
    """Markdown from an untrusted source as safe HTML.

    >>> render_markdown("**ok** <script>alert(1)</script> [x](javascript:alert(2))")
    '<p><strong>ok</strong> &lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:alert(2))</p>\\n'
    """
    return sanitize(_markdown().render(text or ""))
