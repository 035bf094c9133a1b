"""Loading the demo data into any supported engine, with each engine's bulk path.

PostgreSQL gets ``COPY``, MariaDB/MySQL ``LOAD DATA LOCAL INFILE``, DuckDB a DataFrame scan and
SQLite one ``executemany`` transaction. Secondary indexes and foreign keys are added after the
rows (much faster than maintaining them row by row), then statistics are gathered, then a marker
row records the dataset version and scale, so a second call with the same arguments is free.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from workbench.demo.generate import DATASET_VERSION, SEED, generate
from workbench.demo.schema import MARKER_TABLE, SECONDARY_INDEXES, TABLE_ORDER, metadata
from workbench.errors import ConfigurationError

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Connection, Engine


__all__ = ["LoadReport", "is_loaded", "load", "reporter", "run_workload"]


class _HasEngine(Protocol):
    """A session, or anything else holding a SQLAlchemy Engine."""

    @property
    def engine(self) -> Engine: ...


log = logging.getLogger(__name__)


@dataclass
class LoadReport:
    """What :func:`load` did: rows per table and seconds spent (0 rows: already there)."""

    dialect: str
    scale: float
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    already_loaded: bool = False

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def load(
    target: _HasEngine | Engine | str,
    scale: float = 1.0,
    *,
    replace: bool = False,
    seed: int = SEED,
    progress: bool | Callable[[str], None] = False,
) -> LoadReport:
    """Create the demo tables in ``target`` and fill them (idempotent).

    ``target`` is a session, an Engine or a URL. Only the demo's own tables are dropped, and
    only when ``replace=True`` or when a different dataset version or scale is there.
    ``progress``: ``True`` prints each step (generating, each table, indexes, statistics) to
    standard error, a callable receives each step's text.

    >>> import workbench as wb
    >>> report = wb.demo.load("sqlite:///shop.db", scale=0.05)   # doctest: +SKIP
    >>> report.total_rows                                          # doctest: +SKIP
    85525
    """
    engine = _engine_of(target)
    dialect = engine.dialect.name
    started = time.perf_counter()
    marker = _marker(engine)
    if marker and not replace and marker == (DATASET_VERSION, float(scale), seed):
        if dialect == "postgresql":
            _restore_statistics_times(engine)
        return LoadReport(dialect, scale, already_loaded=True)
    say = reporter(progress)
    say(f"generating the demo data at scale {scale:g}")
    frames = generate(scale, seed)
    _drop(engine)
    with engine.begin() as conn:
        _create_tables(conn, dialect)
    tables = [t for t in TABLE_ORDER if t in frames]
    for number, name in enumerate(tables, start=1):
        say(f"loading {name} ({len(frames[name]):,} rows): {number} of {len(tables)} tables")
        _bulk_load(engine, dialect, {name: frames[name]})
    say("adding indexes and foreign keys")
    with engine.begin() as conn:
        _add_indexes_and_keys(conn, dialect)
    say("gathering statistics")
    _gather_statistics(engine, dialect)
    if dialect == "postgresql":
        _plant_dead_rows(engine)
    rows = {name: len(df) for name, df in frames.items()}
    with engine.begin() as conn:
        MARKER_TABLE.create(conn, checkfirst=True)
        conn.execute(MARKER_TABLE.delete())
        conn.execute(
            MARKER_TABLE.insert().values(
                dataset_version=DATASET_VERSION,
                scale=float(scale),
                seed=seed,
                rows=sum(rows.values()),
                loaded_at=datetime.now().replace(microsecond=0),
            )
        )
    if dialect in ("postgresql", "mysql", "mariadb"):
        say("running the application's workload (for the server's statement statistics)")
        run_workload(engine)
    seconds = time.perf_counter() - started
    log.info("demo data loaded into %s in %.1f s (%d rows)", dialect, seconds, sum(rows.values()))
    return LoadReport(dialect, scale, rows, seconds)


def run_workload(target: _HasEngine | Engine | str) -> int:
    """Run the demo application's statements (:data:`workbench.demo.pathologies.WORKLOAD`)
    as the application would, so the server's statement statistics (``pg_stat_statements``,
    performance_schema) hold a workload for ``s.advise()``. The loader does it once; returns
    the number of statements run.

    >>> wb.demo.run_workload(s)   # doctest: +SKIP
    380
    """
    from sqlalchemy import text

    from workbench.demo.pathologies import WORKLOAD

    engine = _engine_of(target)
    count = 0
    with engine.connect() as conn:
        for statement in WORKLOAD:
            query = text(statement.sql)
            for params in statement.params():
                conn.execute(query, params).fetchall()
                count += 1
        if engine.dialect.name == "postgresql":
            _flush_statistics(conn)
        conn.rollback()
    return count


def _flush_statistics(conn: Connection) -> None:
    """PostgreSQL 15+: report this connection's table and index counters when its transaction
    ends, not up to ten seconds later (what health checks read right after a load)."""
    from sqlalchemy import text

    if conn.dialect.server_version_info and conn.dialect.server_version_info >= (15,):
        conn.execute(text("SELECT pg_stat_force_next_flush()"))


def _plant_dead_rows(engine: Engine) -> None:
    """PostgreSQL: ``accounts`` rewritten six times in one transaction with autovacuum off on
    it, so ``s.health()`` finds a bloated table with dead rows (the old versions stay, and
    the file stays seven times the size its rows need)."""
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE accounts SET (autovacuum_enabled = false)"))
        for _ in range(6):
            conn.execute(text("UPDATE accounts SET plan = plan"))
        _flush_statistics(conn)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE accounts"))


def is_loaded(target: _HasEngine | Engine | str) -> bool:
    """True when ``target`` holds the demo data (any scale)."""
    return _marker(_engine_of(target)) is not None


def _engine_of(target: Any) -> Engine:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import Engine

    if isinstance(target, Engine):
        return target
    engine = getattr(target, "engine", None)
    if isinstance(engine, Engine):
        return engine
    if isinstance(target, str):
        return create_engine(target)
    raise ConfigurationError(
        f"cannot load the demo into a {type(target).__name__}",
        hint="pass a session, a SQLAlchemy Engine or a URL",
    )


def _marker(engine: Engine) -> tuple[int, float, int] | None:
    from sqlalchemy import inspect, select

    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(MARKER_TABLE.name):
                return None
            row = conn.execute(
                select(MARKER_TABLE.c.dataset_version, MARKER_TABLE.c.scale, MARKER_TABLE.c.seed)
            ).first()
    except Exception:  # a half-created database: treat as not loaded, reload
        log.debug("no usable demo marker", exc_info=True)
        return None
    return (int(row[0]), float(row[1]), int(row[2])) if row else None


def _drop(engine: Engine) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        for name in (MARKER_TABLE.name, *reversed(TABLE_ORDER)):
            cascade = " CASCADE" if engine.dialect.name == "postgresql" else ""
            conn.execute(text(f"DROP TABLE IF EXISTS {name}{cascade}"))


def _create_tables(conn: Connection, dialect: str) -> None:
    from sqlalchemy.schema import CreateTable

    # Foreign keys: SQLite takes them only at CREATE time; PostgreSQL gets them after the load
    # (one validation pass instead of a trigger per row); MySQL/MariaDB and DuckDB get none,
    # because InnoDB and DuckDB would silently index the foreign-key columns the demo leaves
    # unindexed on purpose.
    for name in TABLE_ORDER:
        table = metadata.tables[name]
        fks: list[Any] | None = None if dialect == "sqlite" else []
        conn.execute(CreateTable(table, include_foreign_key_constraints=fks))


def _add_indexes_and_keys(conn: Connection, dialect: str) -> None:
    from sqlalchemy.schema import AddConstraint

    for index in SECONDARY_INDEXES:
        index.create(conn)
    if dialect == "postgresql":
        for name in TABLE_ORDER:
            for fk in metadata.tables[name].foreign_key_constraints:
                # isolate_from_table=False: the shared metadata must still render the key
                # inline when SQLite is loaded next in the same process
                conn.execute(AddConstraint(fk, isolate_from_table=False))


def _bulk_load(engine: Engine, dialect: str, frames: dict[str, pd.DataFrame]) -> None:
    loaders = {
        "postgresql": _load_postgresql,
        "sqlite": _load_sqlite,
        "duckdb": _load_duckdb,
        "mysql": _load_mysql,
        "mariadb": _load_mysql,
    }
    loader = loaders.get(dialect)
    if loader is None:
        raise ConfigurationError(f"the demo data cannot be loaded into {dialect}")
    loader(engine, frames)


def _load_postgresql(engine: Engine, frames: dict[str, pd.DataFrame]) -> None:
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        assert dbapi is not None
        with dbapi.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")
            for name in [t for t in TABLE_ORDER if t in frames]:
                frame = frames[name]
                columns = ", ".join(frame.columns)
                with (
                    _csv_file(frame, null="") as path,
                    open(path, "rb") as data,
                    cur.copy(f"COPY {name} ({columns}) FROM STDIN (FORMAT csv)") as copy,
                ):
                    while block := data.read(1 << 20):
                        copy.write(block)
        dbapi.commit()
    finally:
        raw.close()


@contextlib.contextmanager
def _csv_file(frame: pd.DataFrame, *, null: str, bools_as_int: bool = False) -> Iterator[str]:
    """``frame`` as a CSV file (no header), written by DuckDB's multi-threaded writer: four
    times faster than pandas.to_csv on the wide demo rows."""
    import duckdb

    handle, path = tempfile.mkstemp(suffix=".csv", prefix="workbench-demo-")
    os.close(handle)
    con = duckdb.connect()
    try:
        con.register("frame", frame)
        casts = [
            f"{c}::INTEGER AS {c}" for c in frame.columns if bools_as_int and frame[c].dtype == bool
        ]
        select = (
            f"SELECT * REPLACE ({', '.join(casts)}) FROM frame" if casts else "SELECT * FROM frame"
        )
        con.execute(
            f"COPY ({select}) TO '{path}' (FORMAT csv, HEADER false, NULLSTR '{null}', "
            "TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S')"
        )
        yield path
    finally:
        con.close()
        os.unlink(path)


def _load_sqlite(engine: Engine, frames: dict[str, pd.DataFrame]) -> None:
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        assert dbapi is not None
        for name in [t for t in TABLE_ORDER if t in frames]:
            frame = _plain_values(frames[name])
            marks = ", ".join("?" * len(frame.columns))
            dbapi.executemany(
                f"INSERT INTO {name} VALUES ({marks})", frame.itertuples(index=False, name=None)
            )
        dbapi.commit()
    finally:
        raw.close()


def _plain_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as ISO text (what SQLAlchemy stores in SQLite), NaT as None, numpy bools and
    ints as Python values."""
    import pandas as pd

    out = {}
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            text = series.dt.strftime("%Y-%m-%d %H:%M:%S.000000")
            out[column] = text.astype(object).where(series.notna(), None)
        elif pd.api.types.is_bool_dtype(series):
            out[column] = series.astype(int).astype(object)
        else:
            out[column] = series.astype(object)
    return pd.DataFrame(out)


