"""PostgreSQL TEXT plans, as psql prints them, read into what ``EXPLAIN (FORMAT JSON)`` gives.

:func:`parse_pg_text` returns ONE element of the JSON format's list: ``{"Plan": {...}, "Planning
Time": ..., "Execution Time": ..., "Triggers": [...], "JIT": {...}, "Settings": {...}, ...}`` with
PostgreSQL's own field names and value types (explain.c), so a pasted text plan is handled
exactly like a captured JSON one. Where the text format leaves out a value the JSON format always
carries (zero buffer counters, ``Rows Removed by Filter: 0``, ``Join Type: Inner``...), the JSON
value is filled in; what the text cannot tell (``Inner Unique`` outside VERBOSE) is left out.

>>> parse_pg_text("Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)")["Plan"]["Node Type"]
'Seq Scan'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import PlanParseError
from workbench.plans.postgresql.frames import strip_psql_frames

__all__ = ["parse_pg_text", "strip_psql_frames"]

Node = dict[str, Any]
_EXPECTED = "a PostgreSQL EXPLAIN plan in TEXT format, e.g. 'Seq Scan on t  (cost=0.00..1.00 ...)'"

# -- the first line of a node: its name, then "(cost=...)", "(actual ...)", "(never executed)" --
_STATS_START = re.compile(r"\s*\((?:cost=|actual[ )]|never executed\))")
_STATS = re.compile(
    r"\s*(?:\(cost=(?P<sc>\d+\.\d+)\.\.(?P<tc>\d+\.\d+) rows=(?P<pr>\d+) width=(?P<pw>\d+)\)"
    r"|\(actual(?: time=(?P<as>\d+\.\d+)\.\.(?P<at>\d+\.\d+))? rows=(?P<ar>\d+(?:\.\d+)?)"
    r" loops=(?P<al>\d+)\)|\((?P<never>never executed)\))"
)
_IDENT = r'(?:"(?:[^"]|"")+"|[^\s".]+)'  # a name as quote_identifier() prints it
_TARGET = re.compile(rf"^(?P<a>{_IDENT})(?:\.(?P<b>{_IDENT}))?(?: (?P<alias>{_IDENT}))?$")
_JOIN_TYPES = r"Left|Right|Full|Semi|Anti|Right Semi|Right Anti"
# JSON key of the object a scan's "on ..." names (None: only an alias is printed).
_SCANS: dict[str, str | None] = {
    "Seq Scan": "Relation Name", "Sample Scan": "Relation Name", "Tid Scan": "Relation Name",
    "Bitmap Heap Scan": "Relation Name", "Tid Range Scan": "Relation Name",
    "Index Scan": "Relation Name", "Index Only Scan": "Relation Name",
    "Foreign Scan": "Relation Name", "Custom Scan": "Relation Name", "ModifyTable": "Relation Name",
    "Function Scan": "Function Name", "Table Function Scan": "Table Function Name",
    "CTE Scan": "CTE Name", "WorkTable Scan": "CTE Name",
    "Named Tuplestore Scan": "Tuplestore Name", "Subquery Scan": None, "Values Scan": None,
}  # fmt: skip
_PLAIN_SCANS = [
    s for s in _SCANS if s.endswith("Scan") and s.split()[0] not in ("Index", "Foreign", "Custom")
]
_SIMPLE = frozenset({  # nodes whose name is all there is
    "Result", "ProjectSet", "Append", "Merge Append", "Recursive Union", "BitmapAnd", "BitmapOr",
    "Gather", "Gather Merge", "Materialize", "Memoize", "Result Cache", "Sort", "Incremental Sort",
    "Group", "WindowAgg", "Unique", "LockRows", "Limit", "Hash",
})  # fmt: skip
# How explain.c spells a node in TEXT (pname) -> its JSON fields: each named group fills the field
# it names ("_" for a space), "target" is the "on [schema.]object [alias]" part.
_NAMES = [(re.compile(pattern), fields) for pattern, fields in [
    (rf"(?P<Node_Type>{'|'.join(_PLAIN_SCANS)}) on (?P<target>.+)", {}),
    (rf"(?P<Node_Type>Index Scan|Index Only Scan)(?: (?P<Scan_Direction>Backward))? using "
     rf"(?P<Index_Name>{_IDENT})(?: on (?P<target>.+))?", {"Scan Direction": "Forward"}),
    (rf"Nested Loop(?: (?P<Join_Type>{_JOIN_TYPES}) Join)?",
     {"Node Type": "Nested Loop", "Join Type": "Inner"}),
    *[(rf"{kind}(?: (?P<Join_Type>{_JOIN_TYPES}))? Join",
       {"Node Type": f"{kind} Join", "Join Type": "Inner"}) for kind in ("Hash", "Merge")],
    *[(rf"(?:(?P<Partial_Mode>Partial|Finalize) )?{name}",
       {"Node Type": "Aggregate", "Strategy": strategy, "Partial Mode": "Simple"})
      for name, strategy in (("Aggregate", "Plain"), ("GroupAggregate", "Sorted"),
                             ("HashAggregate", "Hashed"), ("MixedAggregate", "Mixed"))],
    (rf"Bitmap Index Scan on (?P<Index_Name>{_IDENT})", {"Node Type": "Bitmap Index Scan"}),
    (r"(?P<Operation>Insert|Update|Delete|Merge) on (?P<target>.+)", {"Node Type": "ModifyTable"}),
    (r"Foreign (?P<Operation>Insert|Update|Delete)(?: on (?P<target>.+))?",
     {"Node Type": "Foreign Scan"}),
    (r"Foreign Scan(?: on (?P<target>.+))?", {"Node Type": "Foreign Scan", "Operation": "Select"}),
    (r"Custom Scan \((?P<Custom_Plan_Provider>[^)]*)\)(?: on (?P<target>.+))?",
     {"Node Type": "Custom Scan"}),
    (r"SetOp(?: (?P<Command>(?:Intersect|Except)(?: All)?))?",
     {"Node Type": "SetOp", "Strategy": "Sorted"}),
    (r"HashSetOp(?: (?P<Command>(?:Intersect|Except)(?: All)?))?",
     {"Node Type": "SetOp", "Strategy": "Hashed"}),
    (rf"Subquery Scan (?P<Alias>{_IDENT})", {"Node Type": "Subquery Scan"}),  # PostgreSQL <= 8.4
]]  # fmt: skip
# JSON's order for the fields that come before the scan target and the costs.
_FIRST_FIELDS = ("Node Type", "Strategy", "Partial Mode", "Operation", "Parent Relationship",
                 "Subplan Name", "Custom Plan Provider", "Parallel Aware",
                 "Async Capable")  # fmt: skip

# -- the lines under a node ------------------------------------------------------------------
_ARROW = re.compile(r"->\s+")
_PROPERTY = re.compile(r"^(?P<key>[^:]+?):(?:\s+(?P<value>.*))?$")
_LABEL = re.compile(r"^(?:InitPlan|SubPlan)\b|^CTE \S")
_MODIFY_TARGET = re.compile(r"^(?:Foreign )?(?:Insert|Update|Delete|Merge) on (?P<target>.+)$")
_WORKER = re.compile(r"^Worker (?P<n>\d+):\s*(?P<rest>.*)$")
_WORKER_ACTUAL = re.compile(
    r"^actual(?: time=(?P<as>\d+\.\d+)\.\.(?P<at>\d+\.\d+))? rows=(?P<ar>[\d.]+) loops=(?P<al>\d+)$"
)
# The summary's times: TEXT spelling -> JSON field ("Planning time"/"Execution time" up to
# PostgreSQL 12, "Total runtime" up to 9.3).
_SUMMARY_TIMES = {"Planning Time": "Planning Time", "Planning time": "Planning Time",
                  "Execution Time": "Execution Time", "Execution time": "Execution Time",
                  "Total runtime": "Total Runtime"}  # fmt: skip
# Summary lines: they belong to the document, not to the node above them.
_TOP_KEYS = frozenset({*_SUMMARY_TIMES, "Planning", "JIT", "Settings", "Query Identifier",
                       "Serialization", "Triggers", "Query Text",
                       "Query Parameters"})  # fmt: skip
_LIST_KEYS = frozenset({"Output", "Sort Key", "Group Key", "Presorted Key", "Hash Key",
                        "Conflict Arbiter Indexes", "Sampling Parameters",
                        "Sort Methods Used"})  # fmt: skip
_BOOL_KEYS = frozenset({"Disabled", "Single Copy", "Inner Unique", "Async Capable"})
# Expressions stay text even when they look like a number ("Cache Key: 1").
_TEXT_KEYS = frozenset({"Filter", "Join Filter", "Index Cond", "Recheck Cond", "Hash Cond",
                        "Merge Cond", "TID Cond", "One-Time Filter", "Order By", "Run Condition",
                        "Cache Key", "Cache Mode", "Function Call", "Table Function Call",
                        "Conflict Filter", "Remote SQL", "Relations", "Window",
                        "Repeatable Seed"})  # fmt: skip
# Under ANALYZE, JSON counts the rows each qual removed even when none were (TEXT omits zeros).
_REMOVED_BY = {
    "Filter": "Rows Removed by Filter",
    "Join Filter": "Rows Removed by Join Filter",
    "Recheck Cond": "Rows Removed by Index Recheck",
}
_MEMBER_PARENTS = frozenset({"Append", "Merge Append", "BitmapAnd", "BitmapOr"})
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_COUNTERS = re.compile(r"(?P<k>[a-z][a-z ]*?)=(?P<v>\d+(?:\.\d+)?)")  # "hit=1 read=2"
_BUFFER_KEYS = (
    "Shared Hit Blocks", "Shared Read Blocks", "Shared Dirtied Blocks", "Shared Written Blocks",
    "Local Hit Blocks", "Local Read Blocks", "Local Dirtied Blocks", "Local Written Blocks",
    "Temp Read Blocks", "Temp Written Blocks",
)  # fmt: skip
# Lines of name=value counters: their JSON names, and how many of them JSON always prints (TEXT
# leaves zeros out; "WAL Buffers Full" is PostgreSQL 18's, so it is only known when printed).
_COUNTER_LINES: dict[str, tuple[dict[str, str], int]] = {
    "Heap Blocks": ({"exact": "Exact Heap Blocks", "lossy": "Lossy Heap Blocks"}, 2),
    "Tuples": ({"inserted": "Tuples Inserted", "updated": "Tuples Updated",
                "deleted": "Tuples Deleted", "skipped": "Tuples Skipped"}, 4),
    "WAL": ({"records": "WAL Records", "fpi": "WAL FPI", "bytes": "WAL Bytes",
             "buffers full": "WAL Buffers Full"}, 3),
    "Memory": ({"used": "Memory Used", "allocated": "Memory Allocated"}, 0),
}  # fmt: skip
# Lines of a fixed shape: each named group is the JSON field it fills ("_" for a space).
_SHAPES = {key: re.compile(shape) for key, shape in {
    "Sort Method": r"(?P<Sort_Method>.+?)\s+(?P<Sort_Space_Type>Memory|Disk):\s+"
                   r"(?P<Sort_Space_Used>\d+)kB",
    "Buckets": r"(?P<Hash_Buckets>\d+)(?: \(originally (?P<Original_Hash_Buckets>\d+)\))?\s+"
               r"Batches: (?P<Hash_Batches>\d+)(?: \(originally (?P<Original_Hash_Batches>\d+)\))?"
               r"\s+Memory Usage: (?P<Peak_Memory_Usage>\d+)kB",
    "Hits": r"(?P<Cache_Hits>\d+)\s+Misses: (?P<Cache_Misses>\d+)\s+Evictions: "
            r"(?P<Cache_Evictions>\d+)\s+Overflows: (?P<Cache_Overflows>\d+)\s+"
            r"Memory Usage: (?P<Peak_Memory_Usage>\d+)kB",
    "Planned Partitions": r"(?P<Planned_Partitions>\d+)(?:\s+Batches: (?P<HashAgg_Batches>\d+)"
                          r"\s+Memory Usage: (?P<Peak_Memory_Usage>\d+)kB"
                          r"(?:\s+Disk Usage: (?P<Disk_Usage>\d+)kB)?)?",
    "Batches": r"(?P<HashAgg_Batches>\d+)\s+Memory Usage: (?P<Peak_Memory_Usage>\d+)kB"
               r"(?:\s+Disk Usage: (?P<Disk_Usage>\d+)kB)?",
    "Storage": r"(?P<Storage>\S+)\s+Maximum Storage: (?P<Maximum_Storage>\d+)kB",
    "Sampling": r"(?P<Sampling_Method>\S+) \((?P<Sampling_Parameters>.*?)\)"
                r"(?: REPEATABLE \((?P<Repeatable_Seed>.*)\))?",
    "Full-sort Groups": r"(?P<Group_Count>\d+)\s+Sort Methods?: (?P<Sort_Methods_Used>.*?)"
                        r"(?P<space>(?:\s+Average .*)?)",
}.items()}  # fmt: skip
# Fields JSON always has that TEXT leaves out: Hash prints "(originally N)" only when the count
# changed (else the original is the count), HashAggregate prints "Disk Usage" once it spilled.
_SHAPE_DEFAULTS = {
    "Original Hash Buckets": "Hash Buckets",
    "Original Hash Batches": "Hash Batches",
    "Disk Usage": "HashAgg Batches",
}
_SHAPES["Pre-sorted Groups"] = _SHAPES["Full-sort Groups"]
_GROUP_SPACE = re.compile(r"Average (?P<t>Memory|Disk): (?P<avg>\d+)kB\s+Peak \w+: (?P<peak>\d+)kB")
_SETTING = re.compile(r"(?P<name>[\w.]+) = (?:'(?P<value>.*?)'|NULL)(?=, [\w.]+ = |$)")
_TRIGGER = re.compile(
    r"^Trigger(?: (?!for constraint )(?P<name>.+?))?(?: for constraint (?P<con>.+?))?"
    r"(?: on (?P<rel>.+?))?: (?:time=(?P<time>[\d.]+) )?calls=(?P<calls>\d+)$"
)
_JIT_TIMING = re.compile(r"(?P<k>\w+) (?P<v>[\d.]+) ms(?: \((?P<sub>\w+) (?P<subv>[\d.]+) ms\))?")


def parse_pg_text(text: str) -> dict[str, Any]:
    """Parse a TEXT plan (psql frames allowed) into one element of ``EXPLAIN (FORMAT JSON)``.

    Raises:
        PlanParseError: when ``text`` is not a PostgreSQL TEXT plan (empty, prose, a JSON
            document, a truncated line); never another exception type.
    """
    if not isinstance(text, str):
        raise PlanParseError(f"expected the plan as text, got {type(text).__name__}")
    try:
        clean = strip_psql_frames(text)
        if not clean.strip():
            raise PlanParseError("no plan found: the text is empty", hint=f"paste {_EXPECTED}")
        if clean.lstrip()[:1] in ("[", "{"):
            raise PlanParseError(
                "this is a JSON plan, not a TEXT plan",
                hint="read it with json.loads() or wb.parse_plan(), which accept both",
            )
        return _Parser(clean).run()
    except PlanParseError:
        raise
    except Exception as exc:  # a parser bug must still surface as the documented error
        raise PlanParseError(
            f"could not read the text plan ({type(exc).__name__}: {exc})",
            hint=f"expected {_EXPECTED}",
        ) from exc


@dataclass
class _Open:
    """A node whose children may still follow, and the subplan label it is under, if any."""

    node: Node
    column: int  # where the node's name starts: its children's "->" are further right
    label: str | None = None
    label_column: int = 0


@dataclass
class _Context:
    """Where a detail line goes: a node, a worker, a "Planning:"/"JIT:" block, the document."""

    target: dict[str, Any]
    column: int
    kind: str


@dataclass
class _Parser:
    """One pass over the lines, building the tree from indentation.

    explain.c indents a child's "->" two columns right of its parent's name, a subplan label
    ("InitPlan 1", "CTE x") and the node's details two columns right of its name, and prints
    details before children; so a line belongs to the last open node left of it. Columns are only
    compared, never computed, so a paste that lost the first line's indentation still parses.
    """

    text: str
    doc: dict[str, Any] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    open: list[_Open] = field(default_factory=list)
    contexts: list[_Context] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)  # "Buffers"/"WAL" lines seen on some node
    io_eras: set[str] = field(default_factory=set)  # spellings of the "I/O Timings" lines seen
    io_temp_only: list[Node] = field(default_factory=list)  # their owners when ambiguous

    def run(self) -> dict[str, Any]:
        for number, line in enumerate(self.text.split("\n")):
            column = len(line) - len(line.lstrip())
            content = line.strip()
            if number == 0 or content.startswith("->"):
                self._node_line(content, column, root=number == 0)
            elif _LABEL.match(content) and not _PROPERTY.match(content):
                self._label_line(content, column)
            else:
                self._detail_line(content, column)
        _name_temp_only_io_timings(self.io_temp_only, self._io_era())
        _complete(self.doc, self.nodes, self.flags)
        return self.doc

    def _io_era(self) -> str:
        """The I/O timing spelling of the whole document, for its "temp"-only lines."""
        if "17" in self.io_eras or any(isinstance(n.get("Actual Rows"), float) for n in self.nodes):
            return "17"  # PostgreSQL 18 prints "rows=1.00": it spells the areas out too
        return "15"  # like PEV2: the names PostgreSQL 15 and 16 give

    def _node_line(self, content: str, column: int, *, root: bool) -> None:
        arrow = _ARROW.match(content)
        head = content[arrow.end() :] if arrow else content
        start = column + (arrow.end() if arrow else 0)
        if root:
            node = _read_node(head, strict=True)
            self.doc["Plan"] = node
        else:
            while len(self.open) > 1 and self.open[-1].column >= column:
                self.open.pop()
            parent = self.open[-1]
            if parent.label is not None and column <= parent.label_column:
                parent.label = None  # a plain child after the labelled ones (Outer after InitPlan)
            label = parent.label
            relationship = None  # Outer, Inner, Member...: settled once all children are known
            if label:
                relationship = "SubPlan" if label.startswith("SubPlan") else "InitPlan"
            node = _read_node(head, strict=False, relationship=relationship, name=label)
            parent.node.setdefault("Plans", []).append(node)
        self.nodes.append(node)
        self.open.append(_Open(node, start))
        self.contexts = [_Context(node, start, "node")]

    def _label_line(self, content: str, column: int) -> None:
        while len(self.open) > 1 and self.open[-1].column >= column:
            self.open.pop()
        self.open[-1].label, self.open[-1].label_column = content, column

    def _detail_line(self, content: str, column: int) -> None:
        while len(self.contexts) > 1 and self.contexts[-1].column >= column:
            self.contexts.pop()
        ctx = self.contexts[-1]
        worker = _WORKER.match(content) if content.startswith("Worker ") else None
        prop = _PROPERTY.match(content)
        key = prop["key"] if prop else ""
        if ctx.kind in ("node", "document") and (key in _TOP_KEYS or key.startswith("Trigger")):
            self.contexts = [ctx := _Context(self.doc, -1, "document")]
        if worker and ctx.kind == "node":
            self._worker_line(ctx.target, worker, column)
        elif (
            ctx.kind == "node"
            and ctx.target["Node Type"] == "ModifyTable"
            and (target := _MODIFY_TARGET.match(content))
        ):
            table = _target_fields("Relation Name", target["target"])
            ctx.target.setdefault("Target Tables", []).append(table)
            self.contexts.append(_Context(table, column, "target"))
        elif prop:
            self._property(ctx, key, prop["value"] or "", column)
        elif _STATS_START.search(content):  # a second root node: psql printed several plans
            raise PlanParseError(
                "the text holds more than one plan", hint="parse one EXPLAIN output at a time"
            )

    def _worker_line(self, node: Node, match: re.Match[str], column: int) -> None:
        workers = node.setdefault("Workers", [])
        number = int(match["n"])
        worker = next((w for w in workers if w["Worker Number"] == number), None)
        if worker is None:
            workers.append(worker := {"Worker Number": number})
        ctx = _Context(worker, column, "worker")
        self.contexts.append(ctx)
        rest = match["rest"]
        if actual := _WORKER_ACTUAL.match(rest):
            worker.update(_actuals(actual))
        elif prop := _PROPERTY.match(rest):
            self._property(ctx, prop["key"], prop["value"] or "", column + 2)

    def _property(self, ctx: _Context, key: str, value: str, column: int) -> None:
        target = ctx.target
        if not value and ctx.kind != "jit":  # "Planning:", "JIT:": the lines below belong to it
            block: dict[str, Any] = {}
            target[key] = block
            self.contexts.append(_Context(block, column, key.lower()))
        elif ctx.kind == "document":
            _document_property(target, key, value, self.contexts, column)
        elif ctx.kind == "jit":
            _jit_property(target, key, value)
        elif key == "I/O Timings":
            era = _io_era(value)
            if era is None:
                self.io_temp_only.append(target)
            else:
                self.io_eras.add(era)
            _io_timings(target, value, era)
        elif handler := _HANDLERS.get(key):
            handler(target, key, value)
            if key in ("Buffers", "WAL") and ctx.kind == "node":
                self.flags.add(key)
        elif (
            key in ("Group Key", "Hash Key", "Sort Key") and target.get("Node Type") == "Aggregate"
        ):
            _grouping_key(target, key, value)
        else:
            target[key] = _scalar(key, value)


# -- reading a node's first line --------------------------------------------------------------


def _read_node(
    head: str, *, strict: bool, relationship: str | None = None, name: str | None = None
) -> Node:
    start = _STATS_START.search(head)
    stats: Node = {}
    if start:
        stats = _read_stats(head[start.start() :])
        head = head[: start.start()]
    fields = _describe(head.strip(), strict=strict and not stats)
    if not strict:
        fields["Parent Relationship"] = relationship  # None: Outer/Inner/... set in _complete
    if name is not None:
        fields["Subplan Name"] = name
    node = {key: fields.pop(key) for key in _FIRST_FIELDS if key in fields}
    node.update(fields)
    node.update(stats)
    return node


def _read_stats(tail: str) -> Node:
    stats: Node = {}
    pos = 0
    while pos < len(tail.rstrip()):
        m = _STATS.match(tail, pos)
        if not m:
            raise PlanParseError(
                f"cannot read the statistics {tail.strip()!r}: is the line truncated?",
                hint=f"expected {_EXPECTED}",
            )
        if m["sc"] is not None:
            stats["Startup Cost"], stats["Total Cost"] = float(m["sc"]), float(m["tc"])
            stats["Plan Rows"], stats["Plan Width"] = int(m["pr"]), int(m["pw"])
        elif m["never"]:
            stats.update({"Actual Rows": 0, "Actual Loops": 0, "_never": True})
        else:
            stats.update(_actuals(m))
        pos = m.end()
    return stats


def _actuals(m: re.Match[str]) -> Node:
    out: Node = {}
    if m["as"] is not None:
        out["Actual Startup Time"] = float(m["as"])
        out["Actual Total Time"] = float(m["at"])
    out["Actual Rows"] = _number(m["ar"])  # PostgreSQL 18 prints "rows=1.00": a float there too
    out["Actual Loops"] = int(m["al"])
    return out


def _describe(head: str, *, strict: bool) -> Node:
    """The fields a node's name carries: "Parallel Index Only Scan Backward using i on s.t x"."""
    fields: Node = {"Parallel Aware": head.startswith("Parallel ")}
    head = head.removeprefix("Parallel ")
    fields["Async Capable"] = head.startswith("Async ")
    head = head.removeprefix("Async ")
    if head in _SIMPLE:
        return {"Node Type": head, **fields}
    for pattern, implied in _NAMES:
        if m := pattern.fullmatch(head):
            groups = m.groupdict()
            target = groups.pop("target", None)
            fields.update(implied)
            fields.update({g.replace("_", " "): _unquote(v) for g, v in groups.items() if v})
            if target is not None:
                fields.update(_target_fields(_SCANS[fields["Node Type"]], target))
            return fields
    if strict or not head:
        shown = head if len(head) <= 60 else head[:57] + "..."
        raise PlanParseError(f"not a plan node: {shown!r}", hint=f"expected {_EXPECTED}")
    return {"Node Type": head, **fields}  # an extension's node: keep its name as printed


