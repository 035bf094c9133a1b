"""Asking "what if these indexes existed?": a :class:`Judge` costs each statement under a
configuration of candidate indexes, inside one transaction of the advisor.

======================  ============================================================================
judge                   how
======================  ============================================================================
:class:`HypoJudge`      PostgreSQL with the HypoPG extension installed: hypothetical indexes
                        (``hypopg_create_index``) and ``EXPLAIN``; nothing is built, nothing is
                        locked; every hypothetical index is dropped (``hypopg_reset()``) before the
                        transaction ends, since they outlive a rollback on the connection
:class:`SandboxJudge`   PostgreSQL without HypoPG: each candidate built for real inside the rolled-
                        back transaction (``lock_timeout`` always), ``EXPLAIN`` costs; SQLite: the
                        same, and each plan timed (its ``EXPLAIN QUERY PLAN`` has no costs)
:class:`PlanJudge`      MySQL/MariaDB: DDL commits there, so no index is tried; the plans of the
                        statements as they are (rows examined) point at the candidates
======================  ============================================================================

Costs are memoized per statement and per the configuration's indexes on that statement's
tables, so a search re-asks nothing; ``calls`` counts what was actually asked (EXPLAINs, timed
executions).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workbench.advisor.model import IndexSpec
from workbench.errors import LockTimeoutError

if TYPE_CHECKING:
    from workbench.advisor.workload import Statement
    from workbench.execution import Transaction

__all__ = ["HypoJudge", "Judge", "PlanJudge", "SandboxJudge", "postgres_plan"]


class Judge:
    """Costs statements under configurations of candidate indexes (see the module)."""

    method = "?"
    unit = "cost"
    can_try = True  # whether configurations other than "as it is" can be judged

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.calls = 0
        self.failed: dict[IndexSpec, str] = {}
        self.notes: list[str] = []
        self._memo: dict[tuple[int, frozenset[IndexSpec]], tuple[float, str]] = {}
        self._current: dict[IndexSpec, str] = {}  # spec -> the engine's name for it
        self._sizes: dict[IndexSpec, int | None] = {}

    # -- what the search asks ----------------------------------------------------------------------
    def cost(self, statement: Statement, config: frozenset[IndexSpec]) -> float:
        return self._judged(statement, config)[0]

    def plan(self, statement: Statement, config: frozenset[IndexSpec]) -> str:
        """The access paths chosen under ``config`` (``"Seq Scan on orders"``)."""
        return self._judged(statement, config)[1]

    def size(self, spec: IndexSpec) -> int | None:
        if spec not in self._sizes:
            self._switch(frozenset({spec}) | frozenset(self._current))
            name = self._current.get(spec)
            self._sizes[spec] = self._measure_size(name) if name else None
        return self._sizes[spec]

    def close(self) -> None:
        """Leave nothing behind (called before the transaction ends)."""

    # -- the engine's part -------------------------------------------------------------------------
    def _judged(self, statement: Statement, config: frozenset[IndexSpec]) -> tuple[float, str]:
        relevant = frozenset(
            s for s in config if s.table.lower() in statement.tables and s not in self.failed
        )
        key = (statement.id, relevant)
        if key not in self._memo:
            self._switch(
                relevant
                | frozenset(s for s in self._current if s.table.lower() not in statement.tables)
            )
            self.calls += 1
            self._memo[key] = self._measure(statement)
        return self._memo[key]

    def _switch(self, wanted: frozenset[IndexSpec]) -> None:
        for spec in [s for s in self._current if s not in wanted]:
            self._drop(spec, self._current.pop(spec))
        for spec in wanted:
            if spec in self._current or spec in self.failed:
                continue
            name = self._create(spec)
            if name is not None:
                self._current[spec] = name

    def _create(self, spec: IndexSpec) -> str | None:
        raise NotImplementedError

    def _drop(self, spec: IndexSpec, name: str) -> None:
        raise NotImplementedError

    def _measure(self, statement: Statement) -> tuple[float, str]:
        raise NotImplementedError

    def _measure_size(self, name: str) -> int | None:
        return None

    def _label(self, name: str) -> str:
        """An engine's index name as the reader knows it (a candidate's label)."""
        for spec, engine_name in self._current.items():
            if engine_name == name:
                return f"new {spec.label()}"
        return name

    def _attempt(self, what: Callable[[], Any]) -> tuple[Any, str | None]:
        """``what()`` inside a savepoint: an error leaves the transaction usable."""
        tx = self.tx
        point = f"wb_advisor_{uuid.uuid4().hex[:8]}"
        tx.execute_internal(f"SAVEPOINT {point}")
        try:
            result = what()
        except LockTimeoutError:
            raise  # the executor ended the transaction to name the blockers: nothing to go on
        except Exception as exc:  # the engine refused (a type without an operator class, ...)
            tx.execute_internal(f"ROLLBACK TO SAVEPOINT {point}")
            return None, getattr(exc, "message", None) or str(exc)
        tx.execute_internal(f"RELEASE SAVEPOINT {point}")
        return result, None


def postgres_plan(tx: Transaction, sql: str, label: Callable[[str], str]) -> tuple[float, str]:
    rows = tx.execute_internal(f"EXPLAIN (FORMAT JSON) {sql}").rows
    document = rows[0][0]
    if isinstance(document, str):
        document = json.loads(document)
    root = document[0]["Plan"]
    paths: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        relation = node.get("Relation Name")
        if relation:
            text = f"{node.get('Node Type')} on {relation}"
            if node.get("Index Name"):
                text += f" using {label(str(node['Index Name']))}"
            paths.append(text)
        for child in node.get("Plans") or []:
            walk(child)

    walk(root)
    return float(root.get("Total Cost") or 0.0), "; ".join(dict.fromkeys(paths))


class HypoJudge(Judge):
    """Hypothetical indexes (HypoPG) and the planner's costs."""

    method = "hypopg"

    def __init__(self, tx: Transaction) -> None:
        super().__init__(tx)
        self._oids: dict[str, int] = {}
        # belt and braces: run after the rollback too, should the transaction end in an error
        tx.state.undo.append("SELECT hypopg_reset()")
        tx.execute_internal("SELECT hypopg_reset()")

    def _create(self, spec: IndexSpec) -> str | None:
        ddl = spec.ddl("postgresql", "wb_advisor_candidate")
        result, error = self._attempt(
            lambda: self.tx.execute_internal(
                "SELECT indexrelid, indexname FROM hypopg_create_index(%s)", (ddl,)
            )
        )
        if error is not None or not result.rows:
            self.failed[spec] = error or "HypoPG created nothing"
            return None
        oid, name = result.rows[0]
        self._oids[str(name)] = int(oid)
        return str(name)

    def _drop(self, spec: IndexSpec, name: str) -> None:
        oid = self._oids.pop(name, None)
        if oid is not None:
            self.tx.execute_internal("SELECT hypopg_drop_index(%s)", (oid,))

    def _measure(self, statement: Statement) -> tuple[float, str]:
        return postgres_plan(self.tx, statement.sql, self._label)

    def _measure_size(self, name: str) -> int | None:
        oid = self._oids.get(name)
        if oid is None:
            return None
        return int(self.tx.execute_internal("SELECT hypopg_relation_size(%s)", (oid,)).rows[0][0])

    def close(self) -> None:
        self.tx.execute_internal("SELECT hypopg_reset()")
        self._current.clear()
        self._oids.clear()