def _load_duckdb(engine: Engine, frames: dict[str, pd.DataFrame]) -> None:
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        assert dbapi is not None
        for name in [t for t in TABLE_ORDER if t in frames]:
            view = f"_workbench_demo_{name}"
            dbapi.register(view, frames[name])
            try:
                columns = ", ".join(frames[name].columns)
                dbapi.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {view}")
            finally:
                dbapi.unregister(view)
        dbapi.commit()
    finally:
        raw.close()


def _load_mysql(engine: Engine, frames: dict[str, pd.DataFrame]) -> None:
    from sqlalchemy import create_engine

    # LOAD DATA LOCAL needs the client flag; a short-lived engine carries it
    loader = create_engine(engine.url, connect_args={"local_infile": True})
    raw = loader.raw_connection()
    try:
        dbapi = raw.driver_connection
        assert dbapi is not None
        with dbapi.cursor() as cur:
            cur.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
            for name in [t for t in TABLE_ORDER if t in frames]:
                frame = frames[name]
                with _csv_file(frame, null="\\N", bools_as_int=True) as path:
                    cur.execute(
                        f"LOAD DATA LOCAL INFILE %s INTO TABLE {name} CHARACTER SET utf8mb4 "
                        "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' "
                        f"LINES TERMINATED BY '\\n' ({', '.join(frame.columns)})",
                        (path,),
                    )
        dbapi.commit()
    finally:
        raw.close()
        loader.dispose()