def _target_fields(key: str | None, target: str) -> Node:
    """ "s.t x" -> Relation Name t, Schema s, Alias x: JSON always names the alias."""
    m = _TARGET.match(target.strip())
    if not m:
        return {key or "Alias": target.strip()}
    first, second, alias = m["a"], m["b"], m["alias"]
    if key is None:  # Subquery/Values Scan print only the alias
        return {"Alias": _unquote(alias or second or first)}
    schema, name = (first, second) if second else (None, first)
    out: Node = {key: _unquote(name)}
    if schema:
        out["Schema"] = _unquote(schema)
    out["Alias"] = _unquote(alias or name)
    return out


def _unquote(ident: str) -> str:
    if len(ident) >= 2 and ident[0] == ident[-1] == '"':
        return ident[1:-1].replace('""', '"')
    return ident


# -- values of the detail lines ---------------------------------------------------------------


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _scalar(key: str, value: str) -> Any:
    if key in _LIST_KEYS:
        return _split_list(value)
    if key in _BOOL_KEYS:
        return value == "true"
    if key not in _TEXT_KEYS and _NUMBER.match(value):
        return _number(value)
    return value


def _split_list(value: str) -> list[str]:
    """Split "a, f(b, c), 'x, y'" at its top-level commas (explain.c joins lists with ", ")."""
    items: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(value):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0 and value.startswith(", ", i):
            items.append(value[start:i])
            start = i + 2
    items.append(value[start:])
    return [item.strip() for item in items if item.strip()]


