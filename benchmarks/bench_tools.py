"""What the architect's tools cost on top of the probes they wrap, and what MCP adds.

* ``explain`` through :class:`~workbench.tools.Toolbox` (validation, redaction, the condensed
  text, the data block) against ``s.explain`` of the same statement, paired round by round on
  PostgreSQL 15: the ratio of medians;
* ``describe_tables`` against ``s.tables_in``;
* one ``explain`` call over ``workbench mcp`` (stdio, the ``mcp`` client) against the same tool
  called in-process: the protocol's round trip in milliseconds.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

URL = os.environ.get("WORKBENCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SQL = "SELECT * FROM orders WHERE user_id = 42"
ROUNDS = 200


def _paired(direct, tool, rounds: int = ROUNDS) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    base, cand, ratios = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        direct()
        middle = time.perf_counter()
        tool()
        ended = time.perf_counter()
        base.append(middle - started)
        cand.append(ended - middle)
        ratios.append((ended - middle) / (middle - started))
    return statistics.median(base) * 1000, statistics.median(cand) * 1000, statistics.median(ratios)


def _mcp_round_trip(calls: int = 50) -> float:
    import anyio
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    command = Path(sys.executable).parent / "workbench"
    params = StdioServerParameters(
        command=str(command), args=["mcp", URL], env={"PATH": os.environ.get("PATH", "")}
    )

    async def run() -> float:
        with open(os.devnull, "w") as quiet:  # the server's log lines
            return await timed(quiet)

    async def timed(quiet: object) -> float:
        async with (
            stdio_client(params, errlog=quiet) as (read, write),  # type: ignore[arg-type]
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            await client.call_tool("explain", {"sql": SQL})  # warm
            times = []
            for _ in range(calls):
                started = time.perf_counter()
                await client.call_tool("explain", {"sql": SQL})
                times.append(time.perf_counter() - started)
            return statistics.median(times) * 1000

    return float(anyio.run(run))


def main() -> dict[str, float]:
    import workbench as wb
    from workbench.tools import Toolbox

    s = wb.connect(URL)
    if "orders" not in s.tables():
        wb.demo.load(s, scale=0.02)
    box = Toolbox(s.executor)
    explain_call = {"sql": SQL}

    def tool_explain() -> None:
        box.run(box.prepare("explain", explain_call))
        box.plans.clear()

    direct_ms, tool_ms, ratio = _paired(lambda: s.explain(SQL), tool_explain)
    print(f"s.explain          {direct_ms:7.3f} ms (median of {ROUNDS})")
    print(f"explain tool       {tool_ms:7.3f} ms   ratio {ratio:.2f}x")
    d_ms, t_ms, d_ratio = _paired(
        lambda: s.tables_in(SQL),
        lambda: box.run(box.prepare("describe_tables", explain_call)),
        rounds=100,
    )
    print(f"s.tables_in        {d_ms:7.3f} ms")
    print(f"describe_tables    {t_ms:7.3f} ms   ratio {d_ratio:.2f}x")
    s.close()
    mcp_ms = _mcp_round_trip()
    print(f"explain over MCP   {mcp_ms:7.3f} ms   (+{mcp_ms - tool_ms:.3f} ms for the protocol)")
    return {
        "explain_ms": direct_ms,
        "explain_tool_ms": tool_ms,
        "explain_ratio": ratio,
        "describe_ratio": d_ratio,
        "mcp_explain_ms": mcp_ms,
    }


if __name__ == "__main__":
    main()
