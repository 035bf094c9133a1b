"""The workbench's tools over MCP (stdio), for Claude Code or any MCP client.

``workbench mcp [URL]`` serves the tools of :mod:`workbench.tools` on one database, through the
same guard as a notebook: one statement per call, reads in read-only transactions, the
statement timeout, writes refused. What executes statements or builds something is off unless
the server was started to allow it: ``--allow-analyze`` (``explain`` with ANALYZE,
``profile``), ``--allow-sandbox`` (``try_fix``, rolled back). The URL's password never appears
in a tool result or a log line; results are the evidence's redacted, condensed text.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from workbench.architect.protocol import protocol_text
from workbench.tools import Gate, Toolbox, tool_names

if TYPE_CHECKING:
    import mcp.types

    from workbench.session import Session

__all__ = ["build_server", "offered_tools", "serve"]

log = logging.getLogger("workbench.mcp")

#: which tools each opt-in adds
_NEEDS: dict[str, Gate] = {"profile": "analyze", "try_fix": "sandbox", "profile_http": "http"}
_OPTION = {"analyze": "--allow-analyze", "sandbox": "--allow-sandbox", "http": "--allow-http"}


def offered_tools(
    *, allow_analyze: bool = False, allow_sandbox: bool = False, allow_http: bool = False
) -> list[str]:
    """The tools a server started with these options lists.

    >>> offered_tools()
    ['explain', 'describe_tables', 'top_statements', 'findings', 'health', 'advise_indexes']
    """
    allowed = {"analyze": allow_analyze, "sandbox": allow_sandbox, "http": allow_http}
    return [name for name in tool_names() if allowed.get(_NEEDS.get(name, ""), True)]


def build_server(
    session: Session,
    *,
    allow_analyze: bool = False,
    allow_sandbox: bool = False,
    allow_http: bool = False,
) -> Any:
    """An ``mcp`` low-level server offering the tools on ``session``."""
    import anyio
    import mcp.types as types
    from mcp.server import Server

    from workbench import version

    allowed = {"analyze": allow_analyze, "sandbox": allow_sandbox, "http": allow_http}
    names = offered_tools(
        allow_analyze=allow_analyze, allow_sandbox=allow_sandbox, allow_http=allow_http
    )
    box = Toolbox(session.executor, tools=names)
    lock = anyio.Lock()  # one call at a time: a session's statements run in order

    def listed() -> list[types.Tool]:
        tools = []
        for tool in box.tools.values():
            schema = tool.schema()
            read_only = tool.name not in (*_NEEDS, "explain", "advise_indexes")
            tools.append(
                types.Tool(
                    name=tool.name,
                    description=_described(tool.name, tool.description, allowed),
                    input_schema=schema["input_schema"],
                    annotations=types.ToolAnnotations(
                        read_only_hint=read_only or None,
                        destructive_hint=False,
                        open_world_hint=False,
                    ),
                )
            )
        return tools

    async def list_tools(_ctx: Any, _params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed())

    async def call_tool(_ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        call = box.prepare(params.name, params.arguments or {})
        if params.name not in box.tools:
            return _result(
                f"there is no tool named {params.name!r}; the tools are {', '.join(box.tools)}",
                error=True,
            )
        if call.gate is not None and not allowed[call.gate]:
            return _result(
                f"refused: {call.name} with these options {_gate_text(call.gate)}, and this "
                f"server was started without {_OPTION[call.gate]}",
                error=True,
            )
        async with lock:
            outcome = await anyio.to_thread.run_sync(box.run, call)
        log.info("%s: %s", call.name, call.summary)
        return _result(box.wrapped(call, outcome), error=not outcome.ok)

    return Server(
        "workbench",
        version=version.__version__,
        instructions=protocol_text(names)
        + "\n\nA call that executes a statement, builds something or sends requests only runs "
        "where this server was started to allow it (--allow-analyze, --allow-sandbox, "
        "--allow-http).",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def serve(
    session: Session,
    *,
    allow_analyze: bool = False,
    allow_sandbox: bool = False,
    allow_http: bool = False,
) -> None:
    """Serve the tools on standard input and output until the client closes them."""
    import anyio
    from mcp.server.stdio import stdio_server

    # the protocol owns stdout: everything said goes to stderr
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="workbench mcp: %(message)s")
    options = {
        "allow_analyze": allow_analyze,
        "allow_sandbox": allow_sandbox,
        "allow_http": allow_http,
    }
    server = build_server(session, **options)
    log.info(
        "serving %s (%s) with %s", session.url, session.dialect, ", ".join(offered_tools(**options))
    )

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)


def _gate_text(gate: Gate) -> str:
    from workbench.tools import GATES

    return GATES[gate]


def _described(name: str, description: str, allowed: dict[str, bool]) -> str:
    if name == "explain" and not allowed["analyze"]:
        return (
            description + " (analyze=true is refused by this server: started without "
            "--allow-analyze)"
        )
    return description


def _result(text: str, *, error: bool) -> mcp.types.CallToolResult:
    import mcp.types as types

    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=error)
