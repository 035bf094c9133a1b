"""``wb.parse_plan()``: any plan, pasted or captured, from any engine, by its shape.

Formats are recognised by what the document looks like, never by a version number:

=================  ==========================================================================
format             shape
=================  ==========================================================================
postgresql-json    ``[{"Plan": {"Node Type": ...}}]`` (also pasted through psql's frames)
postgresql-text    indented ``Node  (cost=...)`` lines, any psql border style, wrapped lines
mysql-json         ``{"query_block": {... "cost_info" ...}}``
mariadb-json       ``{"query_block": {...}}`` with ``r_loops``/``r_rows`` or without costs
mysql-tree         ``-> Operation  (cost=...) (actual time=...)`` lines (EXPLAIN ANALYZE)
sqlite-eqp         ``(id, parent, notused, detail)`` rows, or the sqlite3 shell's tree
duckdb-json        operators with ``name``/``children`` (EXPLAIN) or a profile (ANALYZE)
=================  ==========================================================================
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Iterator
from typing import Any

from workbench.errors import PlanParseError
from workbench.plans.model import Plan

__all__ = ["detect_format", "from_dict", "parse_plan"]

DIALECTS = ("postgresql", "mysql", "mariadb", "sqlite", "duckdb")
_FAMILY = {
    "postgresql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
}
_FORMAT_DIALECT = {
    "postgresql-json": "postgresql",
    "postgresql-text": "postgresql",
    "mysql-json": "mysql",
    "mariadb-json": "mariadb",
    "mysql-tree": "mysql",
    "sqlite-eqp": "sqlite",
    "sqlite-text": "sqlite",
    "duckdb-json": "duckdb",
}
_EXPECTED = {
    "postgresql": "EXPLAIN (FORMAT JSON) output, or the TEXT output as psql prints it",
    "mysql": "EXPLAIN FORMAT=JSON output, or EXPLAIN ANALYZE (tree) output",
    "mariadb": "EXPLAIN FORMAT=JSON or ANALYZE FORMAT=JSON output",
    "sqlite": "EXPLAIN QUERY PLAN rows, or the sqlite3 shell's QUERY PLAN tree",
    "duckdb": "EXPLAIN (FORMAT json) or EXPLAIN (ANALYZE, FORMAT json) output",
}


def parse_plan(source: Any, dialect: str | None = "postgresql", *, sql: str | None = None) -> Plan:
    """Read a plan: text or JSON (a string, bytes or the parsed document).

    ``dialect`` is the engine the plan is expected from (``None``: whatever it looks like); a
    plan of another engine is refused rather than misread.

    >>> plan = parse_plan("Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)")
    >>> plan.root.label
    'Seq Scan on t'

    Raises:
        PlanParseError: for anything that is not a plan of the expected engine (never another
            exception type).
    """
    if isinstance(source, Plan):
        return source
    if dialect is not None and dialect not in DIALECTS:
        raise PlanParseError(f"unknown dialect {dialect!r}", hint=f"one of {', '.join(DIALECTS)}")
    try:
        with _gc_paused():
            return _parse(source, dialect, sql)
    except PlanParseError:
        raise
    except RecursionError:
        raise PlanParseError("the plan document is nested too deeply to read") from None
    except Exception as exc:  # a parser bug must still surface as the one documented error
        raise PlanParseError(
            f"could not read the plan ({type(exc).__name__}: {exc})",
            hint=f"expected {_EXPECTED.get(dialect or 'postgresql')}",
        ) from exc


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Building a large plan allocates tens of thousands of containers, each of which would
    otherwise trigger the cyclic garbage collector's young-generation scans: that alone costs
    a third of the parse. Nothing here creates cycles the collector must break mid-parse."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse(source: Any, dialect: str | None, sql: str | None) -> Plan:
    fmt, doc = detect_format(source)
    found = _FORMAT_DIALECT[fmt]
    if dialect is not None and _FAMILY[found] != _FAMILY[dialect]:
        raise PlanParseError(
            f"this looks like a {found} plan ({fmt}), not a {dialect} one",
            hint=f"pass dialect={found!r}, or paste {_EXPECTED[dialect]}",
        )
    if fmt in ("postgresql-json", "postgresql-text"):
        from workbench.plans.postgresql.document import from_postgres_json

        return from_postgres_json(doc, format=fmt, sql=sql)
    if fmt in ("mysql-json", "mariadb-json"):
        from workbench.plans.mysql import from_mysql_json

        return from_mysql_json(
            doc, dialect=dialect if dialect in ("mysql", "mariadb") else None, sql=sql
        )
    if fmt == "mysql-tree":
        from workbench.plans.mysql import from_mysql_tree

        return from_mysql_tree(doc, dialect=dialect or "mysql", sql=sql)
    if fmt == "sqlite-eqp":
        from workbench.plans.sqlite import from_sqlite_rows

        return from_sqlite_rows(doc, sql=sql)
    if fmt == "sqlite-text":
        from workbench.plans.sqlite import from_sqlite_text

        return from_sqlite_text(doc, sql=sql)
    from workbench.plans.duckdb import from_duckdb_json

    return from_duckdb_json(doc, sql=sql)


def detect_format(source: Any) -> tuple[str, Any]:
    """``(format, document)``: what kind of plan ``source`` is, and it ready for its parser
    (JSON decoded, PostgreSQL TEXT converted to the JSON shape)."""
    if isinstance(source, bytes | bytearray):
        source = bytes(source).decode("utf-8", errors="replace")
    if isinstance(source, str):
        return _detect_text(source)
    return _detect_document(source)


def _detect_text(text: str) -> tuple[str, Any]:
    stripped = text.strip()
    if not stripped:
        raise PlanParseError("the plan is empty", hint="paste the whole EXPLAIN output")
    if stripped[0] in "[{":
        try:
            return _detect_document(json.loads(stripped))
        except json.JSONDecodeError as exc:
            raise PlanParseError(
                f"the plan looks like JSON but does not parse: {exc.msg} at line {exc.lineno}, "
                f"column {exc.colno}",
                hint="is it complete? a truncated copy loses its closing brackets",
            ) from None
    from workbench.plans.mysql import is_mysql_tree
    from workbench.plans.sqlite import is_sqlite_text

    if is_mysql_tree(stripped):
        return "mysql-tree", stripped
    if is_sqlite_text(stripped):
        return "sqlite-text", stripped
    from workbench.plans.postgresql.text import parse_pg_text, strip_psql_frames

    clean = strip_psql_frames(text).strip()
    if clean[:1] in ("[", "{"):
        try:
            return _detect_document(json.loads(clean))
        except json.JSONDecodeError as exc:
            raise PlanParseError(
                f"the plan looks like JSON pasted from psql but does not parse: {exc.msg}",
                hint="is it complete? a truncated copy loses its closing brackets",
            ) from None
    return "postgresql-text", parse_pg_text(text)


def _detect_document(doc: Any) -> tuple[str, Any]:
    from workbench.plans.duckdb import is_duckdb_json
    from workbench.plans.mysql import json_flavour
    from workbench.plans.postgresql.document import is_postgres_json
    from workbench.plans.sqlite import is_sqlite_rows

    if is_postgres_json(doc):
        return "postgresql-json", doc
    flavour = json_flavour(doc)
    if flavour:
        return f"{flavour}-json", doc
    if is_duckdb_json(doc):
        return "duckdb-json", doc
    if is_sqlite_rows(doc):
        return "sqlite-eqp", doc
    raise PlanParseError(
        f"not a plan this workbench can read (a {type(doc).__name__} of unknown shape)",
        hint="paste EXPLAIN output from PostgreSQL (JSON or TEXT), MySQL, MariaDB, SQLite or "
        "DuckDB",
    )


def from_dict(data: dict[str, Any]) -> Plan:
    """Rebuild a plan saved with :meth:`Plan.to_dict` (in an investigation or evidence file)."""
    if not isinstance(data, dict) or "raw" not in data:
        raise PlanParseError("not a saved plan: expected a dict with 'raw' and 'dialect'")
    fmt = data.get("format")
    raw = data["raw"]
    if fmt == "postgresql-text" and isinstance(raw, dict):
        from workbench.plans.postgresql.document import from_postgres_json

        return from_postgres_json(raw, format=fmt, sql=data.get("sql"))
    plan = parse_plan(raw, data.get("dialect"), sql=data.get("sql"))
    if data.get("execution_time_ms") is not None and not plan.analyzed:
        plan.attach_statement_time(data["execution_time_ms"], data.get("rows"))
    return plan