def _restore_statistics_times(engine: Engine) -> None:
    """Analyse the demo tables again when PostgreSQL has forgotten when they were analysed.

    A server that stopped without a clean shutdown (a killed postmaster, a crashed backend)
    restarts with its cumulative statistics reset: the planner's statistics are still there, but
    ``last_analyze`` is empty, and the demo would look never analysed. ANALYZE takes a second.
    """
    from sqlalchemy import text

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        forgotten = [
            name
            for (name,) in conn.execute(
                text(
                    "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                    "AND relname = ANY(:names) AND last_analyze IS NULL "
                    "AND last_autoanalyze IS NULL"
                ),
                {"names": list(TABLE_ORDER)},
            )
        ]
        if forgotten:
            conn.execute(text("ANALYZE " + ", ".join(n for n in TABLE_ORDER if n in forgotten)))


def _gather_statistics(engine: Engine, dialect: str) -> None:
    from sqlalchemy import text

    if dialect == "postgresql":
        # VACUUM cannot run in a transaction; it also sets the visibility map, so index-only
        # scans work from the start as they would on a long-lived table
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) " + ", ".join(TABLE_ORDER)))
    elif dialect == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    elif dialect in ("mysql", "mariadb"):
        with engine.begin() as conn:
            for name in TABLE_ORDER:
                conn.execute(text(f"ANALYZE TABLE {name}")).fetchall()
    elif dialect == "duckdb":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def reporter(progress: bool | Callable[[str], None]) -> Callable[[str], None]:
    """``progress`` as a function taking a line: itself, nothing, or a line on standard error."""
    if callable(progress):
        return progress
    if not progress:
        return lambda text: None

    def say(text: str) -> None:
        print(f"workbench: {text}…", file=sys.stderr, flush=True)

    return say
