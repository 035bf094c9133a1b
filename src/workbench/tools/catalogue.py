"""The tools, defined once: each one's name and description for the model, its input schema,
what it needs approval for (its gate), and the function that runs it (in
:mod:`~workbench.tools.statements`, :mod:`~workbench.tools.database` and
:mod:`~workbench.tools.endpoint`)."""

from __future__ import annotations

from typing import Any

from workbench.tools import database, endpoint, statements
from workbench.tools.endpoint import MAX_HTTP_CLIENTS, MAX_HTTP_RUNS
from workbench.tools.inputs import PARAMS as _PARAMS
from workbench.tools.inputs import SQL as _SQL
from workbench.tools.model import Gate, Tool

__all__ = ["available"]


def available() -> dict[str, Tool]:
    """Every tool this installation offers, by name, in the order a model should meet them."""
    tools = [
        Tool(
            name="explain",
            description=(
                "The execution plan of one statement, one node per line (operation, relation, "
                "estimated and actual rows, time, buffers, conditions). analyze=false (the "
                "default) only plans it; analyze=true executes it to measure (needs the "
                "person's approval; a write is refused)."
            ),
            properties={
                "sql": _SQL,
                "analyze": {"type": "boolean", "description": "execute it to measure"},
                "params": _PARAMS,
            },
            required=("sql",),
            run=statements.explain,
            gate=lambda data: "analyze" if data.get("analyze") else None,
        ),
        Tool(
            name="profile",
            description=(
                "Latency of one read statement over repeated runs: p50, p95, p99, max, mean, "
                "errors. Executes it (needs the person's approval)."
            ),
            properties={
                "sql": _SQL,
                "params": _PARAMS,
                "runs": {"type": "integer", "minimum": 5, "description": "how many runs"},
            },
            required=("sql",),
            run=statements.profile,
            gate=lambda _data: "analyze",
        ),
        Tool(
            name="describe_tables",
            description=(
                "Columns, indexes, foreign keys, row estimates, sizes and statistics freshness "
                "of the tables a statement touches, or of tables named."
            ),
            properties={
                "sql": {"type": "string", "description": "a statement whose tables to describe"},
                "tables": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
            },
            run=database.describe_tables,
        ),
        Tool(
            name="top_statements",
            description=(
                "The statements the server itself counted (PostgreSQL pg_stat_statements, "
                "MySQL/MariaDB performance_schema): calls, total and mean time, rows."
            ),
            properties={
                "limit": {"type": "integer", "minimum": 1, "maximum": 20},
                "order_by": {"type": "string", "enum": ["total", "mean", "calls", "rows", "io"]},
            },
            run=database.top_statements,
        ),
        Tool(
            name="findings",
            description=(
                "The workbench's offline rules (missing indexes, misestimates, spills, N+1, "
                "...) applied to everything gathered so far: the evidence and the plans, "
                "profiles and trials of this conversation."
            ),
            properties={},
            run=database.findings,
        ),
        Tool(
            name="try_fix",
            description=(
                "Try a fix (CREATE INDEX, CREATE STATISTICS, a SET of a setting, or a rewritten "
                "query) in a transaction that is rolled back: the plans of sql before and after. "
                "Builds something (needs the person's approval); DROP and data changes refused."
            ),
            properties={
                "fix": {"type": "string", "description": "the fix's SQL"},
                "sql": {"type": "string", "description": "the statement it should speed up"},
                "params": _PARAMS,
            },
            required=("fix", "sql"),
            run=statements.try_fix,
            gate=_sandbox,
        ),
        Tool(
            name="health",
            description=(
                "The database as a whole: unused, duplicate, redundant, invalid and bloated "
                "indexes, foreign keys without one, table bloat and dead rows, autovacuum, "
                "stale statistics, cache hit ratio, connections, sequences near their limit. "
                "Reads the catalogue only."
            ),
            properties={
                "limit": {"type": "integer", "minimum": 1, "maximum": 50},
            },
            run=database.health,
        ),
        Tool(
            name="advise_indexes",
            description=(
                "Index recommendations for statements (or the server's top statements), each "
                "judged by the planner across the whole workload. hypothetical_only=true uses "
                "HypoPG and builds nothing; otherwise candidate indexes are built in a "
                "rolled-back transaction, and verify=true also times the statements before and "
                "after (both need the person's approval)."
            ),
            properties={
                "queries": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
                "max_indexes": {"type": "integer", "minimum": 1, "maximum": 10},
                "hypothetical_only": {"type": "boolean"},
                "verify": {"type": "boolean"},
            },
            run=database.advise_indexes,
            gate=_advice_gate,
        ),
        Tool(
            name="profile_http",
            description=(
                "Latency of an HTTP endpoint of the application (any language) over repeated "
                "GET or HEAD requests, and the statements each request made the database run "
                "(read from the server's own statistics): calls and time per request, N+1 "
                "candidates, the share of the request spent in the database. Sends real "
                "requests (needs the person's approval)."
            ),
            properties={
                "url": {"type": "string", "description": "http:// or https:// URL"},
                "method": {"type": "string", "enum": ["GET", "HEAD"]},
                "runs": {"type": "integer", "minimum": 3, "maximum": MAX_HTTP_RUNS},
                "concurrency": {"type": "integer", "minimum": 1, "maximum": MAX_HTTP_CLIENTS},
            },
            required=("url",),
            run=endpoint.profile_http,
            gate=lambda _data: "http",
        ),
    ]
    return {tool.name: tool for tool in tools}


def _advice_gate(data: dict[str, Any]) -> Gate | None:
    if data.get("hypothetical_only") and not data.get("verify"):
        return None  # HypoPG's hypothetical indexes: nothing is built, nothing executes
    return "sandbox"


def _sandbox(_data: dict[str, Any]) -> Gate:
    return "sandbox"


# -- inputs -------------------------------------------------------------------------------------