class SandboxJudge(Judge):
    """Real indexes built inside the rolled-back transaction (PostgreSQL without HypoPG,
    SQLite), each dropped again when the search moves on; planner costs on PostgreSQL, timed
    executions on SQLite."""

    method = "sandbox"

    def __init__(
        self,
        tx: Transaction,
        *,
        sizes: dict[str, int],
        build_limit: int | None,
        runs: int = 3,
    ) -> None:
        super().__init__(tx)
        self.dialect = tx.executor.dialect.name
        if self.dialect != "postgresql":
            self.method, self.unit = "timed", "ms"
        self._table_bytes = sizes
        self._build_limit = build_limit
        self._runs = runs

    def _create(self, spec: IndexSpec) -> str | None:
        table_bytes = self._table_bytes.get(spec.table.lower())
        if self._build_limit is not None and table_bytes and table_bytes > self._build_limit:
            self.failed[spec] = (
                f"{spec.table} is {table_bytes / 2**20:,.0f} MB, over the build limit: building "
                "an index there would block its writes until the rollback"
            )
            return None
        name = f"wb_advisor_{uuid.uuid4().hex[:10]}"
        ddl = spec.ddl(self.dialect, name)
        _, error = self._attempt(lambda: self.tx.execute(ddl))
        if error is not None:
            self.failed[spec] = error
            return None
        if self.dialect == "postgresql" and self._unusable(name):
            self.failed[spec] = (
                f"{spec.table} has rows updated in place (HOT chains): PostgreSQL cannot use an "
                "index inside the transaction that built it, so it cannot be judged here"
            )
            self.tx.execute_internal(f"DROP INDEX {name}")
            return None
        return name

    def _unusable(self, name: str) -> bool:
        rows = self.tx.execute_internal(
            "SELECT indcheckxmin FROM pg_index WHERE indexrelid = %s::regclass", (name,)
        ).rows
        return bool(rows and rows[0][0])

    def _drop(self, spec: IndexSpec, name: str) -> None:
        self.tx.execute_internal(f"DROP INDEX {name}")

    def _measure(self, statement: Statement) -> tuple[float, str]:
        if self.dialect == "postgresql":
            return postgres_plan(self.tx, statement.sql, self._label)
        detail = [
            str(row[-1])
            for row in self.tx.execute_internal(f"EXPLAIN QUERY PLAN {statement.sql}").rows
        ]
        timings = [self.tx.execute_internal(statement.sql).elapsed_ms for _ in range(self._runs)]
        shown = "; ".join(self._named(d) for d in detail if d.startswith(("SCAN", "SEARCH")))
        return min(timings), shown

    def _named(self, detail: str) -> str:
        for spec, name in self._current.items():
            detail = detail.replace(name, f"new {spec.label()}")
        return detail

    def _measure_size(self, name: str) -> int | None:
        if self.dialect == "postgresql":
            rows = self.tx.execute_internal("SELECT pg_relation_size(%s::regclass)", (name,)).rows
            return int(rows[0][0])
        if self.dialect == "sqlite":
            try:
                rows = self.tx.execute_internal(
                    "SELECT sum(pgsize) FROM dbstat WHERE name = ?", (name,)
                ).rows
            except Exception:  # SQLite built without the dbstat table
                return None
            return int(rows[0][0]) if rows and rows[0][0] is not None else None
        return None

    def close(self) -> None:
        for spec in list(self._current):
            self._drop(spec, self._current.pop(spec))


class PlanJudge(Judge):
    """MySQL/MariaDB: the plan of each statement as it is (no index can be tried: DDL
    commits implicitly there); the cost is the rows the plan expects to examine."""

    method = "plans"
    unit = "rows"
    can_try = False

    def _switch(self, wanted: frozenset[IndexSpec]) -> None:
        return None

    def _measure(self, statement: Statement) -> tuple[float, str]:
        rows = self.tx.execute_internal(f"EXPLAIN FORMAT=JSON {statement.sql}").rows
        document = json.loads(rows[0][0])
        examined = 0.0
        paths: list[str] = []

        def walk(node: Any) -> None:
            nonlocal examined
            if isinstance(node, dict):
                table = node.get("table") if isinstance(node.get("table"), dict) else None
                if table is not None:
                    read = float(table.get("rows") or table.get("rows_examined_per_scan") or 0)
                    examined += read
                    access = table.get("access_type", "?")
                    key = table.get("key")
                    paths.append(
                        f"{access} on {table.get('table_name')}" + (f" using {key}" if key else "")
                    )
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(document)
        return examined, "; ".join(paths)