def _shaped(target: Node, key: str, value: str) -> None:
    m = _SHAPES[key].fullmatch(value)
    if not m:
        target[key] = value  # an unknown variant: keep the text rather than lose it
        return
    fields = {name.replace("_", " "): raw for name, raw in m.groupdict().items() if raw is not None}
    space = fields.pop("space", None)
    for name, raw in fields.items():
        target[name] = _split_list(raw) if name in _LIST_KEYS else _scalar(name, raw)
    for name, source in _SHAPE_DEFAULTS.items():
        if source in fields:
            target.setdefault(name, target[source] if name.startswith("Original") else 0)
    if space is not None:  # Incremental Sort: "Full-sort Groups" is an object in JSON
        group = {name: target.pop(name) for name in ("Group Count", "Sort Methods Used")}
        for s in _GROUP_SPACE.finditer(space):
            average, peak = int(s["avg"]), int(s["peak"])
            group[f"Sort Space {s['t']}"] = {
                "Average Sort Space Used": average,
                "Peak Sort Space Used": peak,
            }
        target[key] = group


def _counter_line(target: Node, key: str, value: str) -> None:
    """ "Heap Blocks: exact=12 lossy=3": JSON names every counter, zeros included."""
    names, always = _COUNTER_LINES[key]
    for name in list(names.values())[:always]:
        target.setdefault(name, 0)
    for m in _COUNTERS.finditer(value):
        if m["k"] in names:
            target[names[m["k"]]] = _number(m["v"])


