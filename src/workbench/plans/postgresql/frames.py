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

import csv
import io
import re

__all__ = ["strip_psql_frames"]

_VBARS = "|║│"
_TOP_LEFT_CORNERS = "+╔┌"
_RULE = re.compile(
    r"^[-=+|═─━│║┼╪╫╬╔╗╚╝╠╣╟╢╞╡├┤┌┐└┘┬┴╤╧╥╨╦╩\s]*[-═─━]{3}[-=+|═─━│║┼╪╫╬╔╗╚╝╠╣╟╢╞╡├┤┌┐└┘┬┴╤╧╥╨╦╩\s]*$"
)
_HEADER = re.compile(r"^\W*QUERY PLAN\W*$")
_QUOTED = re.compile(r"^ {0,3}> ?")
# What a terminal cut off the end of a long rule: any run of rule characters.
_RULE_PIECE = re.compile(r"^[-=+═─━┼╪╫╬╔╗╚╝╠╣╟╢╞╡├┤┌┐└┘┬┴╤╧╥╨╦╩]+\s*$")
# psql's markers in the column after a cell's text (\pset format wrapped): the text goes on in
# the next line, cut ("." in ascii, "…" in unicode) or at a line break ("+", "↵"); old-ascii
# prints a space for both, like the padding of a line that ends there.
_WRAP_MARKS = ".…"
_NEWLINE_MARKS = "+↵"
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

    For a TEXT plan: the plan lines, rejoined where a terminal or psql's wrapped format cut them,
    dedented so the root node starts at column 0. For a JSON plan: the JSON document. Text that
    is not framed comes back with only its surrounding prose and blank lines removed.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    lines = _strip_reply_quotes(lines)
    lines = _decode_csv(lines) or lines
    if any(_RECORD.match(line) for line in lines):
        lines = [_RECORD_LABEL.sub("", line, count=1) for line in lines if not _RECORD.match(line)]
    start, end = _body_bounds(lines)
    body = _drop_rules(lines[start:end])
    body, wrapped, boxed = _strip_borders(body)
    unwrapped = _unwrap_cells(body, _header_rule_width(lines, start), boxed=boxed)
    if unwrapped is not None:
        body, wrapped = unwrapped, [False] * len(unwrapped)
    is_json = next((_starts_json(line) for line in body if line.strip()), False)
    if unwrapped is None:
        body = _strip_newline_markers(body, is_json)
    if is_json:
        return "\n".join(line.rstrip() for line in body).strip()
    return _clean_text_plan(body, wrapped)


def _strip_reply_quotes(lines: list[str]) -> list[str]:
    """A plan quoted in an e-mail or a Markdown reply: every line starts with ``>`` (once per
    level of quoting). No line of a plan does (child nodes start with ``->``, after spaces)."""
    while True:
        filled = [line for line in lines if line.strip()]
        if not filled or not all(_QUOTED.match(line) for line in filled):
            return lines
        lines = [_QUOTED.sub("", line, count=1) for line in lines]


def _is_rule(line: str) -> bool:
    """A horizontal rule: the header underline, a border-2 top/bottom, a wrapped piece of one."""
    return bool(_RULE.match(line))


def _drop_rules(lines: list[str]) -> list[str]:
    """The lines without rules, nor the short pieces a terminal cut off the end of a rule."""
    out: list[str] = []
    after_rule = False
    for line in lines:
        if _is_rule(line) or (after_rule and _RULE_PIECE.match(line)):
            after_rule = True
            continue
        after_rule = False
        out.append(line)
    return out


def _starts_json(line: str) -> bool:
    """The first line of a JSON document, psql's end-of-line marker aside."""
    return bool(_JSON_START.match(line.rstrip().rstrip("+↵.…")))


