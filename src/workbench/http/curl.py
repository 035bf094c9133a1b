r"""Reading a ``curl`` command line: what people copy from the browser's network tab.

Chrome and Firefox write "Copy as cURL" for bash (``'...'`` and ``$'...'`` quoting, ``\``
line continuations) and for Windows ``cmd`` (``^`` escapes, ``"..."``); both are read.
The options that shape a request are kept (method, headers, cookies, body, basic
credentials, user agent, referer); the rest (``--compressed``, ``-s``, ``-k``, ...) are
ignored, and an option that would change what is measured (``--proxy``, ``--resolve``) is
refused with a message.

>>> parsed = parse_curl("curl 'https://shop.test/api/users?page=2' -H 'Accept: application/json' "
...                     "-H 'Authorization: Bearer abc.def' --compressed")
>>> parsed.method, parsed.url, parsed.headers[0]
('GET', 'https://shop.test/api/users?page=2', ('Accept', 'application/json'))
>>> parse_curl("curl -X POST https://shop.test/login --data-raw '{\"a\": 1}'").body
b'{"a": 1}'
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from workbench.errors import ConfigurationError

__all__ = ["ParsedCurl", "parse_curl", "split_command"]

_DATA = {"-d", "--data", "--data-raw", "--data-binary", "--data-ascii", "--data-urlencode"}
_VALUE_IGNORED = {
    "-o",
    "--output",
    "-m",
    "--max-time",
    "--connect-timeout",
    "-w",
    "--write-out",
    "--retry",
    "--limit-rate",
    "--cacert",
    "--cert",
    "--key",
    "-c",
    "--cookie-jar",
    "-D",
    "--dump-header",
    "--http2-prior-knowledge",
}
_REFUSED = {"-x", "--proxy", "--resolve", "--connect-to", "--unix-socket", "-T", "--upload-file"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b"}


@dataclass
class ParsedCurl:
    """The request a ``curl`` line describes."""

    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None


def parse_curl(command: str) -> ParsedCurl:
    """The method, URL, headers and body of a ``curl`` command line."""
    words = split_command(command)
    if not words or words[0].rsplit("/", 1)[-1] not in ("curl", "curl.exe"):
        raise ConfigurationError(
            "not a curl command line", hint="paste what 'Copy as cURL' gave: curl 'https://...' ..."
        )
    method: str | None = None
    url: str | None = None
    headers: list[tuple[str, str]] = []
    data: list[str] = []
    get_mode = False
    words = words[1:]
    i = 0
    while i < len(words):
        word = words[i]
        value = words[i + 1] if i + 1 < len(words) else None
        option, inline = _option(word)
        takes = option in _DATA or option in _VALUE_IGNORED or option in _REFUSED
        takes = takes or option in ("-X", "--request", "-H", "--header", "-b", "--cookie")
        takes = takes or option in ("-u", "--user", "-A", "--user-agent", "-e", "--referer")
        takes = takes or option in ("--url", "--json")
        if takes and inline is None:
            if value is None:
                raise ConfigurationError(f"curl option {option} has no value")
            i += 1
        argument = inline if inline is not None else (value if takes else None)
        if option in _REFUSED:
            raise ConfigurationError(
                f"curl option {option} changes where the request goes; the workbench measures "
                "the endpoint directly",
                hint="remove it from the command line",
            )
        if option in ("-X", "--request"):
            method = str(argument).upper()
        elif option in ("-H", "--header"):
            name, _, text = str(argument).partition(":")
            if name.strip() and text.strip():
                headers.append((name.strip(), text.strip()))
        elif option in ("-b", "--cookie"):
            headers.append(("Cookie", str(argument)))
        elif option in ("-u", "--user"):
            token = base64.b64encode(str(argument).encode()).decode()
            headers.append(("Authorization", f"Basic {token}"))
        elif option in ("-A", "--user-agent"):
            headers.append(("User-Agent", str(argument)))
        elif option in ("-e", "--referer"):
            headers.append(("Referer", str(argument)))
        elif option in _DATA:
            data.append(str(argument))
        elif option == "--json":
            data.append(str(argument))
            headers += [("Content-Type", "application/json"), ("Accept", "application/json")]
        elif option in ("-G", "--get"):
            get_mode = True
        elif option in ("-I", "--head"):
            method = "HEAD"
        elif option == "--url" or (not word.startswith("-") and url is None):
            url = str(argument if option == "--url" else word)
        i += 1
    if url is None:
        raise ConfigurationError("the curl command line has no URL")
    if "://" not in url:
        url = "http://" + url
    body = "&".join(data).encode() if data else None
    if get_mode and body is not None:
        url += ("&" if "?" in url else "?") + body.decode()
        body = None
    if body is not None and not any(n.lower() == "content-type" for n, _v in headers):
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    return ParsedCurl(method or ("POST" if body is not None else "GET"), url, headers, body)


def _option(word: str) -> tuple[str, str | None]:
    """``--data=x`` as (``--data``, ``x``); ``-HAccept: x`` as (``-H``, ``Accept: x``)."""
    if word.startswith("--") and "=" in word:
        name, _, value = word.partition("=")
        return name, value
    if re.match(r"^-[A-Za-z]", word) and len(word) > 2 and word[1] in "XHbudeAo":
        return word[:2], word[2:]
    return word, None


def split_command(command: str) -> list[str]:
    """Words of a shell command line: bash quoting (``'..'``, ``".."``, ``$'..'``,
    backslashes, line continuations) and Windows ``cmd`` (``^`` escapes)."""
    text = command.strip()
    if re.search(r"\^\s*\n", text) or '^"' in text:  # Chrome's "Copy as cURL (cmd)"
        text = re.sub(r"\^\s*\n", " ", text)
        text = re.sub(r"\^(.)", r"\1", text)
    words: list[str] = []
    current: list[str] = []
    started = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            if text[i + 1] == "\n":
                i += 2
                continue
            current.append(text[i + 1])
            started = True
            i += 2
            continue
        if char.isspace():
            if started:
                words.append("".join(current))
                current, started = [], False
            i += 1
            continue
        started = True
        if char == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise ConfigurationError("unterminated ' quote in the command line")
            current.append(text[i + 1 : end])
            i = end + 1
        elif char == "$" and text[i + 1 : i + 2] == "'":
            i = _ansi_c(text, i + 2, current)
        elif char == '"':
            i = _double(text, i + 1, current)
        else:
            current.append(char)
            i += 1
    if started:
        words.append("".join(current))
    return words


def _ansi_c(text: str, i: int, out: list[str]) -> int:
    """Bash's ``$'...'`` from ``text[i]`` on: escapes decoded; the index after the quote."""
    while i < len(text):
        char = text[i]
        if char == "'":
            return i + 1
        if char == "\\" and i + 1 < len(text):
            code = text[i + 1]
            if code in _ESCAPES:
                out.append(_ESCAPES[code])
                i += 2
            elif code in "xuU":
                size = {"x": 2, "u": 4, "U": 8}[code]
                digits = re.match(rf"[0-9A-Fa-f]{{1,{size}}}", text[i + 2 :])
                if digits:
                    out.append(chr(int(digits.group(0), 16)))
                    i += 2 + len(digits.group(0))
                else:
                    out.append("\\" + code)
                    i += 2
            else:
                out.append("\\" + code)
                i += 2
            continue
        out.append(char)
        i += 1
    raise ConfigurationError("unterminated $' quote in the command line")


def _double(text: str, i: int, out: list[str]) -> int:
    while i < len(text):
        char = text[i]
        if char == '"':
            return i + 1
        if char == "\\" and i + 1 < len(text) and text[i + 1] in '"\\$`\n':
            if text[i + 1] != "\n":
                out.append(text[i + 1])
            i += 2
            continue
        out.append(char)
        i += 1
    raise ConfigurationError('unterminated " quote in the command line')
