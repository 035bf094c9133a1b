"""``wb.connect()`` and the :class:`Session` every investigation starts from.

A session wraps one SQLAlchemy Engine (``s.engine``, for app code and ORM sessions) and runs the
workbench's own statements through the guarded :class:`~workbench.execution.Executor` on the
driver's connections.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from workbench.dialects import for_engine
from workbench.errors import (
    ConfigurationError,
    ConnectionFailedError,
    QueryError,
    WorkbenchError,
    WorkbenchWarning,
)
from workbench.execution import Executor, Params, Result
from workbench.masking import SecretScrubber, mask_url, scrub_text

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import URL, Engine

    from workbench.capture import Capture
    from workbench.dialects.base import Dialect
    from workbench.evidence import Evidence
    from workbench.findings import Finding
    from workbench.fixes import FixTrial
    from workbench.plans import Plan
    from workbench.profiling.connections import WarmConnections
    from workbench.profiling.result import Comparison, Profile
    from workbench.profiling.sweep import Sweep
    from workbench.schema import ServerInfo, TableInfo

__all__ = ["DEFAULT_TIMEOUT_S", "Session", "connect"]

DEFAULT_TIMEOUT_S = 30.0
T = TypeVar("T")


def connect(
    url_or_engine: str | URL | Engine | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    **engine_options: Any,
) -> Session:
    """Open a session on a database.

    Args:
        url_or_engine: a SQLAlchemy URL (``postgresql+psycopg://...``, ``mysql+pymysql://...``,
            ``sqlite:///file.db``, ``duckdb:///file.duckdb``) or a live ``Engine``. ``None``
            starts the embedded PostgreSQL with the demo data (SQLite if it cannot start).
        timeout: seconds each statement may run before it is cancelled on the server.
        engine_options: passed to ``sqlalchemy.create_engine`` when a URL is given.

    >>> import workbench as wb
    >>> s = wb.connect("sqlite://", timeout=5)
    >>> s.query("SELECT 1 AS one").one.tolist()
    [1]
    """
    _check_timeout(timeout)
    if url_or_engine is None:
        from workbench.embedded import default_connection

        return default_connection(timeout=timeout)
    from sqlalchemy.engine import Engine

    if isinstance(url_or_engine, Engine):
        return Session(url_or_engine, timeout=timeout, owns_engine=False)
    return Session(_create_engine(url_or_engine, engine_options), timeout=timeout, owns_engine=True)


class Session:
    """A connection to one database, with the safety guard in front of it.

    Create one with :func:`connect`. Every method that runs SQL goes through the guard: one
    statement per call, reads in a read-only transaction, writes only with
    ``allow_writes=True`` and always rolled back, a timeout on each statement.

    >>> s = connect("sqlite://")
    >>> s.dialect
    'sqlite'
    """

    def __init__(
        self,
        engine: Engine,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        owns_engine: bool = True,
        label: str | None = None,
    ) -> None:
        self.engine = engine
        self._owns_engine = owns_engine
        self._scrub = SecretScrubber([engine.url.password if engine.url.password else None])
        self.url = mask_url(engine.url)
        self.label = label
        _check_timeout(timeout)
        self._timeout = float(timeout)
        dialect = self._detect_dialect()
        self._executor = Executor(engine, dialect, timeout_s=self._timeout, scrub=self._scrub)

    def _detect_dialect(self) -> Dialect:
        try:
            raw = self.engine.raw_connection()
        except Exception as exc:  # the driver's own error (raw_connection does not wrap it)
            orig = getattr(exc, "orig", None) or exc
            raise ConnectionFailedError(
                f"cannot connect to {self.url}: {self._scrub(_message(orig))}",
                hint="check that the server is running and the URL (host, port, user, "
                "database) is right",
            ) from None
        try:
            return for_engine(self.engine, raw.driver_connection)
        finally:
            raw.close()

    # -- what it is connected to ----------------------------------------------------------------
    @property
    def dialect(self) -> str:
        """``"postgresql"``, ``"mysql"``, ``"mariadb"``, ``"sqlite"`` or ``"duckdb"``."""
        return self._executor.dialect.name

    @property
    def timeout(self) -> float:
        """Seconds each statement may run (settable)."""
        return self._timeout

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        _check_timeout(seconds)
        self._timeout = float(seconds)
        self._executor.timeout_s = float(seconds)

    @cached_property
    def server(self) -> ServerInfo:
        """Engine name and version (``s.server.version``)."""
        return self._introspect(self._executor.dialect.server_info)

    @cached_property
    def warm_connections(self) -> WarmConnections:
        """Profiling connections kept between profiles (warm caches, like an app's pool)."""
        from workbench.profiling.connections import WarmConnections

        return WarmConnections()

    @property
    def executor(self) -> Executor:
        """The guarded executor (for features built on the session)."""
        return self._executor

    def __repr__(self) -> str:
        return f"<workbench.Session {self.dialect} {self.url}>"

    # -- running SQL ------------------------------------------------------------------------------
    def query(
        self,
        sql: str,
        params: Params = None,
        *,
        allow_writes: bool = False,
        settings: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> pd.DataFrame:
        """Run one statement and return its rows as a DataFrame.

        ``params`` binds ``:name`` placeholders (a dict) or the driver's own placeholders (a
        list). ``settings`` apply to this statement only (``{"work_mem": "64MB"}``).

        >>> s = connect("sqlite://")
        >>> s.query("SELECT :x * 2 AS doubled", params={"x": 21}).doubled.tolist()
        [42]
        """
        return self.execute(
            sql, params, allow_writes=allow_writes, settings=settings, timeout=timeout
        ).to_frame()

    def execute(
        self,
        sql: str,
        params: Params = None,
        *,
        allow_writes: bool = False,
        settings: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Result:
        """Like :meth:`query`, returning the raw :class:`~workbench.execution.Result` (rows,
        columns, driver time)."""
        return self._executor.run(
            sql, params, allow_writes=allow_writes, settings=settings, timeout_s=timeout
        )

    def explain(
        self,
        sql: str,
        analyze: bool = False,
        params: Params = None,
        allow_writes: bool = False,
        *,
        settings: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Plan:
        """The plan of ``sql``, analysed (see :mod:`workbench.explain` for each engine's command).

        ``analyze=True`` executes the statement to measure it (a write needs
        ``allow_writes=True`` and is rolled back). ``settings`` apply to this call only
        (``{"work_mem": "64MB"}``). PostgreSQL ``$1``-style statements get a generic plan
        without ``params``, or the plan for ``params=[...]``.

        >>> s = connect("sqlite://")
        >>> s.explain("SELECT 1").root.operation
        'SCAN CONSTANT ROW'
        """
        from workbench.explain import explain

        return explain(
            self,
            sql,
            analyze=analyze,
            params=params,
            allow_writes=allow_writes,
            settings=settings,
            timeout=timeout,
        )

    # -- measuring --------------------------------------------------------------------------------
    def profile(
        self,
        sql: str | Callable[[], Any],
        runs: int = 200,
        warmup: int = 20,
        concurrency: int = 1,
        duration: float | None = None,
        params: Any = None,
        allow_writes: bool = False,
        *,
        timeout: float | None = None,
        progress: bool | None = None,
        stop: Callable[[], bool] | None = None,
        engine: str = "auto",
        label: str | None = None,
    ) -> Profile:
        """Measure the latency of ``sql`` over ``runs`` executions (or ``duration`` seconds).

        Timing is at the driver: only the driver's execute and fetch are between the two clock
        reads. ``params`` is a dict (values may be ``wb.uniform(lo, hi)`` draws), a list of
        dicts, or a callable ``i -> dict``. ``concurrency > 1`` or ``duration`` makes a load
        run: pgbench for PostgreSQL, worker processes (threads for DuckDB) otherwise. A failed or
        timed-out execution is recorded and the run goes on; Ctrl-C or ``stop()`` keeps the runs
        done so far. ``sql`` may also be a Python callable (an app handler): each run is then
        captured and split into database time, round trips and Python time.

        >>> s = connect("sqlite://")
        >>> prof = s.profile("SELECT 1", runs=50, warmup=5)
        >>> prof.summary()["runs"]
        50
        """
        from workbench.profiling.runner import profile_callable, profile_statement

        if callable(sql):
            return profile_callable(
                self, sql, runs=runs, warmup=min(warmup, 3), label=label, progress=progress
            )
        return profile_statement(
            self,
            sql,
            runs=runs,
            warmup=warmup,
            concurrency=concurrency,
            duration=duration,
            params=params,
            allow_writes=allow_writes,
            timeout=timeout,
            progress=progress,
            stop=stop,
            engine=engine,
            label=label,
        )

    def sweep(
        self,
        sql: str,
        concurrency: Sequence[int] = (1, 2, 4, 8),
        *,
        duration: float = 3.0,
        **options: Any,
    ) -> Sweep:
        """Latency and throughput at several concurrency levels (``sweep.chart()``)."""
        from workbench.profiling.sweep import run_sweep

        return run_sweep(self, sql, concurrency, duration=duration, **options)

    def capture(self, *, stack: bool = True) -> Capture:
        """Record every statement run through this session or its engine inside a ``with``
        block (N+1 detection: ``cap.repeated``).

        >>> s = connect("sqlite://")
        >>> with s.capture() as cap:
        ...     _ = s.query("SELECT 1")
        >>> len(cap)
        1
        """
        from workbench.capture import Capture

        return Capture(self, stack=stack)

    def top_statements(self, limit: int = 20, *, order_by: str = "total") -> pd.DataFrame:
        """The server's statement statistics (PostgreSQL ``pg_stat_statements``): calls, total
        and mean time, rows, buffer hits, by ``order_by`` ("total", "mean", "calls")."""
        from workbench.server_stats import top_statements

        return top_statements(self, limit=limit, order_by=order_by)

    # -- evidence and fixes -----------------------------------------------------------------------
    def evidence(
        self,
        sql: str | None = None,
        plan: Plan | None = None,
        profile: Profile | None = None,
        capture: Capture | None = None,
        *,
        plans: Sequence[Plan] = (),
        profiles: Sequence[Profile] = (),
        captures: Sequence[Capture] = (),
        comparisons: Sequence[Comparison] = (),
        question: str | None = None,
        notes: Sequence[str] = (),
        redact_literals: bool = True,
    ) -> Evidence:
        """Bundle what an analysis needs: engine, settings, the schema of the tables involved,
        the query, plans, profile and capture summaries (see :class:`workbench.Evidence`).

        >>> ev = s.evidence(sql, plan=plan, profile=prof)   # doctest: +SKIP
        >>> wb.analyze(ev)                                   # doctest: +SKIP
        """
        from workbench.evidence import Evidence

        all_plans = [p for p in (plan, *plans) if p is not None]
        all_profiles = [p for p in (profile, *profiles) if p is not None]
        all_captures = [c for c in (capture, *captures) if c is not None]
        sql = (
            sql
            or next((p.sql for p in all_plans if p.sql), None)
            or next((p.sql for p in all_profiles if p.mode != "callable"), None)
        )
        names: dict[str, None] = {}
        for text in [sql] + [g["example"] for c in all_captures for g in c.groups()[:10]]:
            if text:
                try:
                    names.update(dict.fromkeys(self._executor.classify(text).tables))
                except WorkbenchError:
                    continue
        for each in all_plans:
            names.update(dict.fromkeys(each.relations))
        tables = []
        for name in names:
            try:
                tables.append(self.table(name).to_dict())
            except WorkbenchError:
                continue  # a CTE name, or a table of another schema: not in evidence
        settings = {
            str(r["name"]): _setting_text(r["value"], r["unit"])
            for r in self.settings().to_dict("records")
        }
        return Evidence(
            dialect=self.dialect,
            server={"version": self.server.version, "description": self.server.description},
            settings=settings,
            sql=sql,
            tables=tables,
            plans=all_plans,
            profiles=[Evidence.profile_summary(p) for p in all_profiles],
            captures=[Evidence.capture_summary(c) for c in all_captures],
            comparisons=[Evidence.comparison_summary(c) for c in comparisons],
            question=question,
            notes=list(notes),
            redact_literals=redact_literals,
        )

    def try_fix(
        self,
        fix: str | Finding,
        sql: str | None = None,
        *,
        params: Params = None,
        analyze: bool = True,
        timeout: float | None = None,
    ) -> FixTrial:
        """Try a fix (``CREATE INDEX ...``, ``SET work_mem ...``, a rewritten query, or a
        :class:`Finding`) in a transaction that is rolled back: the plans of ``sql`` before and
        after, and their diff. Nothing changes on the server.

        >>> trial = s.try_fix("CREATE INDEX ON orders (user_id)",
        ...                   sql="SELECT * FROM orders WHERE user_id = 42")   # doctest: +SKIP
        >>> trial.verdict                                                      # doctest: +SKIP
        '41.2 ms → 0.051 ms: 808× faster'
        """
        from workbench.fixes import try_fix

        return try_fix(self, fix, sql, params=params, analyze=analyze, timeout=timeout)

    # -- introspection ----------------------------------------------------------------------------
    def settings(self, names: Sequence[str] | None = None, *, all: bool = False) -> pd.DataFrame:
        """Server settings that matter for performance (or ``names``, or ``all=True``)."""
        import pandas as pd

        dialect = self._executor.dialect
        wanted = None if all else (list(names) if names else list(dialect.performance_settings))
        rows = self._introspect(lambda dbapi: dialect.settings(dbapi, wanted))
        return pd.DataFrame(rows, columns=["name", "value", "unit", "source", "description"])

    def tables(self) -> list[str]:
        """The user tables of the connected database."""
        return self._introspect(self._executor.dialect.list_tables)

    def table(self, name: str) -> TableInfo:
        """Columns, indexes, row counts/estimates and statistics freshness of one table."""
        info = self._introspect(lambda dbapi: self._executor.dialect.table_info(dbapi, name))
        if info is None:
            raise QueryError(
                f"no table named {name!r}",
                hint=f"tables here: {', '.join(self.tables()[:20]) or '(none)'}",
            )
        return info

    def tables_in(self, sql: str) -> list[TableInfo]:
        """Describe every table a statement touches (for evidence: the query's schema)."""
        statement = self._executor.classify(sql)
        dialect = self._executor.dialect
        found = [
            self._introspect(functools.partial(_table_info, dialect, name=name))
            for name in statement.tables
        ]
        missing = [name for name, info in zip(statement.tables, found, strict=True) if not info]
        if not statement.parsed:
            warnings.warn(
                "could not read the statement's tables (it did not parse): check its syntax",
                WorkbenchWarning,
                stacklevel=2,
            )
        elif missing:
            warnings.warn(
                f"not found in the database: {', '.join(missing)}", WorkbenchWarning, stacklevel=2
            )
        return [info for info in found if info is not None]

    def _introspect(self, fn: Callable[[Any], T]) -> T:
        """Run catalogue queries inside a read-only, timed, rolled-back transaction."""
        executor = self._executor
        with executor.transaction(read_only=True) as tx:
            try:
                return fn(tx.dbapi)
            except Exception as exc:
                raise executor.translate(exc, "(catalogue query)", tx.state) from exc

    # -- lifecycle --------------------------------------------------------------------------------
    def cancel(self) -> int:
        """Cancel the statements this session is running now, on the server, from another
        thread (a Stop button, a watchdog); each raises ``KeyboardInterrupt`` where it runs and
        the session stays usable. Profiles stop through their own ``stop`` callback. Returns how
        many transactions were cancelled.

        >>> threading.Timer(2, s.cancel).start(); s.query("SELECT pg_sleep(60)")  # doctest: +SKIP
        Traceback (most recent call last):
        KeyboardInterrupt
        """
        return self.executor.cancel_running()

    def close(self) -> None:
        """Release the session's connections (the engine too, if the session created it)."""
        if "warm_connections" in self.__dict__:
            self.warm_connections.close()
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def sandbox(self, *, timeout: float | None = None) -> Iterator[Any]:
        """A transaction that is always rolled back, for trying DDL and re-explaining."""
        with self._executor.transaction(
            allow_writes=True, read_only=False, timeout_s=timeout
        ) as tx:
            yield tx


def _setting_text(value: Any, unit: Any) -> str:
    """A setting as a person writes it: 32768 × 8kB → 256MB."""
    unit = unit if isinstance(unit, str) and unit else ""
    factor = {"8kB": 8, "kB": 1, "MB": 1024, "GB": 1024 * 1024}.get(unit)
    if factor is None:
        return f"{value}{unit}"
    try:
        kb = float(value) * factor
    except (TypeError, ValueError):
        return f"{value}{unit}"
    for name, size in (("GB", 1024 * 1024), ("MB", 1024)):
        if kb >= size and kb % size == 0:
            return f"{int(kb // size)}{name}"
    return f"{int(kb)}kB"


def _table_info(dialect: Dialect, dbapi: Any, *, name: str) -> TableInfo | None:
    return dialect.table_info(dbapi, name)


def _create_engine(url: str | URL, options: dict[str, Any]) -> Engine:
    from sqlalchemy import create_engine
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except (sa_exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigurationError(
            f"not a database URL: {mask_url(str(url)) if '://' in str(url) else '(hidden)'}",
            hint="use a SQLAlchemy URL such as postgresql+psycopg://user@host/db, "
            "mysql+pymysql://root@host/db, sqlite:///file.db or duckdb:///file.duckdb",
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
    elif parsed.drivername in ("mysql", "mariadb"):
        parsed = parsed.set(drivername=f"{parsed.drivername}+pymysql")
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    options = {"hide_parameters": True, "pool_pre_ping": True, **options}
    try:
        return create_engine(parsed, **options)
    except (sa_exc.NoSuchModuleError, ModuleNotFoundError) as exc:
        raise ConfigurationError(
            f"no driver for {parsed.drivername}: {exc}",
            hint="supported: postgresql+psycopg, mysql+pymysql, sqlite, duckdb",
        ) from None
    except (sa_exc.ArgumentError, ValueError, TypeError) as exc:
        # ValueError/TypeError: a dialect converting a URL option (connect_timeout=abc)
        raise ConfigurationError(
            f"cannot use {mask_url(parsed)}: {scrub_text(str(exc))}",
            hint="check the URL's options",
        ) from None


def _check_timeout(timeout: float) -> None:
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise ConfigurationError(
            f"timeout must be a positive number of seconds, not {timeout!r}",
            hint="every statement needs a timeout; e.g. timeout=30",
        )


def _message(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
