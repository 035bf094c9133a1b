"""The class server's side of a workshop: engines on it, its errors in the workbench's words,
databases created from the template and dropped, and the comment each carries that says
which class it belongs to (teardown drops only its own class's)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from workbench.errors import (
    ConfigurationError,
    ConnectionFailedError,
    QueryError,
    WorkbenchError,
)
from workbench.redaction import mask_url

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = [
    "EXTENSIONS",
    "admin_engine",
    "class_comment",
    "class_databases",
    "comment_on",
    "create_database",
    "drop_databases",
    "engine_for",
    "execute",
    "identifier",
    "prepare_template",
    "server_version",
    "translated",
]

#: the comment on each database setup creates (class_comment): teardown drops only its class's
COMMENT_PATTERN = re.compile(
    r"^workbench workshop: (learner|template) database of class ([a-z][a-z0-9_]*) "
    r"at scale ([0-9.e+-]+) \("
)
#: the comments before they named the class (and scale): told apart by the templates' names
LEGACY_COMMENTS = {
    "workbench workshop: learner database (workbench workshop teardown drops it)": "learner",
    "workbench workshop: template database (workbench workshop teardown drops it)": "template",
}
#: extensions installed in the template, so learners' roles need not create them
EXTENSIONS = ("pg_trgm",)


# -- the class's databases -------------------------------------------------------------------
def class_comment(kind: str, prefix: str, scale: float) -> str:
    """The comment on a database setup creates: its kind, class and scale."""
    return (
        f"workbench workshop: {kind} database of class {prefix} at scale {scale:g} "
        "(workbench workshop teardown drops it)"
    )


def class_databases(engine: Engine, prefix: str) -> dict[str, tuple[str, float | None]]:
    """The databases setup created for the class ``prefix``: name -> (learner or template,
    scale; None when an older setup's comment did not say)."""
    rows = execute(
        engine,
        "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
        "WHERE shobj_description(oid, 'pg_database') LIKE 'workbench workshop:%'",
    )
    ours: dict[str, tuple[str, float | None]] = {}
    classes: set[str] = set()  # every class with a template on the server
    legacy: dict[str, str] = {}
    for name, comment in ((str(r[0]), str(r[1])) for r in rows):
        match = COMMENT_PATTERN.match(comment)
        if match:
            kind, owner, scale = match.groups()
            classes.update([owner] if kind == "template" else [])
            if owner == prefix and name.startswith(f"{prefix}_"):
                ours[name] = (kind, float(scale))
        elif comment in LEGACY_COMMENTS:
            legacy[name] = LEGACY_COMMENTS[comment]
            if legacy[name] == "template" and name.endswith("_template"):
                classes.add(name.removesuffix("_template"))
    for name, kind in legacy.items():
        # an older setup's comment names no class: the longest prefix with a template owns it
        owners = [c for c in classes if name.startswith(f"{c}_")]
        if owners and max(owners, key=len) == prefix:
            ours[name] = (kind, None)
    return ours


# -- the server ------------------------------------------------------------------------------
def engine_for(url: str) -> Engine:
    from sqlalchemy import create_engine

    return create_engine(url, pool_pre_ping=True)


def admin_engine(url: str) -> Engine:
    """An AUTOCOMMIT engine on ``url``, refused before any driver is loaded when it is not a
    PostgreSQL URL (a mysql:// one would otherwise fail importing MySQLdb)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        backend: str | None = make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        backend = None
    if backend != "postgresql":
        what = f"{mask_url(url)} is {backend}" if backend else f"{mask_url(url)!r} is no URL"
        raise ConfigurationError(
            f"a class setup needs a PostgreSQL server, and {what}",
            hint="a postgresql:// URL to the server, e.g. postgresql://admin@db/postgres",
        )
    try:
        return create_engine(url, isolation_level="AUTOCOMMIT")
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise ConfigurationError(
            f"cannot use {mask_url(url)}: {exc}",
            hint="a postgresql:// or postgresql+psycopg:// URL",
        ) from None


def execute(engine: Engine, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    from sqlalchemy import exc, text

    try:
        with engine.connect() as conn:
            result = conn.execute(text(sql), params or {})
            return list(result) if result.returns_rows else []
    except exc.DBAPIError as error:
        raise translated(error, engine) from None


def translated(error: Exception, engine: Engine) -> WorkbenchError:
    """A driver error as the workbench's own (no URL, no password; the engine's first line)."""
    from sqlalchemy import exc

    original = getattr(error, "orig", None) or error
    first = (str(original).strip().splitlines() or [type(original).__name__])[0]
    where = mask_url(engine.url)
    if isinstance(error, exc.OperationalError) and "connect" in str(original).lower():
        return ConnectionFailedError(
            f"cannot connect to {where}: {first}", hint="check the server and the URL"
        )
    return QueryError(
        f"the class setup failed on {where}: {first}",
        hint="the account needs to create databases (CREATEDB) and, with --owner, to be "
        "a member of that role",
        engine_message=first,
    )


def create_database(
    engine: Engine, name: str, *, template: str | None, owner: str | None, comment: str
) -> bool:
    """Create ``name`` unless it exists; True when it was created."""
    if execute(engine, "SELECT 1 FROM pg_database WHERE datname = :name", {"name": name}):
        return False
    clauses = f' TEMPLATE "{template}"' if template else ""
    clauses += f' OWNER "{identifier(owner)}"' if owner else ""
    if template and server_version(engine) >= 150000:
        # a copy of the files (and two checkpoints): faster than WAL-logging each block
        clauses += " STRATEGY FILE_COPY"
    execute(engine, f'CREATE DATABASE "{name}"{clauses}')
    comment_on(engine, name, comment)
    return True


def comment_on(engine: Engine, name: str, comment: str) -> None:
    quoted = comment.replace("'", "''")
    execute(engine, f"COMMENT ON DATABASE \"{name}\" IS '{quoted}'")


def server_version(engine: Engine) -> int:
    return int(execute(engine, "SHOW server_version_num")[0][0])


def prepare_template(engine: Engine, owner: str | None) -> None:
    from sqlalchemy import text

    from workbench.demo.schema import MARKER_TABLE, TABLE_ORDER

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        available = {
            str(r[0])
            for r in conn.execute(
                text("SELECT name FROM pg_available_extensions WHERE name = ANY(:names)"),
                {"names": list(EXTENSIONS)},
            )
        }
        for extension in EXTENSIONS:
            if extension in available:
                conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS {extension}"))
        if owner:
            role = identifier(owner)
            for table in (*TABLE_ORDER, MARKER_TABLE.name):
                conn.execute(text(f'ALTER TABLE {table} OWNER TO "{role}"'))


def drop_databases(engine: Engine, names: list[str]) -> None:
    for name in names:
        if execute(engine, "SELECT 1 FROM pg_database WHERE datname = :name", {"name": name}):
            execute(engine, f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
            execute(engine, f'DROP DATABASE "{name}" WITH (FORCE)')


def identifier(name: str) -> str:
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$", name):
        raise ConfigurationError(f"{name!r} is not a role name this setup accepts")
    return name
