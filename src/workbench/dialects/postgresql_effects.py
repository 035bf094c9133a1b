"""What a PostgreSQL statement may do beyond its text, read from the catalogue.

PostgreSQL rolls back everything a transaction does to its own database, and a read-only
transaction refuses every local write, from functions too. What escapes is what reaches
outside: ``dblink_exec()`` commits in another database, an untrusted procedural language
(plpython3u, plperlu) can write files, ``setval()`` moves a sequence for good. A user-defined
function or a trigger can hide those, so their bodies are read (and the functions they call,
a few levels deep):

* a body that calls a function whose effect survives a rollback: refused, even with
  ``allow_writes=True``;
* a VOLATILE function in an untrusted language: refused;
* a VOLATILE function when this database can reach other servers (``dblink`` or
  ``postgres_fdw`` installed): it needs ``allow_writes=True`` (the workbench cannot prove it
  only reads), and then runs in the rolled-back transaction;
* an INSERT into a table whose column takes a sequence: a warning (the rows are rolled back,
  the sequence is not).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from workbench.dialects.base import Effects, fetch_dicts
from workbench.guard import SIDE_EFFECT_FUNCTIONS

if TYPE_CHECKING:
    from workbench.guard import StatementInfo

__all__ = ["statement_effects"]

_MAX_DEPTH = 6
# a sequence moving forward is the documented exception (a warning), not a refusal
_ESCAPING = SIDE_EFFECT_FUNCTIONS - {"nextval", "set_config"}
_CALLED = re.compile(r"\b([A-Za-z_][\w$]*)\s*\(")
_OUTBOUND_EXTENSIONS = ("dblink", "postgres_fdw")

_FUNCTIONS_SQL = """
SELECT p.proname AS name, p.provolatile AS volatility, l.lanname AS language,
       l.lanpltrusted AS trusted, p.prosrc AS body, e.extname AS extension
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
LEFT JOIN pg_depend d
  ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
LEFT JOIN pg_extension e ON e.oid = d.refobjid
WHERE lower(p.proname) = ANY(%s) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""
_TRIGGERS_SQL = """
SELECT t.tgname AS name, c.relname AS table_name, p.proname AS function, p.prosrc AS body,
       l.lanname AS language, l.lanpltrusted AS trusted
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_proc p ON p.oid = t.tgfoid
JOIN pg_language l ON l.oid = p.prolang
WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'
  AND t.tgrelid = ANY(ARRAY(SELECT to_regclass(x) FROM unnest(%s::text[]) AS x))
"""
_SEQUENCES_SQL = """
SELECT DISTINCT s.oid::regclass::text AS sequence
FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
WHERE d.deptype IN ('a', 'i')
  AND d.refobjid = ANY(ARRAY(SELECT to_regclass(x) FROM unnest(%s::text[]) AS x))
"""
_EXTENSIONS_SQL = "SELECT extname FROM pg_extension WHERE extname = ANY(%s)"


def statement_effects(info: StatementInfo, dbapi: Any, *, read_only: bool) -> Effects:
    """The :class:`Effects` of ``info`` on this server (see the module docstring)."""
    reader = _Reader(dbapi)
    if info.plans_only:
        # nothing executes but the planner, which folds IMMUTABLE functions of constants
        refuse = next(
            (reader.reasons[n] for n, p in reader.functions(info.calls, folded_only=True) if p),
            None,
        )
        return Effects(refuse=refuse)
    refuse = writes = None
    for name, problem in reader.functions(info.calls):
        if problem == "escapes":
            refuse = refuse or reader.reasons[name]
        elif problem == "volatile" and writes is None:
            outbound = reader.outbound()
            if outbound:
                writes = (
                    f"{info.operation} calls {name}(), a VOLATILE function, and this database "
                    f"can reach other servers ({', '.join(outbound)} installed): the workbench "
                    "cannot prove it only reads"
                )
    sequences: tuple[str, ...] = ()
    if info.is_write and info.written_tables:
        refuse = refuse or reader.triggers(info.written_tables)
        operation = (info.inner.operation if info.inner else info.operation).upper()
        if operation.startswith(("INSERT", "MERGE", "COPY")) or "CTE" in operation:
            sequences = reader.sequences(info.written_tables)
    return Effects(refuse=refuse, writes=writes, sequences=sequences)