def _decode_csv(lines: list[str]) -> list[str] | None:
    """``psql --csv``: a bare ``QUERY PLAN`` header, then one CSV field per record, quoted where
    the line holds a comma, a quote or a line break (a JSON plan is one such field)."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or lines[first].strip() not in ("QUERY PLAN", '"QUERY PLAN"'):
        return None
    rest = lines[first + 1 :]
    if not any(line.startswith('"') for line in rest) or any(_is_rule(line) for line in rest):
        return None
    try:
        records = list(csv.reader(io.StringIO("\n".join(rest)), strict=True))
    except csv.Error:
        return None
    if any(len(record) > 1 for record in records):
        return None  # a comma outside quotes: not CSV (psql's unaligned format, say)
    fields = [record[0] if record else "" for record in records]
    return ["QUERY PLAN", *(part for field in fields for part in field.split("\n"))]


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
    elif rules and not any(_NODE_HINT.search(line) for line in lines[: rules[0]]):
        rule = rules[0]
        edge = _rule_end(lines, rule)
        nxt = lines[edge] if edge < len(lines) else ""
        if lines[rule][:1] in _TOP_LEFT_CORNERS and nxt[:1] in _VBARS:
            # \pset border 2: the first rule is the table's top edge, the header follows it
            # (over several lines when a terminal cut it, "QUERY PLAN" included).
            rule = next((i for i in rules if i > edge), rule)
    else:
        return None
    return _rule_end(lines, rule)


def _rule_end(lines: list[str], rule: int) -> int:
    """The line after the rule at ``rule``, which a terminal may have cut over several lines."""
    while rule < len(lines) and (_is_rule(lines[rule]) or _RULE_PIECE.match(lines[rule])):
        rule += 1
    return rule


def _header_rule_width(lines: list[str], start: int) -> int | None:
    """The length of the rule under psql's header, which is as wide as the table; ``None``
    without one; ``-1`` when a terminal cut it (the table was wider than the screen, so psql did
    not wrap its lines: the terminal did)."""
    if start < 1 or not (_is_rule(lines[start - 1]) or _RULE_PIECE.match(lines[start - 1])):
        return None
    if start < 2 or not _HEADER.match(lines[start - 2]):
        return -1
    return len(lines[start - 1].rstrip())


def _first_plan_line(lines: list[str]) -> int:
    """Without a header: skip the prompt, the statement and comments pasted above the plan."""
    for i, line in enumerate(lines):
        if _NODE_HINT.search(line) or _JSON_START.match(line):
            return i
    # COSTS OFF without ANALYZE prints no parentheses at all: take the first non-prose line.
    return next((i for i, line in enumerate(lines) if not _NOT_PLAN.match(line)), len(lines))


def _strip_borders(body: list[str]) -> tuple[list[str], list[bool], bool]:
    """Remove border-2 and DBeaver vertical bars; flag lines a terminal wrapped off a bordered one;
    say whether the table is boxed (``\\pset border 2``: a bar on both sides of every line).

    With a left border every real line starts with a bar, so a line without one is the wrapped
    tail of the line before; when every row also ends with a bar, the pieces a terminal cut a
    row into are simply put back together.
    """
    body = _join_boxed_rows(body)
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
    return out, wrapped, left and right and not any(wrapped)


def _join_boxed_rows(body: list[str]) -> list[str]:
    """The rows of a boxed table (a bar at both ends) that a terminal cut into several lines,
    each put back into one; ``body`` unchanged when its rows are not all boxed."""
    rows: list[str] = []
    open_row: list[str] | None = None
    for line in body:
        starts = line[:1] in _VBARS
        if open_row is None:
            if not starts:
                if line.strip():
                    return body  # text outside a row: not a boxed table
                rows.append(line)
                continue
            open_row = []
        elif starts and open_row[-1].strip():
            return body  # a new row before this one was closed: its bar is missing
        open_row.append(line)
        joined = "".join(open_row)
        if len(joined.rstrip()) > 1 and joined.rstrip()[-1] in _VBARS:
            rows.append(joined)
            open_row = None
    return body if open_row is not None else rows


def _unwrap_cells(body: list[str], rule_width: int | None, *, boxed: bool) -> list[str] | None:
    """Undo ``\\pset format wrapped``: the cells' lines as they were, markers removed; ``None``
    when psql did not cut any line (the other steps handle the rest).

    psql cuts a line that is wider than the column at exactly the column's width and prints a
    marker in the column after it (and, with a border, one in the column before the
    continuation). A row that reaches that marker column is as wide as the table's rule; without
    the header and its rule, the markers alone must agree (every cut line ends with the marker the
    next line starts with) before they are trusted.
    """
    filled = [line for line in body if line.strip()]
    if not filled or rule_width == -1:
        return None
    pad = 1 if boxed or filled[0][:1] == " " else 0
    longest = max(len(line) for line in filled)
    width = longest
    if rule_width is not None:
        width = rule_width - 2 if boxed else rule_width + 1 - pad
        if longest != width:
            return None  # no row reaches the marker column: nothing was cut
    is_json = _starts_json(filled[0])
    kinds = [_cell_end(line, width) for line in body]
    if None in kinds:
        return None  # a full-width row that ends in text: no marker column, not psql's layout
    if rule_width is None and not boxed and not _wraps_agree(body, kinds, pad):
        return None
    if "wrap" not in kinds and "blank" not in kinds:
        return None  # only line breaks: the newline markers are removed later
    out: list[str] = []
    current = ""
    string = _JsonString()
    for line, kind in zip(body, kinds, strict=True):
        content = line[pad : width - 1] if kind != "short" else line[pad:]
        current += content
        if is_json:
            string.scan(content)
        if kind == "blank":
            # old-ascii marks a cut with a space, like the padding of a row that ends there:
            # in a TEXT plan only a cut row is that wide (rows are not padded without a right
            # border); in JSON, joining two lines is harmless unless a number or a string was
            # cut, which only a cut does.
            if is_json:
                kind = "wrap" if content[-1:] != " " or string.inside else "newline"
            elif not boxed:
                kind = "wrap"
        if kind == "wrap":
            continue
        if kind == "newline" and not is_json:
            current = current.rstrip() + " "  # a line break inside a value: read as a space
            continue
        out.append(current.rstrip() if is_json or kind == "newline" else current)
        current = ""
    if current:
        out.append(current)
    return out


def _cell_end(line: str, width: int) -> str | None:
    """How a row ends: "short" (before the marker column), "wrap" or "newline" (psql's marker),
    "blank" (a space there: padding, or old-ascii's marker for either), None (text there)."""
    if len(line) < width:
        return "short"
    mark = line[-1]
    if mark in _WRAP_MARKS:
        return "wrap"
    if mark in _NEWLINE_MARKS:
        return "newline"
    return "blank" if mark == " " else None


def _wraps_agree(body: list[str], kinds: list[str | None], pad: int) -> bool:
    """Without the header's rule, trust the wrap markers only when they all agree: with a left
    border every continuation starts with the marker its cut line ends with (and only those do);
    without one, every full-width row ends with the same marker. A dot must be seen twice: a
    terminal's cut can fall between two dots by chance ("0.00..8.27" cut after "0.00.")."""
    cuts = [i for i, kind in enumerate(kinds) if kind == "wrap"]
    if not cuts or cuts[-1] == len(body) - 1:
        return False
    marks = {body[i][-1] for i in cuts}
    if len(marks) > 1:
        return False
    (mark,) = marks
    if mark == "." and len(cuts) < 2:
        return False
    if pad:
        starts = {i for i, line in enumerate(body) if i and line[:1] not in (" ", "")}
        return starts == {i + 1 for i in cuts} and all(body[i][:1] == mark for i in starts)
    return all(kind in ("wrap", "short") for kind in kinds)


class _JsonString:
    """Whether a JSON text read piece by piece is inside a string."""

    def __init__(self) -> None:
        self.inside = False
        self.escaped = False

    def scan(self, text: str) -> None:
        for ch in text:
            if self.escaped:
                self.escaped = False
            elif ch == "\\" and self.inside:
                self.escaped = True
            elif ch == '"':
                self.inside = not self.inside


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
