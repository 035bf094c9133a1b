"""Indexes as plain values, and the questions health checks and the advisor ask of them: which
two are duplicates, which one another makes redundant, which foreign key has none, whether a
proposed index already exists.

Engine-neutral: each engine's catalogue fills :class:`Index` (key columns or expressions in
order, each key's direction, opclass and collation, INCLUDE columns, predicate, method), and
the comparisons here decide. Two indexes compare equal only when every one of those matches:
``(a DESC)`` is not ``(a)`` for a composite sort, ``(lower(email))`` is not ``(email)``, a
partial index is not its full twin.

>>> a = Index("orders", "orders_created_at_idx", ("created_at",))
>>> b = Index("orders", "orders_created_idx", ("created_at",))
>>> [(keep.name, drop.name) for keep, drop in duplicates([a, b])]
[('orders_created_at_idx', 'orders_created_idx')]
>>> c = Index("orders", "orders_status_created_idx", ("status", "created_at"))
>>> s = Index("orders", "orders_status_idx", ("status",))
>>> [(cover.name, extra.name) for cover, extra in redundant([c, s])]
[('orders_status_created_idx', 'orders_status_idx')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["ForeignKey", "Index", "covering_index", "duplicates", "normalize_key", "redundant"]

#: access methods whose leading columns serve lookups, ranges and order (a prefix is usable)
ORDERED = frozenset({"btree", "rowid", "art", ""})


def normalize_key(text: str) -> str:
    """A key column or expression as a comparable string: quotes, casts to text and spaces
    removed, lower case (``lower((email)::text)`` → ``lower(email)``)."""
    text = text.lower()
    text = re.sub(r"::\s*(text|character varying|varchar|bpchar|name)(\[\])?", "", text)
    text = re.sub(r"[\"`\s\[\]]", "", text)
    while True:  # "((email))" → "email"
        reduced = re.sub(r"(?<![\w)])\(([\w.]+)\)", r"\1", text)
        if reduced == text:
            return text
        text = reduced


@dataclass(frozen=True)
class Index:
    """One index as the checks compare it.

    ``keys`` are the key columns or expressions in order; ``directions`` one entry per key
    (``"asc"``, ``"desc"``, with ``" nulls first"``/``" nulls last"`` where it is not the
    default); ``opclasses`` and ``collations`` one entry per key (``""`` for the default).
    ``constraint`` names the primary key, unique or exclusion constraint the index enforces
    (dropping it means ``ALTER TABLE ... DROP CONSTRAINT``). ``scans`` counts the scans the
    engine recorded (``None``: it does not count them).
    """

    table: str
    name: str
    keys: tuple[str, ...]
    directions: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    method: str = "btree"
    unique: bool = False
    primary: bool = False
    constraint: str | None = None
    predicate: str | None = None
    valid: bool = True
    schema: str | None = None
    opclasses: tuple[str, ...] = ()
    collations: tuple[str, ...] = ()
    bytes: int | None = None
    scans: int | None = None
    definition: str | None = None
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table

    @property
    def enforces(self) -> bool:
        """It enforces something (primary key, uniqueness, a constraint): not a mere speed-up."""
        return self.primary or self.unique or self.constraint is not None

    def _key(self, i: int) -> tuple[str, str, str, str]:
        def at(values: tuple[str, ...]) -> str:
            return values[i].lower() if i < len(values) and values[i] else ""

        direction = at(self.directions) or "asc"
        return normalize_key(self.keys[i]), direction, at(self.opclasses), at(self.collations)

    def key_signature(self) -> tuple[tuple[str, str, str, str], ...]:
        return tuple(self._key(i) for i in range(len(self.keys)))

    def same_shape(self, other: Index) -> bool:
        """Same table, method, predicate: the precondition of every comparison."""
        return (
            self.qualified_table == other.qualified_table
            and self.method.lower() == other.method.lower()
            and normalize_key(self.predicate or "") == normalize_key(other.predicate or "")
        )

    def starts(self, other: Index) -> bool:
        """This index's keys are the leading keys of ``other`` (equal counts as leading)."""
        mine, theirs = self.key_signature(), other.key_signature()
        return len(mine) <= len(theirs) and theirs[: len(mine)] == mine