def _buffers(target: Node, key: str, value: str) -> None:
    """ "shared hit=1 read=2, local written=3, temp read=4": JSON has every counter, zeros too."""
    for name in _BUFFER_KEYS:
        target.setdefault(name, 0)
    for group in value.split(","):
        area, _, counters = group.strip().partition(" ")
        for m in _COUNTERS.finditer(counters):
            name = f"{area.capitalize()} {m['k'].capitalize()} Blocks"
            if name in _BUFFER_KEYS:
                target[name] = _number(m["v"])


# The areas an "I/O Timings" line names, by spelling, and the prefix of their JSON fields.
_IO_AREAS = {
    "": {"": ""},  # PostgreSQL <= 14: "read=1.0 write=2.0"
    "15": {"shared/local": "", "temp": "Temp "},  # 15, 16: "shared/local read=1.0, temp ..."
    "17": {"shared": "Shared ", "local": "Local ", "temp": "Temp "},  # 17+: each area alone
}


def _io_era(value: str) -> str | None:
    """Which spelling an "I/O Timings" line has (a key of ``_IO_AREAS``); ``None`` when it only
    has "temp" timings, which PostgreSQL 15-16 and 17+ print alike (the document decides)."""
    areas = {group.strip().partition(" ")[0] for group in value.split(",")}
    if "shared/local" in areas:
        return "15"
    if areas & {"shared", "local"}:
        return "17"
    return None if "temp" in areas else ""


