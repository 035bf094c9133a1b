"""A fix measured for real, where nobody else sees it: a copy of the tables it changes.

``s.try_fix()`` plans a statement with the fix applied inside a transaction that is rolled back;
a service in another process cannot see inside that transaction, so an endpoint cannot be
measured there. :func:`fixed_copy` copies the tables the fix touches (rows, indexes, defaults)
into a schema of its own, applies the fix to the copy, analyses it, and gives a database URL
whose connections find the copy first (``search_path``): the demo service started on that URL
answers from the fixed tables while every other connection still sees the originals. The
schema is dropped at the end of the ``with`` block.

>>> fix = "CREATE INDEX orders_user_id_idx ON orders (user_id)"
>>> with wb.demo.fixed_copy(s, fix) as url, wb.demo.serve(url) as api:     # doctest: +SKIP
...     after = s.profile_http(api.endpoint("/api/users?eager=1"), runs=8)

PostgreSQL only (schemas and ``search_path``); the fix may only create indexes or statistics
and analyse, on the copied tables, unqualified.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from workbench.errors import ConfigurationError

if TYPE_CHECKING:
    from workbench.session import Session

__all__ = ["fixed_copy"]

_ALLOWED = ("CREATE INDEX", "CREATE UNIQUE INDEX", "CREATE STATISTICS", "ANALYZE")


@contextlib.contextmanager
def fixed_copy(
    session: Session, fix: str | Sequence[str], *, tables: Sequence[str] | None = None
) -> Iterator[str]:
    """A copy of the tables ``fix`` touches (or ``tables``), the fix applied to it; yields the
    database URL (with its password: pass it on, do not print it) that sees the copy first."""
    from sqlalchemy import text

    if session.dialect != "postgresql":
        raise ConfigurationError(
            f"a fixed copy needs PostgreSQL's schemas; this is {session.dialect}",
            hint="measure the fix on a copy of the database instead",
        )
    statements = [fix] if isinstance(fix, str) else list(fix)
    names = list(tables or [])
    for statement in statements:
        info = session.executor.classify(statement)
        upper = " ".join(statement.split()).upper()
        if not upper.startswith(_ALLOWED) or any("." in t for t in info.tables):
            raise ConfigurationError(
                f"a fixed copy applies indexes, statistics and ANALYZE only, on unqualified "
                f"tables: {statement[:80]}",
                hint="e.g. CREATE INDEX orders_user_id_idx ON orders (user_id)",
            )
        names += [t for t in info.tables if t not in names]
    if not names:
        raise ConfigurationError("the fix names no table to copy", hint="pass tables=[...]")
    schema = f"wb_fix_{uuid.uuid4().hex[:10]}"
    engine = session.engine
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            for name in names:
                conn.execute(
                    text(f'CREATE TABLE "{schema}"."{name}" (LIKE "{name}" INCLUDING ALL)')
                )
                conn.execute(text(f'INSERT INTO "{schema}"."{name}" SELECT * FROM "{name}"'))
            conn.execute(text(f'SET LOCAL search_path = "{schema}", public'))
            for statement in statements:
                conn.execute(text(statement))
            for name in names:
                conn.execute(text(f'ANALYZE "{schema}"."{name}"'))
        options = engine.url.query.get("options") or ""
        options = f"{options} -csearch_path={schema},public".strip()
        url = engine.url.update_query_dict({"options": options})
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
