"""Statement capture: every statement a block of code sends, with its time and call site.

``with s.capture() as cap:`` listens to the session's SQLAlchemy engine (Core, ORM,
``exec_driver_sql``: everything app code sends through ``s.engine``), to the DB-API cursors of
raw connections taken from it inside the block (``s.engine.raw_connection()``, as pandas and
hand-written DB-API code use), and to the workbench's own executor (``s.query``,
``s.explain``, ...). For each statement it records the time the driver
took, the rows, the error if any, and the line of *your* code that caused it (the first frame
outside SQLAlchemy and the workbench) — which is where an N+1 hides: ``user.orders`` in a loop.

``cap.repeated`` lists N+1 candidates: one fingerprint (:mod:`workbench.fingerprint`)
executed many times with different values.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench import formatting as fmt
from workbench.capture.callsite import call_site
from workbench.capture.raw import traced_raw_connection
from workbench.fingerprint import fingerprint, normalize
from workbench.redaction import parameter_values, redact_condition, scrub_values

if TYPE_CHECKING:
    import pandas as pd

    from workbench.execution import Executor

__all__ = ["REPEATED_COLUMNS", "Capture", "CapturedStatement"]

#: an N+1 candidate is a fingerprint executed at least this many times with different values
REPEAT_THRESHOLD = 5


#: the columns of :attr:`Capture.repeated` (an HTTP profile's add ``calls`` and ``requests``)
REPEATED_COLUMNS = [
    "fingerprint",
    "count",
    "distinct_values",
    "total_ms",
    "mean_ms",
    "call_sites",
    "relationship",
    "sql",
    "example",
    "example_params",
    "errors",
]


@dataclass
class CapturedStatement:
    """One statement as it reached the driver."""

    sql: str
    params: str  # repr of the bound values, shortened
    start_ms: float  # since the capture began
    duration_ms: float
    rows: int | None
    call_site: str | None
    # "engine" (app code through s.engine), "raw" (cursors of s.engine.raw_connection() opened
    # inside the block) or "workbench" (s.query, s.explain...)
    source: str
    error: str | None = None
    fingerprint: str = ""
    relationship: str | None = None  # "Author.books" when SQLAlchemy lazy-loaded it

    def __post_init__(self) -> None:
        if not self.fingerprint:
            self.fingerprint = fingerprint(self.sql)


@dataclass
class Capture:
    """The statements captured in a ``with s.capture()`` block.

    >>> from sqlalchemy.orm import Session
    >>> with s.capture() as cap, Session(s.engine) as db:
    ...     users = wb.demo.app.list_users(db)
    >>> cap.summary()["statements"] > 50
    True
    >>> cap.repeated.relationship.tolist()
    ['User.orders', 'User.account']
    """

    executor: Executor
    stack: bool = True
    entries: list[CapturedStatement] = field(default_factory=list)
    started_ns: int = 0
    ended_ns: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = threading.local()
        self._listening = False

    # -- lifecycle --------------------------------------------------------------------------------
    def __enter__(self) -> Capture:
        from sqlalchemy import event

        self.started_ns = time.perf_counter_ns()
        engine = self.executor.engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "handle_error", self._error)
        event.listen(_orm_session_class(), "do_orm_execute", self._orm)
        self.executor.tracers.append(self._traced)
        # app code's own DB-API cursors (engine.raw_connection()) raise no SQLAlchemy event
        original = engine.raw_connection
        engine.raw_connection = functools.partial(traced_raw_connection, original, self)  # type: ignore[method-assign]
        self._listening = True
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import event

        self.ended_ns = time.perf_counter_ns()
        if not self._listening:
            return
        engine = self.executor.engine
        event.remove(engine, "before_cursor_execute", self._before)
        event.remove(engine, "after_cursor_execute", self._after)
        event.remove(engine, "handle_error", self._error)
        event.remove(_orm_session_class(), "do_orm_execute", self._orm)
        self.executor.tracers.remove(self._traced)
        engine.__dict__.pop("raw_connection", None)  # the class's method again
        self._listening = False

    # -- listeners --------------------------------------------------------------------------------
    def _orm(self, state: Any) -> None:
        """SQLAlchemy says which relationship a lazy load is for, just before its statement:
        the N+1's exact name (``Author.books``), so the fix names the real attribute."""
        relationship = None
        try:
            if state.is_relationship_load and state.lazy_loaded_from is not None:
                prop = state.loader_strategy_path[-1]
                relationship = f"{prop.parent.class_.__name__}.{prop.key}"
        except Exception:  # another SQLAlchemy's internals: the capture goes on without names
            relationship = None
        self._pending.relationship = relationship

    def _before(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        stack = getattr(self._pending, "stack", None)
        if stack is None:
            stack = self._pending.stack = []
        relationship = getattr(self._pending, "relationship", None)
        self._pending.relationship = None  # it names this statement only
        stack.append((time.perf_counter_ns(), call_site() if self.stack else None, relationship))

    def _after(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        started, site, relationship = self._pop()
        rows = getattr(cursor, "rowcount", None)
        self._add(
            statement,
            parameters,
            started,
            time.perf_counter_ns(),
            rows,
            site,
            "engine",
            relationship=relationship,
        )

    def _error(self, context: Any) -> None:
        started, site, relationship = self._pop()
        statement = getattr(context, "statement", None) or ""
        self._add(
            statement,
            getattr(context, "parameters", None),
            started,
            time.perf_counter_ns(),
            None,
            site,
            "engine",
            error=f"{type(context.original_exception).__name__}: {context.original_exception}"[
                :300
            ],
            relationship=relationship,
        )

    def _traced(
        self, statement: str, args: Any, elapsed_ms: float, rows: int | None, error: str | None
    ) -> None:
        end = time.perf_counter_ns()
        self._add(
            statement,
            args,
            end - int(elapsed_ms * 1e6),
            end,
            rows,
            call_site() if self.stack else None,
            "workbench",
            error=error,
        )

    def _pop(self) -> tuple[int, str | None, str | None]:
        stack = getattr(self._pending, "stack", None)
        if stack:
            return stack.pop()  # type: ignore[no-any-return]
        return time.perf_counter_ns(), None, None

    def _add(
        self,
        statement: str,
        parameters: Any,
        start: int,
        end: int,
        rows: Any,
        site: str | None,
        source: str,
        *,
        error: str | None = None,
        relationship: str | None = None,
    ) -> None:
        entry = CapturedStatement(
            sql=statement,
            params=_short_repr(parameters),
            start_ms=(start - self.started_ns) / 1e6,
            duration_ms=(end - start) / 1e6,
            rows=rows if isinstance(rows, int) and rows >= 0 else None,
            call_site=site,
            source=source,
            # an engine's message may quote the values (the notebook has them; files will not)
            error=scrub_values(error, parameter_values(_as_args(parameters))) if error else None,
            relationship=relationship,
        )
        with self._lock:
            self.entries.append(entry)

    # -- results ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.entries)

    @property
    def total_ms(self) -> float:
        """Time the database took, summed over the captured statements."""
        return float(sum(e.duration_ms for e in self.entries))

    @property
    def wall_ms(self) -> float:
        end = self.ended_ns or time.perf_counter_ns()
        return (end - self.started_ns) / 1e6

    @property
    def statements(self) -> pd.DataFrame:
        """One row per statement, in order."""
        import pandas as pd

        columns = [
            "start_ms",
            "duration_ms",
            "rows",
            "source",
            "call_site",
            "fingerprint",
            "sql",
            "params",
            "error",
        ]
        return pd.DataFrame(
            [{c: getattr(e, c) for c in columns} for e in self.entries], columns=columns
        )

    def groups(self) -> list[dict[str, Any]]:
        """Statements grouped by fingerprint, most time first."""
        grouped: dict[str, list[CapturedStatement]] = {}
        for entry in self.entries:
            grouped.setdefault(entry.fingerprint, []).append(entry)
        out = []
        for key, items in grouped.items():
            sites = list(dict.fromkeys(e.call_site for e in items if e.call_site))
            out.append(
                {
                    "fingerprint": key,
                    "sql": normalize(items[0].sql),
                    "count": len(items),
                    "distinct_values": len({(e.sql, e.params) for e in items}),
                    "total_ms": sum(e.duration_ms for e in items),
                    "mean_ms": sum(e.duration_ms for e in items) / len(items),
                    "call_sites": sites,
                    "example": items[0].sql,
                    "example_params": items[0].params,
                    "errors": sum(1 for e in items if e.error),
                    "relationships": list(
                        dict.fromkeys(e.relationship for e in items if e.relationship)
                    ),
                }
            )
        return sorted(out, key=lambda g: g["total_ms"], reverse=True)

    def n_plus_one(self, threshold: int = REPEAT_THRESHOLD) -> list[dict[str, Any]]:
        """Fingerprints executed ``threshold`` times or more with different values."""
        return [g for g in self.groups() if g["count"] >= threshold and g["distinct_values"] > 1]

    @property
    def repeated(self) -> pd.DataFrame:
        """N+1 candidates: the same statement, many times, with different values; where an ORM
        relationship lazy-loaded them, its name (``User.orders``) in ``relationship``."""
        import pandas as pd

        rows = [
            {
                **g,
                "call_sites": "; ".join(g["call_sites"]),
                "relationship": ", ".join(g["relationships"]) or None,
            }
            for g in self.n_plus_one()
        ]
        return pd.DataFrame(rows, columns=REPEATED_COLUMNS)

    def summary(self) -> dict[str, Any]:
        """Headline numbers: statements, distinct statements, database time, N+1 candidates."""
        candidates = self.n_plus_one()
        return {
            "statements": len(self.entries),
            "distinct": len({e.fingerprint for e in self.entries}),
            "db_ms": self.total_ms,
            "wall_ms": self.wall_ms,
            "errors": sum(1 for e in self.entries if e.error),
            "n_plus_one": [
                {
                    "sql": g["sql"],
                    "count": g["count"],
                    "total_ms": g["total_ms"],
                    "call_sites": g["call_sites"],
                    "relationships": g["relationships"],
                }
                for g in candidates
            ],
        }

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"<Capture {s['statements']} statements ({s['distinct']} distinct), "
            f"{s['db_ms']:.1f} ms in the database, {len(s['n_plus_one'])} N+1 candidates>"
        )

    def _repr_html_(self) -> str:
        import html

        s = self.summary()
        rows = "".join(
            f"<tr><td>{g['count']}</td><td>{g['total_ms']:,.1f}</td><td><code>"
            f"{html.escape(g['sql'][:200])}</code></td>"
            f"<td>{html.escape('; '.join(g['call_sites'][:2]))}</td></tr>"
            for g in self.groups()[:15]
        )
        warn = "".join(
            f"<p>⚠ N+1: <code>{html.escape(c['sql'][:160])}</code> ran {c['count']} times "
            f"({c['total_ms']:,.1f} ms) from {html.escape(', '.join(c['call_sites'][:2]))}</p>"
            for c in s["n_plus_one"]
        )
        return (
            f"<div class='wb-capture'><b>{s['statements']} statements</b>, {s['distinct']} "
            f"distinct, {s['db_ms']:,.1f} ms in the database of {s['wall_ms']:,.1f} ms"
            f"{warn}<table><tr><th>count</th><th>total ms</th><th>statement</th>"
            f"<th>call site</th></tr>{rows}</table></div>"
        )

    def to_dict(self, *, redact_values: bool = True) -> dict[str, Any]:
        """What an investigation keeps: with ``redact_values`` (the default) the parameters'
        values become ``?``, as literals do in evidence and reports."""
        shown = redact_condition if redact_values else str
        groups = [
            {**g, "example_params": shown(str(g.get("example_params") or ""))}
            for g in self.groups()
        ]
        statements = [{**e.__dict__, "params": shown(e.params)} for e in self.entries]
        return {"summary": self.summary(), "groups": groups, "statements": statements}


def _orm_session_class() -> Any:
    from sqlalchemy.orm import Session as OrmSession

    return OrmSession


def _as_args(parameters: Any) -> Any:
    """Driver parameters as :func:`~workbench.redaction.parameter_values` reads them."""
    if isinstance(parameters, dict | list | tuple):
        return dict(parameters) if isinstance(parameters, dict) else list(parameters)
    return [parameters] if parameters is not None else []


def _short_repr(parameters: Any, limit: int = 200) -> str:
    if parameters is None:
        return ""
    return fmt.clip(repr(parameters), limit, one_line=False)
