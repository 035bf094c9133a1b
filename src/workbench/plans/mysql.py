"""MySQL and MariaDB plans → :class:`Plan`.

Three shapes:

* ``EXPLAIN FORMAT=JSON`` (MySQL and MariaDB): nested blocks (``query_block``, ``nested_loop``,
  ``ordering_operation``/``filesort``, ``temporary_table``, subqueries) around ``table`` entries;
* MariaDB ``ANALYZE FORMAT=JSON``: the same, plus ``r_loops``, ``r_rows``, ``r_filtered`` and
  times (``r_total_time_ms`` of a block includes what it drives; ``r_table_time_ms`` +
  ``r_other_time_ms`` of a table is the table's own time over all loops);
* MySQL ``EXPLAIN ANALYZE`` / ``FORMAT=TREE``: indented ``-> operation (cost=… rows=…) (actual
  time=first..last rows=… loops=…)`` lines, times per loop (multiplied here).

A ``nested_loop`` list becomes a synthetic "Nested Loop" node (the engines print the join order
as a list, the model needs a tree); synthetic nodes are not counted in ``plan.nodes``.
"""

from __future__ import annotations

import re
from typing import Any

from workbench.errors import PlanParseError
from workbench.plans.aliases import resolve_aliases
from workbench.plans.model import Plan, PlanNode

__all__ = ["from_mysql_json", "from_mysql_tree", "is_mysql_json", "is_mysql_tree", "json_flavour"]

# block key -> operation label
_BLOCKS = {
    "ordering_operation": "Sort (ORDER BY)",
    "grouping_operation": "Group (GROUP BY)",
    "duplicates_removal": "Remove Duplicates",
    "windowing": "Window",
    "filesort": "Filesort",
    "read_sorted_file": "Read Sorted File",
    "temporary_table": "Temporary Table",
    "block-nl-join": "Block Nested Loop Join",
    "union_result": "Union",
    "materialized_from_subquery": "Materialize",
    "materialized": "Materialize",
    "expression_cache": "Expression Cache",
    "window_functions_computation": "Window",
    "buffer_result": "Buffer Result",
}
_SUBQUERY_LISTS = (
    "query_specifications",
    "subqueries",
    "select_list_subqueries",
    "attached_subqueries",
    "optimized_away_subqueries",
    "query_optimization_subqueries",
)
_ACCESS = {
    "ALL": "Table Scan",
    "index": "Full Index Scan",
    "range": "Index Range Scan",
    "ref": "Index Lookup",
    "eq_ref": "Unique Index Lookup",
    "const": "Constant Row",
    "system": "Constant Row",
    "ref_or_null": "Index Lookup (or NULL)",
    "index_merge": "Index Merge",
    "fulltext": "Fulltext Search",
    "unique_subquery": "Unique Subquery",
    "index_subquery": "Index Subquery",
    "hash_ALL": "Hash Join Scan",
    "hash_index": "Hash Join Index Scan",
    "hash_range": "Hash Join Range Scan",
}


def json_flavour(doc: Any) -> str | None:
    """``"mariadb"`` or ``"mysql"`` for a JSON plan of either, else ``None``."""
    if not isinstance(doc, dict) or not isinstance(doc.get("query_block"), dict):
        return None
    text = repr(doc)
    if "'r_loops'" in text or "'r_rows'" in text or "'r_total_time_ms'" in text:
        return "mariadb"
    if "'cost_info'" in text or "'rows_examined_per_scan'" in text:
        return "mysql"
    return "mariadb"  # MariaDB's plain EXPLAIN JSON has no cost_info


def is_mysql_json(doc: Any) -> bool:
    return json_flavour(doc) is not None


def from_mysql_json(doc: Any, *, dialect: str | None = None, sql: str | None = None) -> Plan:
    """Build the model from MySQL's or MariaDB's ``FORMAT=JSON`` document."""
    flavour = json_flavour(doc)
    if flavour is None:
        raise PlanParseError(
            'not a MySQL/MariaDB JSON plan: expected {"query_block": {...}}',
            hint="paste the output of EXPLAIN FORMAT=JSON (or MariaDB's ANALYZE FORMAT=JSON)",
        )
    text = repr(doc["query_block"])
    analyzed = flavour == "mariadb" and ("'r_rows'" in text or "'r_total_time_ms'" in text)
    try:
        root = _block_node("query_block", doc["query_block"], analyzed)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanParseError(f"malformed {flavour} JSON plan: {exc}") from None
    _finish_times(root)
    optimization = doc.get("query_optimization") or {}
    plan = Plan(
        root,
        dialect=dialect or flavour,
        format=f"{flavour}-json",
        raw=doc,
        analyzed=analyzed,
        planning_time_ms=_float(optimization.get("r_total_time_ms")),
        execution_time_ms=_float(doc["query_block"].get("r_total_time_ms")),
        sql=sql,
    )
    _exclusive(plan)
    if sql:
        resolve_aliases(plan, sql, dialect or flavour)
    return plan


