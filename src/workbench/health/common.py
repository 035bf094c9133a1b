"""What every engine's health checks share: the accumulator they fill, and the index findings
(duplicate, redundant, foreign key without an index) written once from
:mod:`workbench.health.indexes`' comparisons, with each engine's DDL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from workbench import formatting as fmt
from workbench.findings import Finding
from workbench.health.indexes import ForeignKey, Index, covering_index, duplicates, redundant
from workbench.health.report import health_finding, size

__all__ = ["Checkup", "drop_index_sql", "foreign_key_findings", "index_findings"]

#: a table smaller than this needs no index for its foreign key (a scan is as quick)
FK_MIN_ROWS = 1_000


@dataclass
class Checkup:
    """What the checks of one engine found, what they looked at, and what they could not."""

    dialect: str
    findings: list[Finding] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def ran(self, *codes: str) -> None:
        self.checks.extend(c for c in codes if c not in self.checks)


def quote(name: str, dialect: str) -> str:
    """An identifier for DDL (quoted only when it must be)."""
    from workbench.rules.text import quote_ident

    return ".".join(quote_ident(part, dialect) for part in name.split("."))


def drop_index_sql(index: Index, dialect: str) -> str:
    """The statement that drops ``index`` on ``dialect`` without blocking writes where the
    engine can (PostgreSQL ``CONCURRENTLY``, MySQL/MariaDB ``LOCK=NONE``)."""
    if index.constraint and dialect == "postgresql":
        return (
            f"ALTER TABLE {quote(index.qualified_table, dialect)} "
            f"DROP CONSTRAINT {quote(index.constraint, dialect)}"
        )
    if dialect == "postgresql":
        return f"DROP INDEX CONCURRENTLY {quote(index.qualified, dialect)}"
    if dialect in ("mysql", "mariadb"):
        return (
            f"ALTER TABLE {quote(index.table, dialect)} DROP INDEX {quote(index.name, dialect)}, "
            "ALGORITHM=INPLACE, LOCK=NONE"
        )
    return f"DROP INDEX {quote(index.name, dialect)}"


def _keys(index: Index) -> str:
    shown = [
        f"{k} {d.upper()}" if d and d != "asc" else k
        for k, d in zip(index.keys, (*index.directions, *[""] * len(index.keys)), strict=False)
    ]
    text = f"({', '.join(shown)})"
    if index.include:
        text += f" INCLUDE ({', '.join(index.include)})"
    if index.predicate:
        text += f" WHERE {index.predicate}"
    return text


def _drop_risk(index: Index, dialect: str) -> str:
    if index.constraint:
        return (
            f"it enforces the constraint {index.constraint}: the other index must enforce the "
            "same rule before this one goes; ALTER TABLE takes an ACCESS EXCLUSIVE lock briefly"
        )
    if dialect == "postgresql":
        return (
            "low: queries that used it switch to the other index; CONCURRENTLY does not block "
            "writes (it cannot run inside a transaction block); check that no query hint or "
            "replica relies on it by name"
        )
    if dialect in ("mysql", "mariadb"):
        return "low: queries switch to the other index; check for FORCE INDEX hints naming it"
    return "low: queries that used it switch to the other index"


def index_findings(found: Checkup, indexes: Sequence[Index]) -> None:
    """``duplicate_index`` and ``redundant_index`` findings for ``indexes``."""
    dialect = found.dialect
    found.ran("duplicate_index", "redundant_index")
    dropped: set[str] = set()
    for keep, extra in duplicates(indexes):
        dropped.add(extra.qualified)
        found.findings.append(
            health_finding(
                "duplicate_index",
                "high" if (extra.bytes or 0) >= 100 * 1024**2 else "medium",
                f"{extra.name} duplicates {keep.name} on {extra.table} {_keys(extra)}",
                f"The indexes {keep.name} and {extra.name} of {extra.qualified_table} have the "
                f"same keys {_keys(extra)}"
                + (f", {size(extra.bytes)} each" if extra.bytes is not None else "")
                + ": every write maintains both, and the planner can use only one."
                + _scans(keep, extra),
                objects=[extra.qualified_table, keep.qualified, extra.qualified],
                evidence={
                    "table": extra.qualified_table,
                    "kept": keep.qualified,
                    "index": extra.qualified,
                    "keys": list(extra.keys),
                    "bytes": extra.bytes,
                    "scans": extra.scans,
                    "kept_scans": keep.scans,
                },
                fix=drop_index_sql(extra, dialect),
                expected_effect=_freed(extra),
                risk=_drop_risk(extra, dialect),
            )
        )
    for cover, short in redundant(indexes):
        if short.qualified in dropped:
            continue
        found.findings.append(
            health_finding(
                "redundant_index",
                "medium" if (short.bytes or 0) >= 100 * 1024**2 else "low",
                f"{short.name} {_keys(short)} is the leading part of {cover.name} "
                f"{_keys(cover)} on {short.table}",
                f"Every lookup {short.name} serves, {cover.name} serves too (its leading keys are "
                f"the same), so {short.name}"
                + (f" ({size(short.bytes)})" if short.bytes is not None else "")
                + " costs writes and space for little."
                + _scans(cover, short),
                objects=[short.qualified_table, cover.qualified, short.qualified],
                evidence={
                    "table": short.qualified_table,
                    "covered_by": cover.qualified,
                    "index": short.qualified,
                    "keys": list(short.keys),
                    "bytes": short.bytes,
                    "scans": short.scans,
                },
                fix=drop_index_sql(short, dialect),
                expected_effect=_freed(short),
                risk="medium: the shorter index is smaller, so a query reading many of its "
                "entries may get a little slower on the longer one; "
                + _drop_risk(short, dialect).split(": ", 1)[-1],
            )
        )


def _freed(index: Index) -> str:
    freed = f"{size(index.bytes)} freed; " if index.bytes is not None else ""
    return f"{freed}one index less to update on each write to {index.table}"


def _scans(keep: Index, other: Index) -> str:
    if keep.scans is None or other.scans is None:
        return ""
    return (
        f" Scans since the statistics began: {keep.name} {fmt.count(keep.scans)}, "
        f"{other.name} {fmt.count(other.scans)}."
    )


def foreign_key_findings(
    found: Checkup,
    keys: Sequence[ForeignKey],
    indexes: Sequence[Index],
    rows: Callable[[ForeignKey], float | None],
    create: Callable[[ForeignKey], str],
) -> None:
    """``unindexed_foreign_key`` for each key of a table of ≥ 1,000 rows that no index leads."""
    found.ran("unindexed_foreign_key")
    for fk in keys:
        if covering_index(fk, indexes) is not None:
            continue
        count = rows(fk)
        if count is None or count < FK_MIN_ROWS:
            continue
        cols = ", ".join(fk.columns)
        found.findings.append(
            health_finding(
                "unindexed_foreign_key",
                "medium" if count >= 100_000 else "low",
                f"Foreign key {fk.table}({cols}) → {fk.parent} has no index",
                f"{fk.qualified_table} ({fmt.count(count)} rows) references {fk.parent} through "
                f"{cols}, and no index starts with {cols}: the rows of one {fk.parent} row, "
                f"joins from {fk.parent}, and every delete or key update of a {fk.parent} row "
                f"read all of {fk.table}.",
                objects=[fk.qualified_table, fk.parent],
                evidence={
                    "table": fk.qualified_table,
                    "constraint": fk.name,
                    "columns": list(fk.columns),
                    "parent": fk.parent,
                    "table_rows": count,
                },
                fix=create(fk),
                expected_effect=f"lookups by {cols} read a few index entries instead of "
                f"{fmt.count(count)} rows; parent deletes stop scanning {fk.table}",
                risk="low: the build reads the table once (CONCURRENTLY on PostgreSQL does not "
                "block writes); each later write to the table updates one more index",
            )
        )
