"""Strip what psql (or a GUI) wraps around a pasted PostgreSQL plan.

People paste plans the way their client printed them: a ``QUERY PLAN`` header over a ``----``
(or ``═══``/``───``) rule, borders in any ``\\pset border``/``linestyle``, psql's ``+``/``↵``
markers at the end of the lines of a multi-line cell (a JSON plan is one such cell), a
``(N rows)`` footer, ``\\x`` records, the prompt line with the EXPLAIN statement, pgAdmin's quotes
around every line, DBeaver's trailing ``|``, and long lines that a terminal broke in two.

:func:`strip_psql_frames` removes all of that and gives back the plan itself: the lines of a TEXT
plan with their original relative indentation, or a string ``json.loads`` accepts for a JSON plan.

>>> strip_psql_frames(" QUERY PLAN\\n------------\\n Result  (cost=0.00..0.01 rows=1 width=4)")
'Result  (cost=0.00..0.01 rows=1 width=4)'
"""

from __future__ import annotations

import re

__all__ = ["strip_psql_frames"]

_VBARS = "|║│"
_TOP_LEFT_CORNERS = "+╔┌"
_RULE = re.compile(
    r"^[-=+|═─━│║┼╪╫╬╔╗╚╝╠╣╟╢╞╡├┤┌┐└┘┬┴╤╧╥╨╦╩\s]*[-═─━]{3}[-=+|═─━│║┼╪╫╬╔╗╚╝╠╣╟╢╞╡├┤┌┐└┘┬┴╤╧╥╨╦╩\s]*$"
)
_HEADER = re.compile(r"^\W*QUERY PLAN\W*$")
# \x (expanded) output: one "-[ RECORD n ]" block per row, each line labelled "QUERY PLAN | ".
_RECORD = re.compile(r"^-\[ RECORD \d+ \]")
_RECORD_LABEL = re.compile(r"^(?:QUERY PLAN| +) \| ?")
# "(9 rows)", "(1 row)", "(3 lignes)", "(5 Zeilen)": psql's footer, in the client's language.
_FOOTER = re.compile(r"^\s*\(\d+ [^\W\d]+\)\s*$")
# psql's \timing line ("Time: 1.234 ms", "Temps : 0,305 ms"): one word, unlike "Planning Time".
_PSQL_TIMING = re.compile(r"^\w+ ?: [\d.,]+ ms(?: \([\d:.,]+\))?\s*$")
# Something on a line that only a plan node prints: its cost or actual-statistics parentheses.
_NODE_HINT = re.compile(r"\((?:cost=\d|actual[ )]|never executed\))")
_NOT_PLAN = re.compile(
    r"^\s*(?:$|#|--|\S*[=\-(][#>]\s|(?:explain|select|with|set|begin|commit|rollback|insert|"
    r"update|delete|create|analyze|alter|vacuum)\b)",
    re.IGNORECASE,
)
_JSON_START = re.compile(r'^\s*(?:[\[{]\s*$|\[\s*\{|\{\s*")')
_COMMENT = re.compile(r"^\s*(?:#|--)(?:\s|$)")
# A line the plan itself starts: a child node, a subplan label, a "Key: value" detail, a
# ModifyTable target, a trigger. Anything else after the first line is a terminal-wrapped tail.
_STRUCTURAL = re.compile(
    r"""^\s*(?:
        ->\s
      | (?:InitPlan|SubPlan)\b
      | CTE\s\S
      | (?:Foreign\s)?(?:Insert|Update|Delete|Merge)\son\s
      | Trigger\b.*:\s(?:time|calls)=
      | [A-Z][A-Za-z0-9\ _/()&.,-]*?:(?:\s|$)
    )""",
    re.VERBOSE,
)


def strip_psql_frames(text: str) -> str:
    """Return the bare plan from ``text`` as psql, pgAdmin or DBeaver displayed it.

    For a TEXT plan: the plan lines, rejoined where a terminal wrapped them, dedented so the root
    node starts at column 0. For a JSON plan: the JSON document. Text that is not framed comes
    back with only its surrounding prose and blank lines removed.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    if any(_RECORD.match(line) for line in lines):
        lines = [_RECORD_LABEL.sub("", line, count=1) for line in lines if not _RECORD.match(line)]
    start, end = _body_bounds(lines)
    body = [line for line in lines[start:end] if not _is_rule(line)]
    body, wrapped = _strip_borders(body)
    is_json = next((bool(_JSON_START.match(line)) for line in body if line.strip()), False)
    body = _strip_newline_markers(body, is_json)
    if is_json:
        return "\n".join(body).strip()
    return _clean_text_plan(body, wrapped)


def _is_rule(line: str) -> bool:
    """A horizontal rule: the header underline, a border-2 top/bottom, a wrapped piece of one."""
    return bool(_RULE.match(line))


def _body_bounds(lines: list[str]) -> tuple[int, int]:
    """Where the plan starts (after header and prose) and ends (at the footer)."""
    start = _after_header(lines)
    if start is None:
        start = _first_plan_line(lines)
    end = next((i for i in range(start, len(lines)) if _FOOTER.match(lines[i])), len(lines))
    end = next((i for i in range(start, end) if _PSQL_TIMING.match(lines[i])), end)
    return start, end


def _after_header(lines: list[str]) -> int | None:
    """The line after psql's header and its rule, or None when there is no header."""
    header = next((i for i, line in enumerate(lines) if _HEADER.match(line)), None)
    rules = [i for i, line in enumerate(lines) if _is_rule(line)]
    if header is not None:
        # The rule under "QUERY PLAN"; in unaligned output there is none (a header alone).
        rule = next((i for i in rules if header < i <= header + 3), None)
        if rule is None:
            return header + 1
    elif rules:
        rule = rules[0]
        nxt = lines[rule + 1] if rule + 1 < len(lines) else ""
        if lines[rule][:1] in _TOP_LEFT_CORNERS and nxt[:1] in _VBARS:
            # \pset border 2: the first rule is the table's top edge, the header follows it.
            rule = next((i for i in rules if i > rule + 1), rule)
    else:
        return None
    while rule < len(lines) and _is_rule(lines[rule]):
        rule += 1  # a terminal may have wrapped a long rule over several lines
    return rule