def _block_node(key: str, data: dict[str, Any], analyzed: bool) -> PlanNode:
    if key == "query_block":
        label = f"Query Block #{data.get('select_id', '?')}"
    elif key == "table":
        return _table_node(data, analyzed)
    else:
        label = _BLOCKS.get(key, key.replace("_", " ").title())
    node = PlanNode(operation=label, raw=data)
    cost = data.get("cost_info") or {}
    node.total_cost = _float(cost.get("query_cost") or cost.get("sort_cost"))
    if analyzed:
        node.loops = _float(data.get("r_loops", 1))
        node.inclusive_time_ms = _float(data.get("r_total_time_ms"))
        out = data.get("r_output_rows", data.get("r_rows"))
        if out is not None:
            node.actual_rows = float(out) * (node.loops or 1.0)
    for condition in ("attached_condition", "having_condition"):
        if data.get(condition):
            node.conditions["Filter" if condition == "attached_condition" else "Having"] = str(
                data[condition]
            )
    if data.get("sort_key"):
        node.details["sort_key"] = data["sort_key"]
    node.children.extend(_children(data, analyzed))
    return node


def _children(data: dict[str, Any], analyzed: bool) -> list[PlanNode]:
    found: list[PlanNode] = []
    for key, value in data.items():
        if key == "nested_loop" and isinstance(value, list):
            items = [
                n for item in value if isinstance(item, dict) for n in _children(item, analyzed)
            ]
            if len(items) == 1:
                found.extend(items)
            elif items:
                found.append(PlanNode(operation="Nested Loop", children=items, synthetic=True))
        elif key in ("query_block", "table") or key in _BLOCKS:
            if isinstance(value, dict):
                found.append(_block_node(key, value, analyzed))
        elif key in _SUBQUERY_LISTS and isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    for child in _children(item, analyzed):
                        child.parent_relationship = (
                            "Member" if key == "query_specifications" else "SubPlan"
                        )
                        found.append(child)
    return found


def _table_node(data: dict[str, Any], analyzed: bool) -> PlanNode:
    access = str(data.get("access_type", ""))
    node = PlanNode(
        operation=_ACCESS.get(access, access or "Table"),
        relation=data.get("table_name"),
        index=data.get("key"),
        raw=data,
    )
    node.details["access_type"] = access
    if data.get("possible_keys"):
        node.details["possible_keys"] = list(data["possible_keys"])
    if data.get("using_index"):
        node.details["covering"] = True
    filtered = _float(data.get("filtered"))
    cost = data.get("cost_info") or {}
    if "rows_produced_per_join" in data:  # MySQL: cumulative over the join prefix
        node.estimated_rows = _float(data.get("rows_produced_per_join"))
        node.details["rows_examined_per_scan"] = data.get("rows_examined_per_scan")
    elif data.get("rows") is not None:  # MariaDB: rows examined per scan, before filtering
        node.estimated_rows = (
            float(data["rows"]) * (filtered if filtered is not None else 100.0) / 100
        )
    if cost:
        node.total_cost = _float(cost.get("prefix_cost"))
        own = (_float(cost.get("read_cost")) or 0.0) + (_float(cost.get("eval_cost")) or 0.0)
        node.exclusive_cost = own
    for key, label in (("attached_condition", "Filter"), ("index_condition", "Index Cond")):
        if data.get(key):
            node.conditions[label] = str(data[key])
    if data.get("ref"):
        node.conditions["Ref"] = ", ".join(map(str, data["ref"]))
    for verb in ("delete", "update", "insert"):
        if data.get(verb):
            node.operation = f"{verb.title()} via {node.operation}"
    if analyzed and (data.get("r_loops") is not None or data.get("r_rows") is not None):
        loops = float(data.get("r_loops", 1))
        node.loops = loops
        node.never_executed = loops == 0
        examined = float(data.get("r_rows") or 0.0) * loops
        kept = (
            _float(data.get("r_filtered")) if data.get("r_filtered") is not None else 100.0
        ) or 0.0
        node.actual_rows = examined * kept / 100.0
        node.rows_removed_by_filter = examined - node.actual_rows
        if node.estimated_rows is not None:
            node.estimated_rows *= loops
        own = (_float(data.get("r_table_time_ms")) or 0.0) + (
            _float(data.get("r_other_time_ms")) or 0.0
        )
        node.inclusive_time_ms = own
    node.children.extend(_children(data, analyzed))
    return node


def _finish_times(root: PlanNode) -> None:
    """Inclusive times bottom-up. A table's own time never includes what it materialises; a
    block's ``r_total_time_ms`` sometimes includes its input (a filesort reading a table) and
    sometimes not (a filesort of a temporary table filled earlier): when the time reported is
    smaller than its input's, it was the block's own time."""
    for node in reversed(list(root.walk())):
        below = sum(c.inclusive_time_ms or 0.0 for c in node.children)
        timed_below = any(c.inclusive_time_ms is not None for c in node.children)
        if node.inclusive_time_ms is None:
            if timed_below:
                node.inclusive_time_ms = below
        elif node.raw.get("r_table_time_ms") is not None or node.inclusive_time_ms < below:
            node.inclusive_time_ms += below