def duplicates(indexes: Iterable[Index]) -> list[tuple[Index, Index]]:
    """``(kept, duplicate)`` pairs: same table, method, keys (with direction, opclass and
    collation), predicate and INCLUDE columns. The one kept is the one that enforces
    something, else the one scanned most, else the first by name."""
    found: list[tuple[Index, Index]] = []
    groups: dict[tuple[object, ...], list[Index]] = {}
    for index in indexes:
        if not index.valid or not index.keys:
            continue
        key = (
            index.qualified_table,
            index.method.lower(),
            index.key_signature(),
            normalize_key(index.predicate or ""),
            tuple(sorted(normalize_key(c) for c in index.include)),
        )
        groups.setdefault(key, []).append(index)
    for group in groups.values():
        if len(group) < 2:
            continue
        ranked = sorted(group, key=_keep_order)
        found.extend((ranked[0], other) for other in ranked[1:])
    return found


def _keep_order(index: Index) -> tuple[int, int, int, int, str]:
    created = index.extra.get("created")  # PostgreSQL: the OID, which grows with creation
    return (
        0 if index.primary else 1,
        0 if index.enforces else 1,
        -(index.scans or 0),
        created if isinstance(created, int) else 0,
        index.name,
    )


def redundant(indexes: Sequence[Index]) -> list[tuple[Index, Index]]:
    """``(covering, redundant)`` pairs: an ordered (B-tree-like) index whose keys lead a longer
    index of the same table, method and predicate, that enforces nothing and whose INCLUDE
    columns the longer one also carries. Exact duplicates are :func:`duplicates`' business."""
    found = []
    for short in indexes:
        if not short.valid or short.enforces or short.method.lower() not in ORDERED:
            continue
        for long in indexes:
            if long is short or not long.valid or len(long.keys) <= len(short.keys):
                continue
            if not short.same_shape(long) or not short.starts(long):
                continue
            carried = {normalize_key(c) for c in (*long.keys, *long.include)}
            if all(normalize_key(c) in carried for c in short.include):
                found.append((long, short))
                break
    return found


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key of ``table`` on ``columns``, referencing ``parent``."""

    table: str
    name: str
    columns: tuple[str, ...]
    parent: str
    schema: str | None = None

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table


def covering_index(fk: ForeignKey, indexes: Iterable[Index]) -> Index | None:
    """An ordered, valid, non-partial index whose leading keys are the key's columns (in any
    order): what a lookup of the child rows of one parent row, or a parent delete, can use."""
    wanted = {normalize_key(c) for c in fk.columns}
    for index in indexes:
        if index.qualified_table != fk.qualified_table or not index.valid or index.predicate:
            continue
        if index.method.lower() not in ORDERED:
            continue
        leading = {normalize_key(k) for k in index.keys[: len(wanted)]}
        if leading == wanted:
            return index
    return None


def existing_for(
    table: str,
    columns: Sequence[str],
    indexes: Iterable[Index],
    *,
    directions: Sequence[str] = (),
    predicate: str | None = None,
    schema: str | None = None,
) -> Index | None:
    """An existing index that already serves an index on ``columns`` (with ``directions`` and
    ``predicate``): its leading keys are those columns in that order, with the same directions
    or all of them reversed (a backward scan serves ``DESC``), and the same predicate (or none,
    which serves a partial index's queries too)."""
    wanted = [normalize_key(c) for c in columns]
    asked = [(d or "asc").lower() for d in directions] or ["asc"] * len(wanted)
    asked += ["asc"] * (len(wanted) - len(asked))
    for index in indexes:
        if index.table.lower() != table.lower() or not index.valid:
            continue
        if schema and index.schema and index.schema.lower() != schema.lower():
            continue
        if index.method.lower() not in ORDERED or len(index.keys) < len(wanted):
            continue
        if index.predicate and normalize_key(index.predicate) != normalize_key(predicate or ""):
            continue
        signature = index.key_signature()[: len(wanted)]
        if [k for k, _, _, _ in signature] != wanted:
            continue
        have = [d for _, d, _, _ in signature]
        if have == asked or have == [_reversed(d) for d in asked]:
            return index
    return None


def _reversed(direction: str) -> str:
    flipped = "desc" if direction.startswith("asc") else "asc"
    if "nulls first" in direction:
        return flipped + " nulls last"
    if "nulls last" in direction:
        return flipped + " nulls first"
    return flipped
