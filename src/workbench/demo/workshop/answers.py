"""Reading a learner's SQL answer: the DDL to apply, the settings, and the query.

An answer is what a person would run: ``CREATE INDEX``, ``CREATE STATISTICS``, ``ANALYZE``,
``CREATE EXTENSION pg_trgm``, ``SET name = value``, and at most one ``SELECT`` (the rewritten
query; without one, the planted query is measured). Every object the answer creates is given a
name of its own (``<name>_wb<token>``), so learners checking at the same time on one server
never wait for each other's uncommitted names; ``CONCURRENTLY`` is dropped (it cannot run in
the check's transaction, which is always rolled back).

>>> parsed = parse("CREATE INDEX ON users (lower(email)); SELECT 1", token="ab12")
>>> parsed.ddl
['CREATE INDEX users_wbab12_1 ON users (lower(email))']
>>> parsed.query
'SELECT 1'
>>> parse("SET work_mem = '64MB'", token="x").settings
{'work_mem': '64MB'}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from workbench.errors import UnsafeStatementError, WorkbenchError
from workbench.guard import StatementKind, classify, split_statements

__all__ = ["AnswerError", "ParsedAnswer", "normalized", "parse", "unique_names"]

#: extensions an answer may create (trusted ones a learner's role can install)
EXTENSIONS = ("pg_trgm", "btree_gin", "btree_gist")
#: the most memory an answer may give one sort or hash (work_mem is per node, per connection)
MAX_WORK_MEM_MB = 1024

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_NAME = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
_INDEX = re.compile(
    r"^(?P<head>\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+)(?P<concurrently>CONCURRENTLY\s+)?"
    rf"(?P<ifnot>IF\s+NOT\s+EXISTS\s+)?(?:(?P<name>{_NAME})\s+)?(?P<on>ON\s+(?:ONLY\s+)?"
    rf"(?P<table>{_NAME}(?:\.{_NAME})?))",
    re.IGNORECASE | re.DOTALL,
)
_STATISTICS = re.compile(
    rf"^(?P<head>\s*CREATE\s+STATISTICS\s+)(?P<ifnot>IF\s+NOT\s+EXISTS\s+)?"
    rf"(?:{_NAME}\.)?(?P<name>{_NAME})?"
    r"(?P<rest>\s*(?:\(|ON\b))",
    re.IGNORECASE | re.DOTALL,
)
_EXTENSION = re.compile(
    rf"^\s*CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_NAME})", re.IGNORECASE
)
_ANALYZE = re.compile(r"^\s*ANALY[SZ]E\b", re.IGNORECASE)
_VACUUM = re.compile(r"^\s*VACUUM\b(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_TRANSACTION = re.compile(
    r"^\s*(?:BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT)\b", re.IGNORECASE
)
_EXPLAIN = re.compile(r"^\s*EXPLAIN\b", re.IGNORECASE)
_SET = re.compile(
    r"^\s*SET\s+(?:LOCAL\s+|SESSION\s+)?(?P<name>[A-Za-z_][\w.]*)\s*(?:=|\bTO\b)\s*(?P<value>.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_MEMORY = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[kKmMgGtT]?B)?\s*$")


class AnswerError(WorkbenchError):
    """An answer the check cannot run: what is wrong with it is the message."""


@dataclass
class ParsedAnswer:
    """What an answer asks for: statements to apply (named uniquely), settings, the query."""

    ddl: list[str] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    query: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        """Whether the answer changes anything besides the query (DDL or settings)."""
        return bool(self.ddl or self.settings)


def parse(text: str, *, token: str) -> ParsedAnswer:
    """Split ``text`` into DDL, settings and the query; raise :class:`AnswerError` for what a
    workshop answer may not contain."""
    parsed = ParsedAnswer()
    try:
        statements = split_statements(text, "postgresql")
    except WorkbenchError as exc:
        raise AnswerError(f"the answer cannot be read as SQL: {exc.message}") from None
    counter = iter(range(1, 1000))
    for statement in statements:
        bare = _COMMENT.sub("", statement).strip()
        setting = _SET.match(bare)
        if setting:
            name, value = setting["name"].lower(), setting["value"].strip().strip("'\"")
            _check_setting(name, value)
            parsed.settings[name] = value
            continue
        if _TRANSACTION.match(bare):
            left_out = (
                "BEGIN, COMMIT and the like were left out: the check runs your answer in a "
                "transaction of its own"
            )
            if left_out not in parsed.notes:
                parsed.notes.append(left_out)
            continue
        vacuum = _VACUUM.match(bare)
        if vacuum:
            # VACUUM cannot run in a transaction; its ANALYZE part can, and is kept
            analyze = re.search(r"\bANALY[SZ]E\b", vacuum["rest"], re.IGNORECASE)
            parsed.notes.append(
                "VACUUM was left out (it cannot run inside the check's transaction; the demo "
                "tables are vacuumed already)" + ("; its ANALYZE was kept" if analyze else "")
            )
            if analyze:
                target = re.sub(
                    r"\(.*?\)|\b(?:FULL|FREEZE|VERBOSE|ANALY[SZ]E)\b",
                    " ",
                    vacuum["rest"],
                    flags=re.IGNORECASE,
                )
                parsed.ddl.append(("ANALYZE " + " ".join(target.split())).strip())
            continue
        if _EXPLAIN.match(bare):
            raise AnswerError(
                "the answer is an EXPLAIN: the check runs and explains your query itself",
                hint="leave EXPLAIN (and ANALYZE) out: write the query as the application sends it",
            )
        if _INDEX.match(bare) or _STATISTICS.match(bare) or _ANALYZE.match(bare):
            named, note = unique_names(bare, token=token, number=next(counter))
            parsed.ddl.append(named)
            if note:
                parsed.notes.append(note)
            continue
        extension = _EXTENSION.match(bare)
        if extension:
            if extension["name"].strip('"').lower() not in EXTENSIONS:
                raise AnswerError(
                    f"the extension {extension['name']} is not one a workshop answer needs",
                    hint=f"these can be created: {', '.join(EXTENSIONS)}",
                )
            # the learner's database may have it already: a fix that creates it must still run
            parsed.ddl.append(f"CREATE EXTENSION IF NOT EXISTS {extension['name']}")
            continue
        _query(parsed, bare)
    return parsed


def _query(parsed: ParsedAnswer, statement: str) -> None:
    try:
        kind = classify(statement, "postgresql").kind
    except UnsafeStatementError as exc:
        raise AnswerError(f"this part of the answer cannot be read: {exc.message}") from None
    if kind is not StatementKind.READ:
        first = statement.split()[0].upper() if statement.split() else "?"
        if first in ("SELECT", "WITH", "TABLE", "VALUES", "("):
            raise AnswerError(
                "this query locks or changes rows (FOR UPDATE / FOR SHARE, a data-modifying "
                "WITH, or a function that writes): a workshop answer only reads",
                hint="leave the locking clause out; the check measures the query as it reads",
            )
        raise AnswerError(
            f"a workshop answer does not {first}: it is checked in a transaction that is rolled "
            "back, and a fix here is an index, statistics, a setting or a rewritten query",
            hint="use CREATE INDEX, CREATE STATISTICS, ANALYZE, CREATE EXTENSION pg_trgm, "
            "SET name = value, and one SELECT",
        )
    if parsed.query is not None:
        raise AnswerError(
            "the answer holds two queries; the check measures one",
            hint="keep the rewritten SELECT (and the DDL it needs)",
        )
    parsed.query = statement


#: settings an answer may not change: who the check runs as, where names resolve, what a
#: transaction may do (the planner's and memory settings are all open)
_NOT_SETTINGS = (
    "role",
    "session_authorization",
    "search_path",
    "session_replication_role",
    "default_transaction_read_only",
    "transaction_read_only",
    "default_transaction_isolation",
    "transaction_isolation",
)


def _check_setting(name: str, value: str) -> None:
    if name.endswith("_timeout"):
        raise AnswerError(f"{name} is the workbench's to set; the check keeps its own bounds")
    if name in _NOT_SETTINGS:
        raise AnswerError(
            f"{name} is not a setting a fix changes: the check runs as you, on your tables",
            hint="a fix here is an index, statistics, a planner or memory setting, or a query",
        )
    if name == "work_mem":
        megabytes = _megabytes(value)
        if megabytes is None:
            raise AnswerError(f"work_mem = {value!r} is not a size", hint="e.g. '64MB'")
        if megabytes > MAX_WORK_MEM_MB:
            raise AnswerError(
                f"work_mem = {value} is more than one sort should get: thirty connections "
                "each sorting twice could ask for sixty times that",
                hint=f"stay at or below {MAX_WORK_MEM_MB}MB",
            )


def _megabytes(value: str) -> float | None:
    match = _MEMORY.match(value)
    if not match:
        return None
    unit = (match["unit"] or "kB").upper()
    scale = {"B": 1 / 1024 / 1024, "KB": 1 / 1024, "MB": 1, "GB": 1024, "TB": 1024 * 1024}
    return float(match["n"]) * scale.get(unit, 1 / 1024)


def unique_names(statement: str, *, token: str, number: int = 1) -> tuple[str, str | None]:
    """``statement`` with the index or statistics it creates named ``<name>_wb<token>``
    (or ``<table>_wb<token>_<number>`` when it had no name), and a note when CONCURRENTLY was
    dropped.

    >>> unique_names("CREATE INDEX CONCURRENTLY ix ON t (a)", token="z9")[0]
    'CREATE INDEX ix_wbz9 ON t (a)'
    >>> unique_names("CREATE STATISTICS ON a, b FROM t", token="z9", number=2)[0]
    'CREATE STATISTICS stats_wbz9_2 ON a, b FROM t'
    """
    index = _INDEX.match(statement)
    if index:
        table = index["table"].split(".")[-1].strip('"')
        name = _named(index["name"], table, token, number)
        rebuilt = f"{index['head']}{index['ifnot'] or ''}{name} {index['on']}"
        note = None
        if index["concurrently"]:
            note = (
                "CONCURRENTLY was dropped: it cannot run inside the check's transaction; keep "
                "it when you create the index for real"
            )
        return rebuilt + statement[index.end() :], note
    statistics = _STATISTICS.match(statement)
    if statistics:
        name = _named(statistics["name"], "stats", token, number)
        rest = statistics["rest"].lstrip()
        rebuilt = f"{statistics['head']}{statistics['ifnot'] or ''}{name} {rest}"
        return rebuilt + statement[statistics.end() :], None
    return statement, None


def _named(name: str | None, table: str, token: str, number: int) -> str:
    base = name.strip('"') if name else f"{table}_wb{token}_{number}"
    unique = base if not name else f"{base}_wb{token}"
    return (
        '"' + unique[:63].replace('"', "") + '"' if name and name.startswith('"') else unique[:63]
    )


def normalized(sql: str) -> str:
    """An answer's text for comparing it with another: comments, case, spacing and the final
    semicolon do not count; string literals do.

    >>> normalized("select  ID from T; -- note") == normalized("SELECT id FROM t")
    True
    >>> normalized("WHERE a = 'X'") == normalized("WHERE a = 'x'")
    False
    """
    import sqlglot
    from sqlglot import TokenType

    try:
        tokens = sqlglot.tokenize(sql, read="postgres")
    except Exception:  # an unterminated string: compare the text as it is
        return " ".join(sql.split())
    return " ".join(
        repr(t.text) if t.token_type is TokenType.STRING else t.text.lower()
        for t in tokens
        if t.token_type is not TokenType.SEMICOLON
    )