def _exclusive(plan: Plan) -> None:
    for node in plan.root.walk():
        if node.inclusive_time_ms is not None:
            below = sum(c.inclusive_time_ms or 0.0 for c in node.children)
            node.exclusive_time_ms = max(0.0, node.inclusive_time_ms - below)
        if node.exclusive_cost is None and node.total_cost is not None:
            below_cost = sum(c.total_cost or 0.0 for c in node.children)
            node.exclusive_cost = max(0.0, node.total_cost - below_cost)


# -- EXPLAIN ANALYZE / FORMAT=TREE ------------------------------------------------------------
_TREE_LINE = re.compile(r"^(?P<indent>\s*)-> (?P<body>.*)$")
_COST = re.compile(
    r"\(cost=(?P<cost>[\d.e+]+)(?:\.\.(?P<total>[\d.e+]+))? rows=(?P<rows>[\d.e+]+)\)"
)
_ACTUAL = re.compile(
    r"\(actual time=(?P<first>[\d.e+]+)\.\.(?P<last>[\d.e+]+) rows=(?P<rows>[\d.e+]+) "
    r"loops=(?P<loops>[\d.e+]+)\)"
)
_ON_TABLE = re.compile(r" on (?P<table>`[^`]+`|[\w$<>,]+)(?: \(.*?\))?")
_USING = re.compile(r" using (?P<index>`[^`]+`|[\w$]+)")
_JOIN = re.compile(r"(?i)(inner|left|right|outer|semi|anti)\s*(?:hash\s+)?join|(anti|semi)join")


def is_mysql_tree(text: str) -> bool:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return bool(lines) and lines[0].lstrip().startswith("-> ")


def from_mysql_tree(text: str, *, dialect: str = "mysql", sql: str | None = None) -> Plan:
    """Build the model from ``EXPLAIN ANALYZE`` (or ``EXPLAIN FORMAT=TREE``) output."""
    stack: list[tuple[int, PlanNode]] = []
    root: PlanNode | None = None
    analyzed = False
    for line in text.splitlines():
        match = _TREE_LINE.match(line.rstrip())
        if not match:
            if line.strip() and stack:  # a wrapped continuation of the previous operation
                stack[-1][1].operation += " " + line.strip()
            continue
        node = _tree_node(match["body"])
        analyzed = analyzed or node.loops is not None
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if stack:
            stack[-1][1].children.append(node)
        elif root is None:
            root = node
        else:
            raise PlanParseError("a MySQL TREE plan has one top operation; found a second one")
        stack.append((indent, node))
    if root is None:
        raise PlanParseError(
            "not a MySQL TREE plan: expected lines starting with '-> '",
            hint="paste the output of EXPLAIN ANALYZE or EXPLAIN FORMAT=TREE",
        )
    plan = Plan(
        root,
        dialect=dialect,
        format="mysql-tree",
        raw=text,
        analyzed=analyzed,
        sql=sql,
        execution_time_ms=root.inclusive_time_ms,
    )
    _exclusive(plan)
    if sql:
        resolve_aliases(plan, sql, dialect)
    return plan


def _tree_node(body: str) -> PlanNode:
    cut = min(
        (
            i
            for i in (body.find("  (cost="), body.find("  (actual"), body.find(" (never executed)"))
            if i >= 0
        ),
        default=len(body),
    )
    label = body[:cut].strip()
    node = PlanNode(operation=label, raw={"line": body})
    if ":" in label and label.split(":", 1)[0] in (
        "Filter",
        "Sort",
        "Limit",
        "Aggregate",
        "Group aggregate",
        "Stream results",
    ):
        head, _, rest = label.partition(":")
        node.operation = head.strip()
        if head == "Filter":
            node.conditions["Filter"] = rest.strip()
        else:
            node.details["argument"] = rest.strip()
    table = _ON_TABLE.search(label)
    if table and not label.startswith(("Filter", "Sort")):
        node.relation = table["table"].strip("`")
        node.operation = label[: table.start()].strip() or label
    index = _USING.search(label)
    if index:
        node.index = index["index"].strip("`")
    join = _JOIN.search(label)
    if join:
        node.join_type = (join.group(1) or join.group(2)).title()
    cost = _COST.search(body)
    actual = _ACTUAL.search(body)
    loops = float(actual["loops"]) if actual else None
    if cost:
        node.total_cost = float(cost["total"] or cost["cost"])
        node.estimated_rows = float(cost["rows"]) * (loops or 1.0)
    if actual and loops is not None:
        node.loops = loops
        node.actual_rows = float(actual["rows"]) * loops
        node.inclusive_time_ms = float(actual["last"]) * loops
        node.startup_time_ms = float(actual["first"])
    elif "(never executed)" in body:
        node.loops, node.actual_rows, node.never_executed = 0.0, 0.0, True
        node.inclusive_time_ms = 0.0
    return node


def _float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)