def _io_timings(target: Node, value: str, era: str | None) -> None:
    """ "I/O Timings: ...": JSON has every field of the version's spelling, zeros included."""
    groups = [g.strip() for g in value.split(",")]
    if era == "":
        groups = [f" {g}" for g in groups]
    areas = _IO_AREAS[era] if era is not None else {"temp": "Temp "}
    for prefix in areas.values():
        target.setdefault(f"{prefix}I/O Read Time", 0.0)
        target.setdefault(f"{prefix}I/O Write Time", 0.0)
    for group in groups:
        area, _, counters = group.partition(" ")
        if area not in areas:
            continue
        for m in _COUNTERS.finditer(counters):
            if m["k"] in ("read", "write"):
                target[f"{areas[area]}I/O {m['k'].capitalize()} Time"] = float(m["v"])


def _name_temp_only_io_timings(targets: list[Node], era: str) -> None:
    """A "temp"-only line stands for the shared/local fields too (zero: TEXT left them out),
    under the names of the document's PostgreSQL version; JSON puts them before "Temp"."""
    for target in targets:
        temp = {key: target.pop(key) for key in ("Temp I/O Read Time", "Temp I/O Write Time")}
        for prefix in _IO_AREAS[era].values():
            target.setdefault(f"{prefix}I/O Read Time", 0.0)
            target.setdefault(f"{prefix}I/O Write Time", 0.0)
        target.update(temp)


