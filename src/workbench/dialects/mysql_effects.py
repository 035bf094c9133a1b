"""What a MySQL or MariaDB statement may write beyond the tables it names, and whether a
rollback can undo all of it.

A write reaches further than its text: through a view to the tables under it, through the
triggers it fires to whatever their bodies write (and the triggers those writes fire), through
the stored functions and procedures it calls. Every table reached is checked for a
transactional storage engine (InnoDB and kin): a MyISAM, Aria or MEMORY table keeps a write
after ROLLBACK, so the statement is refused. The catalogue is read from
``information_schema`` (TABLES, VIEWS, TRIGGERS, ROUTINES) in the statement's own transaction.

Routine and trigger bodies are read conservatively: a body that changes data is taken to write
every table it names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.dialects.base import Effects, fetch_dicts, split_table_name
from workbench.guard import StatementKind

if TYPE_CHECKING:
    from workbench.guard import StatementInfo

__all__ = ["TRANSACTIONAL_ENGINES", "statement_effects"]

TRANSACTIONAL_ENGINES = frozenset({"INNODB", "XTRADB", "ROCKSDB", "TOKUDB", "NDBCLUSTER", "NDB"})
_MAX_DEPTH = 8

_DML = re.compile(r"\b(?:INSERT|UPDATE|DELETE|REPLACE|LOAD\s+DATA|CALL)\b", re.IGNORECASE)
_NAMED = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+((?:[`\w$]+\.)?[`\w$]+)", re.IGNORECASE)
_CALLED = re.compile(
    r"(?:\bCALL\s+((?:[`\w$]+\.)?[`\w$]+)|\b([A-Za-z_][\w$]*)\s*\()", re.IGNORECASE
)
_CALL_STATEMENT = re.compile(r"^\s*CALL\s+((?:[`\w$]+\.)?[`\w$]+)", re.IGNORECASE)
_ALL_EVENTS = ("INSERT", "UPDATE", "DELETE")
_EVENTS = {
    "INSERT": ("INSERT",),
    "UPDATE": ("UPDATE",),
    "DELETE": ("DELETE",),
    "REPLACE": ("INSERT", "DELETE"),
    "LOAD": ("INSERT",),
}


@dataclass(frozen=True)
class _Routine:
    name: str
    kind: str  # FUNCTION | PROCEDURE
    data_access: str
    body: str

    @property
    def modifies(self) -> bool:
        return self.data_access == "MODIFIES SQL DATA" or bool(_DML.search(self.body))


def statement_effects(dialect: str, info: StatementInfo, dbapi: Any) -> Effects:
    """The :class:`Effects` of ``info`` on this server (see the module docstring)."""
    if info.plans_only and not info.is_write:
        return Effects()  # an EXPLAIN: nothing runs
    if info.kind is StatementKind.DDL or (info.inner and info.inner.kind is StatementKind.DDL):
        return Effects(
            refuse=f"{dialect} commits DDL ({info.operation}) implicitly, so a rollback cannot "
            "undo it; the workbench does not run DDL on this engine"
        )
    walker = _Walker(dbapi)
    writes = None
    reached: list[tuple[str, str]] = []
    called = _CALL_STATEMENT.match(info.inner.sql if info.inner else info.sql)
    routines = walker.routines(info.calls, "FUNCTION")
    if called:
        routines += walker.routines([_unquote(called.group(1))], "PROCEDURE")
    for routine in routines:
        if routine.modifies:
            writes = writes or (
                f"{info.operation} calls {routine.name}(), which changes data "
                f"({routine.data_access.lower()})"
            )
            reached += walker.reached_by_body(routine.body, f"written by {routine.name}()")
    locks_only = info.operation.endswith("(row locks)")  # SELECT ... FOR UPDATE writes nothing
    if info.is_write and not called and not locks_only:
        if not info.written_tables:
            return Effects(
                refuse=f"the workbench cannot tell which tables this {info.operation} writes, "
                "so it cannot check that a rollback would undo it"
            )
        reached += [(table, "") for table in info.written_tables]
    if not reached:
        return Effects(writes=writes)
    events = _statement_events(info)
    found = walker.engines(reached, events)
    unsafe = [
        f"{table}{f' ({how})' if how else ''}: {engine or 'unknown'}"
        for table, how, engine in found
        if (engine or "").upper() not in TRANSACTIONAL_ENGINES and engine != "-"
    ]
    if unsafe:
        return Effects(
            refuse="a rollback would not undo this write: it reaches tables of a "
            "non-transactional storage engine (or of one the workbench could not read): "
            + "; ".join(sorted(unsafe)),
            writes=writes,
        )
    own = [table for table, how, _ in found if not how]
    counters = walker.auto_increment(own) if "INSERT" in events else []
    return Effects(writes=writes, sequences=tuple(counters))


class _Walker:
    """Follows views, triggers and routines through ``information_schema``."""

    def __init__(self, dbapi: Any) -> None:
        self.dbapi = dbapi
        self._routines: dict[tuple[str, str], _Routine | None] = {}

    def routines(self, names: Iterable[str], kind: str) -> list[_Routine]:
        wanted = [n for n in {_unquote(n).split(".")[-1].lower() for n in names} if n]
        missing = [n for n in wanted if (n, kind) not in self._routines]
        if missing:
            rows = fetch_dicts(
                self.dbapi,
                "SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS kind, SQL_DATA_ACCESS AS access, "
                "ROUTINE_DEFINITION AS body FROM information_schema.ROUTINES "
                "WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE = %s "
                f"AND LOWER(ROUTINE_NAME) IN ({', '.join(['%s'] * len(missing))})",
                (kind, *missing),
            )
            for name in missing:
                self._routines[(name, kind)] = None
            for row in rows:
                self._routines[(str(row["name"]).lower(), kind)] = _Routine(
                    str(row["name"]), kind, str(row["access"] or ""), str(row["body"] or "")
                )
        return [r for n in wanted if (r := self._routines.get((n, kind))) is not None]

    def reached_by_body(self, body: str, how: str, depth: int = 0) -> list[tuple[str, str]]:
        """The tables a routine or trigger body may write (every table it names, when it
        changes data), and those of the routines it calls."""
        if depth > _MAX_DEPTH or not _DML.search(body):
            return []
        out = [(_unquote(name), how) for name in _NAMED.findall(body)]
        procedures = [m[0] for m in _CALLED.findall(body) if m[0]]
        functions = [m[1] for m in _CALLED.findall(body) if m[1]]
        for routine in self.routines(procedures, "PROCEDURE") + self.routines(
            functions, "FUNCTION"
        ):
            out += self.reached_by_body(routine.body, f"{how}, then by {routine.name}()", depth + 1)
        return out

    def engines(
        self, reached: list[tuple[str, str]], events: tuple[str, ...]
    ) -> list[tuple[str, str, str | None]]:
        """(table, how it was reached, storage engine) for every table reached, through views
        and triggers; ``"-"`` for a name that is no table (a CTE, a column the body names)."""
        seen: set[str] = set()
        out: list[tuple[str, str, str | None]] = []
        queue = [(table, how, events, 0) for table, how in reached]
        while queue:
            table, how, table_events, depth = queue.pop(0)
            key = table.lower()
            if key in seen:
                continue
            seen.add(key)
            schema, name = split_table_name(table)
            rows = fetch_dicts(
                self.dbapi,
                "SELECT t.ENGINE AS engine, t.TABLE_TYPE AS type, v.VIEW_DEFINITION AS definition "
                "FROM information_schema.TABLES t LEFT JOIN information_schema.VIEWS v "
                "ON v.TABLE_SCHEMA = t.TABLE_SCHEMA AND v.TABLE_NAME = t.TABLE_NAME "
                "WHERE t.TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND t.TABLE_NAME = %s",
                (schema, name),
            )
            if not rows:
                # not a table here: a name a body mentions that is not one, or a table the
                # statement will fail on by itself
                out.append((table, how, "-"))
                continue
            if depth >= _MAX_DEPTH:
                out.append((table, how, None))  # too deep to follow: refused as unknown
                continue
            if rows[0]["type"] == "VIEW":
                below = _NAMED.findall(str(rows[0]["definition"] or ""))
                if not below:
                    out.append((table, f"{how} (a view)".strip(), None))
                queue += [
                    (_unquote(b), _join(how, f"under the view {table}"), table_events, depth + 1)
                    for b in below
                ]
                continue
            out.append((table, how, rows[0]["engine"]))
            for trigger, body in self._triggers(schema, name, table_events):
                via = _join(how, f"written by the trigger {trigger} on {table}")
                queue += [
                    (t, h, _ALL_EVENTS, depth + 1) for t, h in self.reached_by_body(body, via)
                ]
        return out

    def _triggers(
        self, schema: str | None, name: str, events: tuple[str, ...]
    ) -> list[tuple[str, str]]:
        rows = fetch_dicts(
            self.dbapi,
            "SELECT TRIGGER_NAME AS name, ACTION_STATEMENT AS body "
            "FROM information_schema.TRIGGERS "
            "WHERE EVENT_OBJECT_SCHEMA = COALESCE(%s, DATABASE()) AND EVENT_OBJECT_TABLE = %s "
            f"AND EVENT_MANIPULATION IN ({', '.join(['%s'] * len(events))})",
            (schema, name, *events),
        )
        return [(str(r["name"]), str(r["body"] or "")) for r in rows]

    def auto_increment(self, tables: Iterable[str]) -> list[str]:
        """The AUTO_INCREMENT counters an INSERT into ``tables`` advances (InnoDB does not give
        them back on rollback)."""
        out = []
        for table in tables:
            schema, name = split_table_name(table)
            rows = fetch_dicts(
                self.dbapi,
                "SELECT COLUMN_NAME AS col FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s "
                "AND EXTRA LIKE %s",
                (schema, name, "%auto_increment%"),
            )
            out += [f"{name}.{r['col']} (AUTO_INCREMENT)" for r in rows]
        return out


def _statement_events(info: StatementInfo) -> tuple[str, ...]:
    operation = (info.inner.operation if info.inner else info.operation).split()[0].upper()
    events = _EVENTS.get(operation, _ALL_EVENTS)
    if operation == "INSERT" and re.search(r"\bON\s+DUPLICATE\s+KEY\b", info.sql, re.IGNORECASE):
        events = ("INSERT", "UPDATE")
    return tuple(dict.fromkeys(e for e in events if e in _ALL_EVENTS))


def _unquote(name: str) -> str:
    return name.replace("`", "")


def _join(how: str, more: str) -> str:
    return f"{how}, {more}" if how else more
