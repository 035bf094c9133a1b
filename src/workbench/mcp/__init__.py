"""The workbench as an MCP server: ``workbench mcp [URL]`` (see :mod:`workbench.mcp.server`)."""

from __future__ import annotations

from workbench.mcp.server import build_server, offered_tools, serve

__all__ = ["build_server", "offered_tools", "serve"]