_HANDLERS: dict[str, Callable[[Node, str, str], None]] = {
    **dict.fromkeys(_SHAPES, _shaped),
    **dict.fromkeys(_COUNTER_LINES, _counter_line),
    "Buffers": _buffers,
}


def _grouping_key(node: Node, key: str, value: str) -> None:
    """Aggregates print GROUPING SETS as several "Group Key"/"Hash Key" lines (a "Sort Key" opens
    a sorted set); JSON nests them in "Grouping Sets"."""
    keys = [] if value == "()" else _split_list(value)
    sets = node.get("Grouping Sets")
    if sets is None and key == "Group Key" and "Group Key" not in node:
        node["Group Key"] = keys  # the common case: one plain GROUP BY
        return
    if sets is None:
        first = [{"Group Keys": [node.pop("Group Key")]}] if "Group Key" in node else []
        sets = node["Grouping Sets"] = first
    plural = f"{key}s"
    if key == "Sort Key":
        sets.append({"Sort Key": keys})
    elif sets and (plural in sets[-1] or ("Sort Key" in sets[-1] and len(sets[-1]) == 1)):
        sets[-1].setdefault(plural, []).append(keys)
    else:
        sets.append({plural: [keys]})


def _jit_property(target: dict[str, Any], key: str, value: str) -> None:
    if key == "Options":
        target["Options"] = {
            name: flag == "true"
            for name, _, flag in (item.partition(" ") for item in value.split(", "))
        }
    elif key == "Timing":
        timing: dict[str, Any] = {}
        for m in _JIT_TIMING.finditer(value):
            total = float(m["v"])  # PostgreSQL 17+ nests "Deform" under "Generation"
            timing[m["k"]] = {m["sub"]: float(m["subv"]), "Total": total} if m["sub"] else total
        target["Timing"] = timing
    else:
        target[key] = _scalar(key, value)