class _Reader:
    """Reads functions and triggers from the catalogue, each function once."""

    def __init__(self, dbapi: Any) -> None:
        self.dbapi = dbapi
        self.reasons: dict[str, str] = {}  # lower-case name -> why it escapes a rollback
        self._problems: dict[str, str | None] = {}  # lower-case name -> "escapes", "volatile"
        self._outbound: list[str] | None = None

    def outbound(self) -> list[str]:
        if self._outbound is None:
            rows = fetch_dicts(self.dbapi, _EXTENSIONS_SQL, [list(_OUTBOUND_EXTENSIONS)])
            self._outbound = sorted(str(r["extname"]) for r in rows)
        return self._outbound

    def functions(
        self, names: frozenset[str] | set[str], depth: int = 0, *, folded_only: bool = False
    ) -> list[tuple[str, str]]:
        """``(name, problem)`` for the user-defined functions among ``names`` that are not
        plainly safe: "escapes" (its reason in :attr:`reasons`) or "volatile".
        ``folded_only``: only the IMMUTABLE ones, which the planner may run."""
        if folded_only:
            rows = fetch_dicts(self.dbapi, _FUNCTIONS_SQL, [sorted(n.lower() for n in names)])
            immutable = {str(r["name"]).lower() for r in rows if r["volatility"] == "i"}
            return [(n, p) for n, p in self.functions(immutable, depth) if p == "escapes"]
        wanted = sorted({n.lower() for n in names} - set(self._problems))
        if wanted and depth <= _MAX_DEPTH:
            for name in wanted:
                self._problems[name] = None
            for row in fetch_dicts(self.dbapi, _FUNCTIONS_SQL, [wanted]):
                if row["extension"]:  # an extension's own: the guard lists the bad ones
                    continue
                key = str(row["name"]).lower()
                problem = self._judge(str(row["name"]), row, depth)
                if problem is None and row["volatility"] == "v":
                    problem = "volatile"
                self._problems[key] = problem
        return [(n, p) for n in sorted({n.lower() for n in names}) if (p := self._problems.get(n))]

    def _judge(self, name: str, row: dict[str, Any], depth: int) -> str | None:
        """ "escapes" when the function's body (or a function it calls) reaches outside."""
        body = str(row["body"] or "")
        lowered = body.lower()
        escaping = sorted(f for f in _ESCAPING if re.search(rf"\b{re.escape(f)}\s*\(", lowered))
        if escaping:
            calls = ", ".join(f"{f}()" for f in escaping)
            self.reasons[name.lower()] = f"{name}() calls {calls}, whose effect survives a rollback"
            return "escapes"
        if (
            row.get("volatility", "v") == "v"
            and not row["trusted"]
            and row["language"] not in ("c", "internal")
        ):
            self.reasons[name.lower()] = (
                f"{name}() is a VOLATILE function in the untrusted language {row['language']}, "
                "which can act outside the database where a rollback cannot follow"
            )
            return "escapes"
        called = {c.lower() for c in _CALLED.findall(body)} - {name.lower()}
        for inner, problem in self.functions(called, depth + 1):
            if problem == "escapes":
                self.reasons[name.lower()] = f"{name}() calls {self.reasons[inner]}"
                return "escapes"
        return None

    def triggers(self, tables: tuple[str, ...]) -> str | None:
        """A reason to refuse a write because of a trigger it fires, or ``None``."""
        for row in fetch_dicts(self.dbapi, _TRIGGERS_SQL, [list(tables)]):
            function = str(row["function"])
            if self._judge(function, row, 0) == "escapes":
                return (
                    f"the trigger {row['name']} on {row['table_name']} runs "
                    f"{self.reasons[function.lower()]}"
                )
        return None

    def sequences(self, tables: tuple[str, ...]) -> tuple[str, ...]:
        rows = fetch_dicts(self.dbapi, _SEQUENCES_SQL, [list(tables)])
        return tuple(str(r["sequence"]) for r in rows)
