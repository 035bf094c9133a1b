"""Scratch databases for tests whose results depend on everything in a database (health
checks, statement statistics, index usage): created with a unique name, dropped afterwards."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextlib.contextmanager
def scratch_database(server_url: str, *, extensions: tuple[str, ...] = ()) -> Iterator[str]:
    """A new database on the server of ``server_url`` (PostgreSQL or MariaDB), with
    ``extensions`` created in it (PostgreSQL); its URL; dropped at the end."""
    url = make_url(server_url)
    name = f"wbt_{uuid.uuid4().hex[:10]}"
    postgres = url.get_backend_name() == "postgresql"
    admin = create_engine(
        url.set(database="postgres") if postgres else url, isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    target = url.set(database=name).render_as_string(hide_password=False)
    try:
        if extensions:
            engine = create_engine(target, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                for extension in extensions:
                    conn.execute(text(f"CREATE EXTENSION {extension}"))
            engine.dispose()
        yield target
    finally:
        with admin.connect() as conn:
            force = " WITH (FORCE)" if postgres else ""
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()


def run_sql(url: str, *statements: str) -> None:
    """Each statement committed on its own (PostgreSQL: the counters reported at once)."""
    engine = create_engine(url)
    try:
        for statement in statements:
            if engine.dialect.name == "postgresql":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("SELECT pg_stat_force_next_flush()"))
                    conn.execute(text(statement))
            else:
                with engine.begin() as conn:
                    conn.execute(text(statement))
    finally:
        engine.dispose()