def _document_property(
    doc: dict[str, Any], key: str, value: str, contexts: list[_Context], column: int
) -> None:
    if key in _SUMMARY_TIMES:
        doc[_SUMMARY_TIMES[key]] = float(value.split()[0])
    elif key == "Settings":
        doc["Settings"] = {m["name"]: m["value"] for m in _SETTING.finditer(value)}
    elif key == "Serialization":
        serialization: dict[str, Any] = {}
        names = {"time": "Time", "output": "Output Volume", "format": "Format"}
        for name, _, raw in (item.partition("=") for item in value.split()):
            if name in names:
                raw = raw.removesuffix("kB")
                serialization[names[name]] = _number(raw) if _NUMBER.match(raw) else raw
        doc["Serialization"] = serialization
        contexts.append(_Context(serialization, column, "serialization"))
    elif key.startswith("Trigger") and (m := _TRIGGER.match(f"{key}: {value}")):
        trigger = {"Trigger Name": m["name"], "Constraint Name": m["con"], "Relation": m["rel"]}
        trigger = {name: value for name, value in trigger.items() if value is not None}
        if m["time"]:
            trigger["Time"] = float(m["time"])
        doc.setdefault("Triggers", []).append(trigger | {"Calls": int(m["calls"])})
    else:
        doc[key] = _scalar(key, value)


