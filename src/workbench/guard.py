"""The safety guard: what a statement is, and whether the workbench may run it.

Every feature (query, explain, profile, capture replays, fixes) sends SQL through
:func:`classify` and :func:`authorize`. Classification uses a real SQL parser (sqlglot), never the
first keyword: ``WITH d AS (DELETE ...) SELECT`` is a write, ``SELECT 1; DROP TABLE t`` is two
statements and refused before anything reaches the database.

What rollback cannot undo is refused even with ``allow_writes=True``: transaction control (it
would end the sandbox), functions with effects outside the transaction (``nextval``,
``dblink_exec``, advisory locks, ...), files written by ``COPY ... TO`` or ``INTO OUTFILE``.
Engine-specific limits (MySQL/MariaDB DDL commits implicitly, MyISAM tables ignore rollback) are
checked by the dialect, which knows its server.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass, field
from typing import cast

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.errors import ParseError, TokenError

from workbench.errors import UnsafeStatementError
from workbench.sqltext import quiet_sqlglot, sqlglot_dialect

__all__ = [
    "StatementInfo",
    "StatementKind",
    "authorize",
    "classify",
    "split_statements",
]


class StatementKind(enum.StrEnum):
    """What a statement does, as far as safety is concerned."""

    READ = "read"  # reads data; runs in a read-only transaction
    WRITE = "write"  # changes rows (INSERT/UPDATE/DELETE/MERGE, SELECT ... FOR UPDATE)
    DDL = "ddl"  # changes the schema or runs maintenance (CREATE, DROP, ANALYZE, ...)
    TRANSACTION = "transaction"  # BEGIN/COMMIT/ROLLBACK/SAVEPOINT: the workbench owns these
    SESSION = "session"  # SET/USE/PRAGMA x=y: changes the pooled connection for later calls
    UNKNOWN = "unknown"  # the parser could not tell; only engines that enforce read-only run it


# Functions whose effect survives ROLLBACK (or reach outside the database). Lower case.
SIDE_EFFECT_FUNCTIONS: frozenset[str] = frozenset(
    {
        # PostgreSQL
        "nextval",
        "setval",
        "dblink_exec",
        "dblink",
        "dblink_send_query",
        "dblink_connect",
        "pg_advisory_lock",
        "pg_advisory_lock_shared",
        "pg_try_advisory_lock",
        "pg_try_advisory_lock_shared",
        "lo_import",
        "lo_export",
        "lo_unlink",
        "lo_create",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "pg_switch_wal",
        "pg_create_restore_point",
        "pg_stat_reset",
        "pg_stat_reset_shared",
        "pg_stat_reset_single_table_counters",
        "pg_stat_statements_reset",
        "pg_file_write",
        "pg_promote",
        "pg_create_logical_replication_slot",
        "pg_create_physical_replication_slot",
        "pg_drop_replication_slot",
        "pg_logical_emit_message",
        "set_config",
        # MySQL / MariaDB
        "get_lock",
        "release_lock",
        "release_all_locks",
        "sys_exec",
        "sys_eval",
        # SQLite
        "load_extension",
        "writefile",
    }
)

_READ_TYPES: tuple[type[exp.Expression], ...] = (
    exp.Select,
    exp.Union,
    exp.Intersect,
    exp.Except,
    exp.Values,
    exp.Subquery,
    exp.Show,
    exp.Describe,
)
_WRITE_TYPES: tuple[type[exp.Expression], ...] = (exp.Insert, exp.Update, exp.Delete, exp.Merge)
_DDL_TYPES: tuple[type[exp.Expression], ...] = (
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Comment,
    exp.Grant,
    exp.Analyze,
    exp.RenameColumn,
)
_TRANSACTION_TYPES: tuple[type[exp.Expression], ...] = (exp.Transaction, exp.Commit, exp.Rollback)
_SESSION_TYPES: tuple[type[exp.Expression], ...] = (exp.Set, exp.Use, exp.Attach, exp.Detach)

# Statements sqlglot keeps as an opaque Command, by first keyword.
_COMMAND_KINDS: dict[str, StatementKind] = {
    **dict.fromkeys(
        (
            "VACUUM",
            "REINDEX",
            "CLUSTER",
            "CHECKPOINT",
            "OPTIMIZE",
            "REFRESH",
            "FLUSH",
            "RENAME",
            "SECURITY",
            "IMPORT",
            "EXPORT",
        ),
        StatementKind.DDL,
    ),
    **dict.fromkeys(("REPLACE", "CALL", "DO", "LOCK", "EXECUTE", "NOTIFY"), StatementKind.WRITE),
    **dict.fromkeys(("SAVEPOINT", "RELEASE", "START"), StatementKind.TRANSACTION),
    **dict.fromkeys(
        (
            "UNLOCK",
            "PREPARE",
            "DEALLOCATE",
            "LISTEN",
            "DISCARD",
            "RESET",
            "LOAD",
            "INSTALL",
            "HANDLER",
            "KILL",
        ),
        StatementKind.SESSION,
    ),
    **dict.fromkeys(
        ("CHECKSUM", "SUMMARIZE", "SHOW", "DESCRIBE", "DESC", "TABLE"), StatementKind.READ
    ),
}

# what follows ANALYZE (or OPTIMIZE, REPAIR, CHECK) in MySQL's table maintenance
_MAINTENANCE_TARGET = re.compile(r"(?:NO_WRITE_TO_BINLOG\s+|LOCAL\s+)?TABLES?\b", re.IGNORECASE)

# MySQL/MariaDB statements that commit the open transaction implicitly (the sandbox would be
# committed, not rolled back), by their first words; they are never run inside a transaction.
IMPLICIT_COMMIT = re.compile(
    r"""^\s*(?:ANALYZE\s+(?:NO_WRITE_TO_BINLOG\s+|LOCAL\s+)?TABLES?
          |OPTIMIZE\s+(?:NO_WRITE_TO_BINLOG\s+|LOCAL\s+)?TABLES?
          |REPAIR\s+(?:NO_WRITE_TO_BINLOG\s+|LOCAL\s+)?TABLES?
          |CHECK\s+TABLES?|CACHE\s+INDEX|LOAD\s+INDEX|FLUSH|RESET
          |LOCK\s+TABLES?|UNLOCK\s+TABLES?|LOCK\s+INSTANCE|UNLOCK\s+INSTANCE
          |GRANT|REVOKE|(?:CREATE|DROP|ALTER|RENAME)\s+(?:USER|ROLE)|SET\s+(?:PASSWORD|ROLE)
          |INSTALL|UNINSTALL|XA|SHUTDOWN|RESTART|PURGE|START\s+(?:SLAVE|REPLICA)
          |STOP\s+(?:SLAVE|REPLICA)|CHANGE\s+(?:MASTER|REPLICATION)|BINLOG|KILL)\b""",
    re.IGNORECASE | re.VERBOSE,
)

_SET_STATEMENT = re.compile(r"SET\s+STATEMENT\b", re.IGNORECASE)
_CALLED_NAME = re.compile(r"\b([A-Za-z_][\w$]*)\s*\(")
_NOT_CALLS = frozenset({"call", "do", "values", "in", "exists", "and", "or", "not", "as"})

# optimizer hints that replace the statement timeout the workbench set (MySQL 8)
TIMEOUT_HINTS = frozenset({"max_execution_time"})

# EXPLAIN with its options, in PostgreSQL, MySQL/MariaDB, SQLite and DuckDB spellings.
_EXPLAIN_PREFIX = re.compile(
    r"""^\s*(?P<verb>EXPLAIN|ANALYZE)\b
        (?P<opts>(?:\s*\((?:[^()]|\([^()]*\))*\))?
                 (?:\s+(?:ANALYZE|ANALYSE|VERBOSE|EXTENDED|PARTITIONS|QUERY\s+PLAN
                        |FORMAT\s*=\s*\w+|FORMAT\s+\w+|FOR\s+CONNECTION\s+\d+))*)
        \s+(?P<rest>(?:SELECT|WITH|INSERT|UPDATE|DELETE|MERGE|VALUES|TABLE|REPLACE|CREATE
                     |EXECUTE|DECLARE|\()[\s\S]*)$""",
    re.IGNORECASE | re.VERBOSE,
)
_OPTION_ON = re.compile(r"\bANALY[SZ]E\b(?!\s+(?:FALSE|OFF|0)\b)", re.IGNORECASE)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatementInfo:
    """One classified statement.

    ``sql`` is the statement as it will be sent (whitespace and trailing ``;`` removed);
    ``operation`` a short upper-case label ("SELECT", "DELETE", "CREATE INDEX", "EXPLAIN");
    ``tables`` every table the statement names (CTE names excluded), ``written_tables`` the
    ones it changes; ``side_effects`` the functions it calls that rollback cannot undo.
    """

    sql: str
    kind: StatementKind
    operation: str
    tables: tuple[str, ...] = ()
    written_tables: tuple[str, ...] = ()
    functions: frozenset[str] = field(default_factory=frozenset)
    side_effects: tuple[str, ...] = ()
    parsed: bool = True
    explain: bool = False  # the statement is itself an EXPLAIN of ``inner``
    inner: StatementInfo | None = None
    problem: str | None = None  # a reason to refuse found while classifying (file writes)
    commits: bool = False  # MySQL/MariaDB: commits the open transaction implicitly
    plans_only: bool = False  # an EXPLAIN that does not execute: only the planner runs
    calls: frozenset[str] = field(default_factory=frozenset)  # functions the parser doesn't know

    @property
    def is_write(self) -> bool:
        """True when running the statement changes data or schema."""
        return self.kind in (StatementKind.WRITE, StatementKind.DDL)


def classify(sql: str, dialect: str = "postgresql") -> StatementInfo:
    """Classify one SQL statement; refuse several.

    >>> classify("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d").kind
    <StatementKind.WRITE: 'write'>

    Raises:
        UnsafeStatementError: the text holds no statement, or more than one.
    """
    if not isinstance(sql, str):
        raise UnsafeStatementError(
            f"SQL must be a string, not {type(sql).__name__}",
            hint="pass the statement text, e.g. s.query('SELECT 1')",
            kind="empty",
        )
    text = sql.strip()
    read = sqlglot_dialect(dialect)
    statements = split_statements(text, dialect)
    if not statements:
        raise UnsafeStatementError(
            "no SQL statement was given", hint="pass one statement, e.g. 'SELECT 1'", kind="empty"
        )
    if len(statements) > 1:
        raise UnsafeStatementError(
            f"{len(statements)} statements were given; the workbench runs exactly one per call",
            hint="split the text and run each statement in its own call; nothing was executed",
            kind="multiple",
        )
    return _classify_one(statements[0], read)


def split_statements(text: str, dialect: str = "postgresql") -> list[str]:
    """The statements of ``text``, split on top-level semicolons by sqlglot's tokenizer (so
    semicolons in strings and comments do not count); empty statements dropped."""
    read = sqlglot_dialect(dialect)
    try:
        tokens = sqlglot.tokenize(text, read=read)
    except TokenError:
        # An unterminated string or comment: one statement as far as anyone can tell; the
        # database will report the syntax error.
        return [text.rstrip().rstrip(";").strip()] if text.strip(" ;\n\t") else []
    pieces: list[str] = []
    start = 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            pieces.append(text[start : token.start])
            start = token.end + 1
    pieces.append(text[start:])
    return [p.strip() for p in pieces if _has_code(p)]


def _has_code(piece: str) -> bool:
    stripped = re.sub(r"--[^\n]*|/\*[\s\S]*?\*/", "", piece)
    return bool(stripped.strip())


def _classify_one(sql: str, read: str) -> StatementInfo:
    explained = _EXPLAIN_PREFIX.match(sql)
    # MariaDB's ANALYZE <statement> runs it (an EXPLAIN that executes); PostgreSQL's ANALYZE
    # and MySQL's ANALYZE TABLE gather statistics instead
    if (
        explained
        and explained["verb"].upper() == "ANALYZE"
        and (read == "postgres" or _MAINTENANCE_TARGET.match(explained["rest"]))
    ):
        explained = None
    if explained:
        inner = _classify_one(explained["rest"], read)
        executes = explained["verb"].upper() == "ANALYZE" or bool(
            _OPTION_ON.search(explained["opts"] or "")
        )
        kind = inner.kind if executes else StatementKind.READ
        if not executes and inner.kind is StatementKind.UNKNOWN:
            kind = StatementKind.UNKNOWN
        return StatementInfo(
            sql=sql,
            kind=kind,
            operation="EXPLAIN",
            tables=inner.tables,
            written_tables=inner.written_tables if executes else (),
            functions=inner.functions,
            side_effects=inner.side_effects if executes else (),
            parsed=inner.parsed,
            explain=True,
            inner=inner,
            problem=inner.problem,
            commits=inner.commits,
            calls=inner.calls,
            plans_only=not executes,
        )
    if read == "mysql" and _SET_STATEMENT.match(_without_comments(sql)):
        # MariaDB's SET STATEMENT var=value FOR <statement>: a setting (max_statement_time=0
        # would lift the timeout) smuggled into one statement
        return StatementInfo(sql=sql, kind=StatementKind.SESSION, operation="SET STATEMENT")
    if read == "mysql":
        committing = IMPLICIT_COMMIT.match(_without_comments(sql))
        if committing:
            label = " ".join(committing.group(0).split()).upper()
            return StatementInfo(
                sql=sql,
                kind=StatementKind.DDL,
                operation=label,
                parsed=True,
                commits=True,
            )
    try:
        with quiet_sqlglot():
            tree = cast(exp.Expression, sqlglot.parse_one(sql, read=read))
    except (ParseError, TokenError, ValueError) as exc:
        log.debug("sqlglot could not parse %r: %s", sql[:200], exc)
        return StatementInfo(
            sql=sql, kind=StatementKind.UNKNOWN, operation=_first_word(sql), parsed=False
        )
    return _from_tree(sql, tree)


def _from_tree(sql: str, tree: exp.Expression) -> StatementInfo:
    functions = frozenset(_function_names(tree))
    calls = frozenset(str(node.name).lower() for node in tree.find_all(exp.Anonymous))
    side_effects = tuple(sorted(f for f in functions if f in SIDE_EFFECT_FUNCTIONS))
    tables = _table_names(tree)
    written: tuple[str, ...] = ()
    problem = None
    operation = _first_word(sql)

    writes = [n for n in tree.find_all(*_WRITE_TYPES)]
    if isinstance(tree, _WRITE_TYPES) or writes:
        kind = StatementKind.WRITE
        targets = [tree] if isinstance(tree, _WRITE_TYPES) else []
        targets += [n for n in writes if n is not tree]
        written = tuple(dict.fromkeys(name for n in targets for name in _written_names(n)))
        if not isinstance(tree, _WRITE_TYPES):
            operation = f"{operation} (data-modifying CTE)"
    elif isinstance(tree, _READ_TYPES):
        kind = StatementKind.READ
        if isinstance(tree, exp.Select) and tree.args.get("into") is not None:
            kind, operation = StatementKind.DDL, "SELECT INTO"
        elif any(tree.find_all(exp.Lock)):
            kind, operation = StatementKind.WRITE, f"{operation} (row locks)"
    elif isinstance(tree, exp.Copy):
        to_file = not tree.args.get("kind")  # kind=True means FROM, False means TO
        kind = StatementKind.WRITE if not to_file else StatementKind.READ
        target = tree.this
        if to_file and not _copies_to_client(tree):
            problem = "COPY ... TO a file writes outside the database, which rollback cannot undo"
        if isinstance(target, exp.Table):
            written = (target.sql(),) if kind is StatementKind.WRITE else ()
    elif isinstance(tree, _DDL_TYPES):
        kind = StatementKind.DDL
        operation = _ddl_label(tree, operation)
    elif isinstance(tree, _TRANSACTION_TYPES):
        kind = StatementKind.TRANSACTION
    elif isinstance(tree, _SESSION_TYPES):
        kind = StatementKind.SESSION
    elif isinstance(tree, exp.Pragma):
        kind = StatementKind.SESSION if _pragma_assigns(sql) else StatementKind.READ
    elif isinstance(tree, exp.Command):
        keyword = str(tree.this).upper()
        kind = _COMMAND_KINDS.get(keyword, StatementKind.UNKNOWN)
        operation = keyword
        if keyword in ("CALL", "DO"):
            # opaque to the parser: the procedure called, or the code block's own text, is
            # read for the functions it calls
            calls = frozenset(name.lower() for name in _CALLED_NAME.findall(sql)) - _NOT_CALLS
            side_effects = tuple(sorted(calls & SIDE_EFFECT_FUNCTIONS))
        if kind is StatementKind.WRITE:
            target = _COMMAND_TARGET.match(sql)
            name = next((g for g in target.groups() if g), None) if target else None
            written = (name.replace("`", "").replace('"', ""),) if name else ()
    else:
        kind = StatementKind.UNKNOWN
    return StatementInfo(
        sql=sql,
        kind=kind,
        operation=operation,
        tables=tables,
        written_tables=written,
        functions=functions,
        side_effects=side_effects,
        problem=problem,
        calls=calls,
    )


def authorize(info: StatementInfo, *, allow_writes: bool, read_only_enforced: bool) -> None:
    """Refuse what the workbench must not run; return when the statement may be sent.

    ``read_only_enforced`` says whether the engine itself refuses writes inside the read-only
    transaction (PostgreSQL, SQLite's ``query_only``): only there may a statement the parser could
    not classify run, as a read.

    Raises:
        UnsafeStatementError: with the reason and what to do instead.
    """
    label = info.operation or "statement"
    if info.commits:
        raise UnsafeStatementError(
            f"{label} commits the open transaction implicitly on MySQL and MariaDB, so a "
            "rollback could not undo it (nor what ran before it in the sandbox); the workbench "
            "never runs it",
            hint="run maintenance like this in a client of your own (mariadb, mysql) if you mean "
            "it; for fresh statistics in a sandbox there is no safe equivalent on this engine",
            kind=info.kind.value,
        )
    hints = sorted(info.functions & TIMEOUT_HINTS)
    if hints:
        raise UnsafeStatementError(
            f"the {hints[0].upper()} hint would replace the timeout the workbench sets",
            hint="remove the hint and pass timeout= instead, e.g. s.query(sql, timeout=120)",
            kind=info.kind.value,
        )
    if info.problem:
        raise UnsafeStatementError(
            info.problem,
            hint="export from a notebook cell with pandas (s.query(...).to_csv(path)) instead",
            kind=info.kind.value,
        )
    if info.side_effects:
        names = ", ".join(f"{name}()" for name in info.side_effects)
        raise UnsafeStatementError(
            f"{label} calls {names}, whose effect survives a rollback",
            hint="the workbench only runs what it can undo; run this through s.engine yourself "
            "if you mean it",
            kind=info.kind.value,
        )
    if info.kind is StatementKind.TRANSACTION:
        raise UnsafeStatementError(
            f"{label} is transaction control; the workbench opens and rolls back its own "
            "transaction around every statement",
            hint="send the statement alone, without BEGIN/COMMIT",
            kind=info.kind.value,
        )
    if info.kind is StatementKind.SESSION:
        raise UnsafeStatementError(
            f"{label} changes the connection's settings for later statements",
            hint="pass settings per call instead, e.g. s.explain(sql, settings={'work_mem': "
            "'4MB'}), which applies them inside the rolled-back transaction",
            kind=info.kind.value,
        )
    if info.kind is StatementKind.UNKNOWN and not read_only_enforced:
        raise UnsafeStatementError(
            f"the SQL parser could not classify this {label} statement, and this engine cannot "
            "enforce a read-only transaction",
            hint="check the syntax; if it is a read, rewrite it in standard SQL",
            kind=info.kind.value,
        )
    if info.is_write and not allow_writes:
        what = "changes the schema" if info.kind is StatementKind.DDL else "writes data"
        raise UnsafeStatementError(
            f"{label} {what}; nothing was run",
            hint="pass allow_writes=True to run it inside a transaction that is always rolled "
            "back (EXPLAIN ANALYZE and profiles of writes leave the data unchanged)",
            kind=info.kind.value,
        )


def _without_comments(sql: str) -> str:
    return re.sub(r"^(\s|--[^\n]*\n?|/\*[\s\S]*?\*/|\#[^\n]*\n?)+", "", sql)


def _first_word(sql: str) -> str:
    stripped = _without_comments(sql)
    match = re.match(r"[A-Za-z_]+", stripped)
    return match.group(0).upper() if match else "statement"


def _function_names(tree: exp.Expression) -> set[str]:
    names: set[str] = set()
    for node in tree.find_all(exp.Func):
        if isinstance(node, exp.Anonymous):
            names.add(str(node.name).lower())
        else:
            names.add(node.sql_name().lower())
    return names


def _table_names(tree: exp.Expression) -> tuple[str, ...]:
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    names: dict[str, None] = {}
    for table in tree.find_all(exp.Table):
        if not table.name or (not table.db and table.name.lower() in cte_names):
            continue
        qualified = ".".join(p for p in (table.catalog, table.db, table.name) if p)
        names[qualified] = None
    return tuple(names)


def _written_names(node: exp.Expression) -> list[str]:
    """The tables a write node may change. MySQL's multi-table ``UPDATE a JOIN b SET b.v =
    ...`` and ``DELETE b FROM a JOIN b`` can write any table they name, so all of them count."""
    if isinstance(node, exp.Update | exp.Delete):
        names: dict[str, None] = {}
        for key in ("this", "tables", "using", "from"):  # not WHERE: a subquery only reads
            part = node.args.get(key)
            for item in part if isinstance(part, list) else [part]:
                if isinstance(item, exp.Expression):
                    names.update(dict.fromkeys(_table_names(item)))
        if len(names) > 1:
            return list(names)
    target = _target_name(node)
    return [target] if target else []


# the table a write the parser keeps as a bare command targets (MySQL REPLACE, LOAD DATA)
_NAME = r"((?:[`\"]?[\w$]+[`\"]?\.)?[`\"]?[\w$]+[`\"]?)"
_COMMAND_TARGET = re.compile(
    rf"\s*(?:REPLACE\s+(?:LOW_PRIORITY\s+|DELAYED\s+)?(?:INTO\s+)?{_NAME}"
    rf"|INSERT\b.*?\bINTO\s+{_NAME}"
    rf"|LOAD\s+(?:DATA|XML)\b.*?\bINTO\s+TABLE\s+{_NAME})",
    re.IGNORECASE | re.DOTALL,
)


def _target_name(node: exp.Expression) -> str:
    target = node.this
    if isinstance(target, exp.Schema):  # INSERT INTO t (a, b)
        target = target.this
    if isinstance(target, exp.Table):
        return ".".join(p for p in (target.catalog, target.db, target.name) if p)
    return ""


def _ddl_label(tree: exp.Expression, fallback: str) -> str:
    if isinstance(tree, exp.Create | exp.Drop):
        kind = tree.args.get("kind")
        return f"{fallback} {kind}".strip() if kind else fallback
    return fallback


def _copies_to_client(tree: exp.Copy) -> bool:
    files = tree.args.get("files") or []
    return any(str(f.name).upper() == "STDOUT" or f.sql().upper() == "STDOUT" for f in files)


def _pragma_assigns(sql: str) -> bool:
    return "=" in sql
