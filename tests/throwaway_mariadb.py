"""A throwaway MariaDB with the performance schema on, for the statement-digest tests.

The shared MariaDB runs with ``performance_schema = OFF`` (it cannot be switched on without a
restart, and the shared servers are never restarted under other tests), so the tests that read
statement digests get a server of their own: ``mariadb-install-db`` into a temporary folder,
a Unix socket there (no TCP port to collide with), ``performance_schema = ON``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

__all__ = ["ThrowawayMariaDB", "available"]


def available() -> bool:
    return bool(shutil.which("mariadb-install-db") and shutil.which("mariadbd"))


class ThrowawayMariaDB:
    """One MariaDB server in ``root``, performance schema on; :meth:`stop` ends it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.socket = root / "mysqld.sock"
        self.log = root / "server.log"
        user = ["--user=root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.data}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *user,
            ],
            check=True,
            capture_output=True,
        )
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [
                    shutil.which("mariadbd") or "mariadbd",
                    "--no-defaults",
                    f"--datadir={self.data}",
                    f"--socket={self.socket}",
                    "--skip-networking",
                    "--performance-schema=ON",
                    "--skip-log-bin",
                    "--innodb-buffer-pool-size=32M",
                    *user,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while not self.socket.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mariadbd did not start: {self.log.read_text()[-500:]}")
            time.sleep(0.05)

    def url(self, database: str) -> str:
        return f"mysql+pymysql://root@localhost/{database}?unix_socket={self.socket}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
