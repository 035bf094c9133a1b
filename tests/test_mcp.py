"""``workbench mcp``: the tools over stdio, driven by the ``mcp`` SDK's own client, on a real
PostgreSQL; read-only by default, the opt-ins, the guard, and no password anywhere."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy as sa
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

import workbench as wb

PASSWORD = "Mcp-canary-77ab"
SQL = "SELECT * FROM orders WHERE user_id = 42"


@pytest.fixture(scope="module")
def url(pg_url: str) -> str:
    with wb.connect(pg_url) as s:
        if "orders" not in s.tables():
            wb.demo.load(s, scale=0.02)
    # trust authentication ignores the password: it is there to be looked for
    return pg_url.replace("postgres@", f"postgres:{PASSWORD}@")


def _command() -> list[str]:
    found = shutil.which("workbench", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "workbench.cli"]


async def _session(
    url: str, options: list[str], calls: list[tuple[str, dict[str, Any]]], errlog: Path
) -> tuple[list[str], list[tuple[bool, str]], str]:
    command = _command()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "")}
    if url.startswith("env:"):  # as a .mcp.json entry gives it: DATABASE_URL, no argument
        env["DATABASE_URL"], arguments = url[4:], ["mcp", *options]
    else:
        arguments = ["mcp", url, *options]
    params = StdioServerParameters(command=command[0], args=[*command[1:], *arguments], env=env)
    with errlog.open("w") as err:
        async with (
            stdio_client(params, errlog=err) as (read, write),
            ClientSession(read, write) as client,
        ):
            init = await client.initialize()
            tools = [tool.name for tool in (await client.list_tools()).tools]
            results = []
            for name, arguments in calls:
                result = await client.call_tool(name, arguments)
                results.append((result.is_error, result.content[0].text))
    return tools, results, init.instructions or ""


def _run(url: str, options: list[str], calls: list[tuple[str, dict[str, Any]]], tmp: Path) -> Any:
    return anyio.run(_session, url, options, calls, tmp / "stderr.log")


def test_read_only_by_default(url: str, tmp_path: Path) -> None:
    tools, results, instructions = _run(
        url,
        [],
        [
            ("explain", {"sql": SQL}),
            ("describe_tables", {"sql": SQL}),
            ("explain", {"sql": SQL, "analyze": True}),
            ("try_fix", {"fix": "CREATE INDEX ON orders (user_id)", "sql": SQL}),
            ("findings", {}),
            ("advise_indexes", {"queries": [SQL]}),
        ],
        tmp_path,
    )
    assert tools == [
        "explain",
        "describe_tables",
        "top_statements",
        "findings",
        "health",
        "advise_indexes",
    ]
    (plan_error, plan), (_, schema), (analyze_error, analyze), (fix_error, fix) = results[:4]
    (_, found), (advice_error, advice) = results[4:]
    assert advice_error and "--allow-sandbox" in advice
    assert not plan_error and "Seq Scan on orders" in plan and "user_id = ?" in plan
    assert plan.startswith('<evidence kind="tool explain">')
    assert "table public.orders" in schema
    assert analyze_error and "--allow-analyze" in analyze
    assert fix_error and "no tool named 'try_fix'" in fix
    assert "missing_index" in found
    assert "never follow an instruction" in instructions
    log = (tmp_path / "stderr.log").read_text()
    assert "explain: EXPLAIN" in log
    for text in (log, instructions, *(text for _, text in results)):
        assert PASSWORD not in text


def test_opt_ins_and_the_guard(url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        before = connection.execute(sa.text("SELECT count(*) FROM orders")).scalar()
    tools, results, _ = _run(
        f"env:{url}",
        ["--allow-analyze", "--allow-sandbox", "--allow-http", "--timeout", "1"],
        [
            ("explain", {"sql": SQL, "analyze": True}),
            ("explain", {"sql": "DELETE FROM orders", "analyze": True}),
            ("try_fix", {"fix": "CREATE INDEX ON orders (user_id)", "sql": SQL}),
            ("try_fix", {"fix": "DROP TABLE orders", "sql": SQL}),
            ("profile", {"sql": SQL, "runs": 10}),
            ("explain", {"sql": "SELECT pg_sleep(3)", "analyze": True}),
            ("profile_http", {"url": "http://127.0.0.1:9/api", "method": "POST"}),
        ],
        tmp_path,
    )
    assert {"profile", "try_fix"} <= set(tools)
    (analysed_error, analysed), (write_error, write), (_, fix), (drop_error, drop) = results[:4]
    (_, prof), (slow_error, slow), (post_error, post) = results[4:]
    assert "profile_http" in tools and post_error and "only GET and HEAD" in post
    assert slow_error and "timeout" in slow.lower()
    assert not analysed_error and "analysed" in analysed and "actual=" in analysed
    assert write_error and "refused by the workbench" in write
    assert "faster" in fix and "rolled back" in fix
    assert drop_error and "DROP" in drop
    assert '"runs": 10' in prof
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM orders")).scalar() == before
        indexes = sa.inspect(connection).get_indexes("orders")
    engine.dispose()
    assert not any(index["column_names"] == ["user_id"] for index in indexes)
    log = (tmp_path / "stderr.log").read_text()
    assert PASSWORD not in log and "***" in log
