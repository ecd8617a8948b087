"""`masthead mcp`: an MCP server on stdio that hands every call to a site's `/api/v1/mcp`.

For agent clients that launch a local command. It reads where the site is and how to get
in from the environment (`MASTHEAD_URL`, `MASTHEAD_EDGE_SECRET`, `MASTHEAD_TOKEN`, or a
token file): never a secret on the command line, and no database — the site does the work,
with its roles, revisions, keys and audit log; the bridge only carries calls and answers.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import mcp.types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server

from masthead.errors import UnusablePath
from masthead.mcp.server import INSTRUCTIONS

__all__ = ["DEFAULT_EDGE_HEADER", "BridgeConfig", "bridge_server", "run_bridge"]

DEFAULT_EDGE_HEADER = "X-Masthead-Edge"
TIMEOUT_SECONDS = 60.0
"""Longer than the longest publish wait (30 s), with room for a slow site."""

Context = ServerRequestContext[Client, Any]


@dataclass(frozen=True)
class BridgeConfig:
    url: str
    token: str
    edge_secret: str | None = None
    edge_header: str = DEFAULT_EDGE_HEADER

    @property
    def endpoint(self) -> str:
        return f"{self.url.rstrip('/')}/api/v1/mcp"

    @classmethod
    def from_environment(cls, token_file: Path | None = None) -> BridgeConfig:
        """The bridge's settings; a missing one is a usage error naming it."""
        url = os.environ.get("MASTHEAD_URL", "").strip()
        if not url:
            raise UnusablePath("set MASTHEAD_URL to the site's address, e.g. https://blog.example")
        if token_file is not None:
            try:
                token = token_file.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise UnusablePath(f"cannot read the token file {token_file}: {error}") from error
        else:
            token = os.environ.get("MASTHEAD_TOKEN", "").strip()
        if not token:
            raise UnusablePath("set MASTHEAD_TOKEN to a staff token, or pass --token-file")
        secret = os.environ.get("MASTHEAD_EDGE_SECRET", "").strip() or None
        header = os.environ.get("MASTHEAD_EDGE_HEADER", "").strip() or DEFAULT_EDGE_HEADER
        return cls(url=url, token=token, edge_secret=secret, edge_header=header)


@asynccontextmanager
async def remote(config: BridgeConfig) -> AsyncIterator[Client]:
    """One client of the site for the bridge's whole life (each call is its own request)."""
    headers = {"Authorization": f"Bearer {config.token}"}
    if config.edge_secret is not None:
        headers[config.edge_header] = config.edge_secret
    async with httpx2.AsyncClient(headers=headers, timeout=TIMEOUT_SECONDS) as http:
        transport = streamable_http_client(config.endpoint, http_client=http)
        async with Client(transport, cache=None) as client:
            yield client


def bridge_server(config: BridgeConfig) -> Server[Client]:
    """A server whose every handler asks the site, through the client its lifespan opens."""

    @asynccontextmanager
    async def lifespan(_server: Server[Client]) -> AsyncIterator[Client]:
        async with remote(config) as client:
            yield client

    return Server(
        "masthead",
        title="Masthead (stdio bridge)",
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        on_list_tools=_list_tools,
        on_call_tool=_call_tool,
        on_list_resources=_list_resources,
        on_list_resource_templates=_list_templates,
        on_read_resource=_read_resource,
    )


def _cursor(params: types.PaginatedRequestParams | None) -> str | None:
    return None if params is None else params.cursor


async def _list_tools(
    ctx: Context, params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    return await ctx.lifespan_context.list_tools(cursor=_cursor(params))


async def _call_tool(ctx: Context, params: types.CallToolRequestParams) -> types.CallToolResult:
    return await ctx.lifespan_context.call_tool(params.name, params.arguments)


async def _list_resources(
    ctx: Context, params: types.PaginatedRequestParams | None
) -> types.ListResourcesResult:
    return await ctx.lifespan_context.list_resources(cursor=_cursor(params))


async def _list_templates(
    ctx: Context, params: types.PaginatedRequestParams | None
) -> types.ListResourceTemplatesResult:
    return await ctx.lifespan_context.list_resource_templates(cursor=_cursor(params))


async def _read_resource(
    ctx: Context, params: types.ReadResourceRequestParams
) -> types.ReadResourceResult:
    return await ctx.lifespan_context.read_resource(str(params.uri))


async def run_bridge(config: BridgeConfig) -> None:
    """Serve on stdin/stdout until the client closes them."""
    server = bridge_server(config)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