# -- what JSON always carries and TEXT prints only when non-zero --------------------------------


def _complete(doc: dict[str, Any], nodes: list[Node], flags: set[str]) -> None:
    analyzed = any("Actual Loops" in node for node in nodes)
    timing = any("Actual Total Time" in node for node in nodes)
    for node in nodes:
        _settle_relationships(node)
        kind = node["Node Type"]
        if node.pop("_never", False) and timing:
            # never executed: JSON prints zero times (when timing was on), rows and loops
            node["Actual Startup Time"] = node["Actual Total Time"] = 0.0
        if analyzed:
            for qual, removed in _REMOVED_BY.items():
                if qual in node:
                    node.setdefault(removed, 0)
            if kind == "Index Scan" and "Index Cond" in node:  # its index quals are rechecked too
                node.setdefault("Rows Removed by Index Recheck", 0)
            if kind == "Bitmap Heap Scan":
                node.setdefault("Exact Heap Blocks", 0)
                node.setdefault("Lossy Heap Blocks", 0)
        if kind == "Gather":
            node.setdefault("Single Copy", False)
        if kind in ("Append", "Merge Append"):
            node.setdefault("Subplans Removed", 0)
        if "Buffers" in flags and "Shared Hit Blocks" not in node:
            _buffers(node, "Buffers", "")
        if "WAL" in flags and "WAL Records" not in node:
            _counter_line(node, "WAL", "")
    if analyzed:
        doc.setdefault("Triggers", [])


def _settle_relationships(parent: Node) -> None:
    """Children not under an InitPlan/SubPlan label: Outer, Inner, Member, Subquery..."""
    plain = [child for child in parent.get("Plans", ()) if child["Parent Relationship"] is None]
    kind = parent["Node Type"]
    for i, child in enumerate(plain):
        if kind in _MEMBER_PARENTS or (kind == "ModifyTable" and len(plain) > 1):
            child["Parent Relationship"] = "Member"  # ModifyTable had members before PG 14
        elif kind == "Subquery Scan":
            child["Parent Relationship"] = "Subquery"
        elif kind == "Custom Scan":
            child["Parent Relationship"] = "child" if len(plain) == 1 else "children"
        else:
            child["Parent Relationship"] = ("Outer", "Inner")[i] if i < 2 else "Member"