def _first_plan_line(lines: list[str]) -> int:
    """Without a header: skip the prompt, the statement and comments pasted above the plan."""
    for i, line in enumerate(lines):
        if _NODE_HINT.search(line) or _JSON_START.match(line):
            return i
    # COSTS OFF without ANALYZE prints no parentheses at all: take the first non-prose line.
    return next((i for i, line in enumerate(lines) if not _NOT_PLAN.match(line)), len(lines))


def _strip_borders(body: list[str]) -> tuple[list[str], list[bool]]:
    """Remove border-2 and DBeaver vertical bars; flag lines a terminal wrapped off a bordered one.

    With a left border every real line starts with a bar, so a line without one is the wrapped
    tail of the line before.
    """
    filled = [line.rstrip() for line in body if line.strip()]
    half = max(1, len(filled) // 2)
    left = sum(line[:1] in _VBARS for line in filled) >= half
    right = sum(line[-1:] in _VBARS for line in filled) >= half
    out: list[str] = []
    wrapped: list[bool] = []
    for line in body:
        has_left = line[:1] in _VBARS
        if left and has_left:
            line = line[1:]
        if right and line.rstrip()[-1:] in _VBARS:
            line = line.rstrip()[:-1]
        out.append(line)
        wrapped.append(left and not has_left and bool(line.strip()))
    return out, wrapped


def _strip_newline_markers(body: list[str], is_json: bool) -> list[str]:
    """Drop psql's "this cell continues on the next line" marker, ``+`` (ascii) or ``↵``.

    psql pads every line of a multi-line cell to the column width before the marker, so in a
    TEXT plan a ``+`` is a marker only on the longest lines; JSON never ends a line with one.
    """
    width = max((len(line) for line in body), default=0)
    out = []
    for line in body:
        if line.endswith("↵") or (line.endswith("+") and (is_json or len(line) == width)):
            line = line[:-1].rstrip()  # the padding before a marker is not content
        # Elsewhere a trailing space can be content: the one a terminal wrapped the line after.
        out.append(line.rstrip() if is_json else line)
    return out


def _clean_text_plan(body: list[str], wrapped: list[bool]) -> str:
    body = _unquote(body)
    lines: list[str] = []
    tails: list[bool | None] = []  # True: a wrapped tail for sure, False: surely not, None: maybe
    after_blank = False
    for line, wrap in zip(body, wrapped, strict=True):
        if not line.strip() or _COMMENT.match(line):
            after_blank = after_blank or not line.strip()
            continue
        lines.append(line)
        # A terminal never wraps into a blank line: what follows one starts a line (PostgreSQL
        # separates the plans of a multi-statement rule with one).
        tails.append(True if wrap else False if after_blank else None)
        after_blank = False
    lines = _rejoin_wrapped(lines, tails)
    indent = min((len(line) - len(line.lstrip()) for line in lines), default=0)
    return "\n".join(line[indent:].rstrip() for line in lines)


def _unquote(body: list[str]) -> list[str]:
    """pgAdmin copies each line as a quoted CSV field; some copies keep only the closing quote."""
    filled = [line.rstrip() for line in body if line.strip()]
    if not filled:
        return body
    trimmed = [line.rstrip() for line in body]  # nothing after a closing quote is content
    for quote in ('"', "'"):
        if all(len(line) >= 2 and line[0] == quote == line[-1] for line in filled):
            unescape = quote == '"'  # CSV doubles the quotes inside a field
            return [_unwrap(line, quote, unescape) if line else line for line in trimmed]
        if all(line[-1] == quote and line.count(quote) % 2 for line in filled):
            return [line[:-1] if line else line for line in trimmed]
    return body


def _unwrap(line: str, quote: str, unescape: bool) -> str:
    inner = line[1:-1]
    return inner.replace(quote * 2, quote) if unescape else inner


def _rejoin_wrapped(lines: list[str], tails: list[bool | None]) -> list[str]:
    """Glue each terminal-wrapped tail back onto the line it was cut from.

    A tail is a line that cannot start a plan line (no ``->``, no ``Key:``...). In psql's aligned
    output every plan line starts with a space (border 1), so a line that does not is a tail too,
    even when it happens to look like a plan line.
    """
    structural = [bool(_STRUCTURAL.match(line)) for line in lines]
    padded = any(structural) and all(
        line.startswith(" ") for line, is_struct in zip(lines, structural, strict=True) if is_struct
    )
    parts: list[list[str]] = []
    for i, line in enumerate(lines):
        is_tail = tails[i]
        if is_tail is None:
            is_tail = not structural[i] or (padded and not line.startswith(" "))
        if is_tail and parts:  # (the first line is never a tail: there is nothing to glue to)
            parts[-1].append(line)
        else:
            parts.append([line])
    return ["".join(p) for p in parts]
