"""``wb.demo.serve()``: the demo shop's HTTP API, a real service in a process of its own.

The story's endpoint is a real one: ``GET /api/users`` served by Starlette and uvicorn over the
demo database, through the sample backend's ORM handlers (the planted N+1 included; see
:mod:`workbench.demo.service.app` for every endpoint). The service runs in a subprocess on a
free port of 127.0.0.1, so ``s.profile_http()`` measures it from the outside, as it would a
service in any language.

>>> import workbench as wb
>>> with wb.demo.serve() as api:                                   # doctest: +SKIP
...     prof = s.profile_http(api.url + "/api/users", runs=5)
...     prof.repeated[["count", "sql"]]

The port is chosen by the system and the listening socket handed to the service (no race for
it); the database URL reaches the service in its environment, never on a command line. The
service stops with :meth:`DemoService.stop`, at the end of a ``with`` block, when the
interpreter exits, and by itself when the process that started it is gone (it watches the pipe
its parent holds). :func:`~workbench.demo.service.fixed.fixed_copy` gives it tables with a
fix applied, where no other connection sees them.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

from workbench.demo.service.fixed import fixed_copy
from workbench.errors import ConfigurationError
from workbench.redaction import mask_url, scrub_text

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["DATABASE_ENV", "DemoService", "fixed_copy", "serve"]

#: the variable that carries the database URL to the service process
DATABASE_ENV = "WORKBENCH_DEMO_SERVICE_DATABASE"
#: the folder the workbench package was imported from (this module is workbench/demo/service/)
_IMPORT_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
)


def serve(
    database: Any = None,
    *,
    scale: float = 1.0,
    host: str = "127.0.0.1",
    startup_timeout: float = 60.0,
) -> DemoService:
    """Start the demo shop's API and return once it answers.

    ``database``: a SQLAlchemy URL, an Engine or a Session holding the demo data (see
    ``wb.demo.load``); ``None`` is the embedded PostgreSQL with the demo data at ``scale``, as
    ``wb.connect()`` gives it.
    """
    url = _database_url(database, scale)
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    env = dict(os.environ)
    env[DATABASE_ENV] = url
    env["PYTHONPATH"] = os.pathsep.join([_IMPORT_ROOT, env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    log = tempfile.TemporaryFile()  # noqa: SIM115 - the service's; DemoService.stop closes it
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.demo.service", str(listener.fileno())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
            pass_fds=[listener.fileno()],
        )
    finally:
        listener.close()  # the service holds its own copy
    service = DemoService(proc, host, port, mask_url(url), log)
    try:
        service.wait_ready(startup_timeout, secret=url)
    except BaseException:
        service.stop()
        raise
    return service


def _database_url(database: Any, scale: float) -> str:
    if database is None:
        from workbench.embedded import demo_database

        database = demo_database(scale=scale, progress=True).url
    engine = getattr(database, "engine", database)  # a Session's engine
    url = getattr(engine, "url", engine)  # an Engine's URL
    if hasattr(url, "render_as_string"):
        return str(url.render_as_string(hide_password=False))
    if isinstance(url, str) and "://" in url:
        return url
    raise ConfigurationError(
        f"not a database: {type(database).__name__}",
        hint="give a SQLAlchemy URL, an Engine or a session (wb.demo.serve(s)), or nothing for "
        "the embedded demo database",
    )


class DemoService:
    """A running demo API: ``url`` (``http://127.0.0.1:PORT``), :meth:`stop`, a context
    manager."""

    def __init__(
        self, proc: subprocess.Popen[bytes], host: str, port: int, database: str, log: Any
    ):
        self.proc = proc
        self.host = host
        self.port = port
        self.database = database  # masked
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{port}"
        self._log = log
        atexit.register(self.stop)

    def endpoint(self, path: str) -> str:
        """``url`` + ``path``: ``api.endpoint("/api/users?eager=1")``."""
        return self.url + (path if path.startswith("/") else "/" + path)

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, timeout: float, *, secret: str = "") -> None:
        import httpx

        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.running:
                    raise ConfigurationError(
                        f"the demo service exited at start (code {self.proc.returncode}): "
                        f"{self._tail(secret)}",
                        hint="check that the database holds the demo data (wb.demo.load(url))",
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(self.url + "/health").status_code == 200:
                        return
                time.sleep(0.05)
        raise ConfigurationError(
            f"the demo service did not answer within {timeout:g} s: {self._tail(secret)}",
            hint="wb.demo.serve(startup_timeout=120) on a slow machine",
        )

    def _tail(self, secret: str) -> str:
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace")
        lines = [line for line in text.strip().splitlines() if line.strip()]
        password = _password(secret)
        return scrub_text(" | ".join(lines[-3:]), [password] if password else []) or "no output"

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the service (it finishes the requests it is answering)."""
        atexit.unregister(self.stop)
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()  # the service's watcher sees the pipe close and exits
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        with contextlib.suppress(Exception):
            self._log.close()

    def __enter__(self) -> DemoService:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<DemoService {self.url} ({state}) over {self.database}>"


def _password(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    with contextlib.suppress(Exception):
        return make_url(url).password
    return None
