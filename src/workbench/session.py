"""``wb.connect()`` and the :class:`Session` every investigation starts from.

The session is the facade: it holds one SQLAlchemy Engine (``s.engine``, for app code and ORM
sessions) and the guarded :class:`~workbench.execution.Executor` on the driver's connections,
and each of its methods is one line handing the executor to a probe (explain, profile,
capture, fixes, the catalogue) or an analysis. The probes' signatures and docstrings are the
methods' own: :func:`delegate` copies them, so each is written once.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from workbench import advisor, explain, fixes, health, introspection, server_stats
from workbench.capture import Capture
from workbench.dialects import for_engine
from workbench.errors import ConfigurationError, ConnectionFailedError
from workbench.evidence import collect as evidence_collect
from workbench.execution import Executor, Params, Result, check_timeout
from workbench.http import probe as http_probe
from workbench.profiling import launch, sweep
from workbench.redaction import SecretScrubber, mask_url, scrub_text

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd
    from sqlalchemy.engine import URL, Engine

    from workbench.catalog import ServerInfo
    from workbench.connections import WarmConnections
    from workbench.dialects.base import Dialect

__all__ = ["DEFAULT_TIMEOUT_S", "Session", "connect", "delegate"]

DEFAULT_TIMEOUT_S = 30.0

P = ParamSpec("P")
R = TypeVar("R")


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
    check_timeout(timeout)
    # no frame below holds the URL as text: a verbose traceback (%xmode Verbose) shows the
    # locals of every frame, and the URL may carry a password
    target = _Target(url_or_engine)
    del url_or_engine
    if target.value is None:
        return demo_session(timeout=timeout)
    from sqlalchemy.engine import Engine

    if isinstance(target.value, Engine):
        return Session(target.value, timeout=timeout, owns_engine=False)
    return Session(_create_engine(target, engine_options), timeout=timeout, owns_engine=True)


class _Target:
    """What :func:`connect` was given, shown masked wherever a frame's locals are printed."""

    __slots__ = ("value",)

    def __init__(self, value: str | URL | Engine | None) -> None:
        self.value = value

    def __repr__(self) -> str:
        if self.value is None or not isinstance(self.value, str):
            return repr(self.value)  # None, an Engine or a URL mask their password themselves
        return f"'{mask_url(self.value)}'"


def demo_session(
    *, scale: float = 1.0, timeout: float = DEFAULT_TIMEOUT_S, progress: bool = True
) -> Session:
    """A session on the embedded PostgreSQL with the demo data at ``scale`` (SQLite with the
    same data when the server cannot start). The first time, what takes time (starting the
    server, loading each table) is said on standard error, unless ``progress=False``."""
    from workbench.embedded import demo_database

    database = demo_database(scale=scale, progress=progress)
    return Session(
        _create_engine(database.url, {}), timeout=timeout, owns_engine=True, label=database.label
    )


def delegate(
    fn: Callable[Concatenate[Executor, P], R],
) -> Callable[Concatenate[Session, P], R]:
    """A :class:`Session` method that hands the session's executor to ``fn``: the method has
    ``fn``'s signature (without the executor) and docstring, for readers, IDEs and mypy."""

    @functools.wraps(fn)
    def method(self: Session, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return fn(self._executor, *args, **kwargs)

    signature = inspect.signature(fn)
    parameters = list(signature.parameters.values())
    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[self_parameter, *parameters[1:]]
    )
    del method.__wrapped__  # inspect must read the signature above, not fn's
    return method


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
        dialect = self._detect_dialect()
        self._executor = Executor(
            engine, dialect, timeout_s=check_timeout(timeout), scrub=self._scrub
        )

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
        return self._executor.timeout_s

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        self._executor.timeout_s = seconds

    @property
    def server(self) -> ServerInfo:
        """Engine name and version (``s.server.version``)."""
        return self._executor.server

    @property
    def warm_connections(self) -> WarmConnections:
        """Profiling connections kept between profiles (warm caches, like an app's pool)."""
        return self._executor.warm_connections

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
        """Like :meth:`query`, returning the :class:`~workbench.execution.Result` (rows,
        columns, driver time)."""
        return self._executor.run(
            sql, params, allow_writes=allow_writes, settings=settings, timeout_s=timeout
        )

    explain = delegate(explain.explain)

    # -- measuring --------------------------------------------------------------------------------
    profile = delegate(launch.profile)
    profile_http = delegate(http_probe.profile_http)
    sweep = delegate(sweep.sweep)
    capture = delegate(Capture)
    top_statements = delegate(server_stats.top_statements)

    # -- evidence and fixes -----------------------------------------------------------------------
    evidence = delegate(evidence_collect.collect)
    try_fix = delegate(fixes.try_fix)

    # -- the database as a whole ----------------------------------------------------------------
    health = delegate(health.check)
    advise = delegate(advisor.advise)

    # -- introspection ----------------------------------------------------------------------------
    settings = delegate(introspection.settings)
    tables = delegate(introspection.tables)
    table = delegate(introspection.table)
    tables_in = delegate(introspection.tables_in)

    # -- lifecycle --------------------------------------------------------------------------------
    sandbox = delegate(Executor.sandbox)
    cancel = delegate(Executor.cancel)

    def close(self) -> None:
        """Release the session's connections (the engine too, if the session created it)."""
        self._executor.close()
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _create_engine(target: _Target | str, options: dict[str, Any]) -> Engine:
    from sqlalchemy import create_engine
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(target.value if isinstance(target, _Target) else target)  # type: ignore[arg-type]
    except (sa_exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigurationError(
            f"not a database URL: {_shown(target)}",
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


def _shown(target: _Target | str) -> str:
    text = str(target.value if isinstance(target, _Target) else target)
    return mask_url(text) if "://" in text else "(hidden)"


def _message(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
