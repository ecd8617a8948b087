"""A real `masthead serve` with the MCP server at /api/v1/mcp, and the SDK's own client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult
from sqlalchemy import Engine

from masthead.store.engine import open_engine
from tests.api_support import EDGE_HEADER, EDGE_SECRET, ROLES, add_member
from tests.databases import DatabaseFactory
from tests.serve_support import Served, masthead_serve

T = TypeVar("T")

BODY = " ".join(
    f"Paragraph {number} says plainly what the agent learned this week, and why it matters."
    for number in range(8)
)
WRITER_TOOLS = {
    "get_context", "list_posts", "search_posts", "get_post", "create_draft", "edit_post",
    "check_gates", "submit_for_review", "preview", "list_revisions", "restore_revision",
    "list_tags", "list_staff",
}  # fmt: skip
EDITOR_TOOLS = WRITER_TOOLS | {
    "approve", "publish", "unpublish", "schedule", "unschedule", "get_receipt", "get_task",
    "archive",
}  # fmt: skip
SERVE_ENV = {
    "MASTHEAD_EDGE_SECRETS": EDGE_SECRET,
    "MASTHEAD_PUBLIC_URL": "https://blog.example.test",
    "MASTHEAD_RATE_LIMIT_PER_MINUTE": "100000",
}


@dataclass
class McpSite:
    """A served site, its database, and a token for each role."""

    served: Served
    engine: Engine
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.served.url

    @property
    def endpoint(self) -> str:
        return f"{self.served.url}/api/v1/mcp"

    def run(
        self, role: str, work: Callable[[Client], Awaitable[T]], *, edge: str | None = EDGE_SECRET
    ) -> T:
        """`work(client)` with an SDK client over streamable HTTP, as `role`."""

        async def main() -> T:
            async with mcp_client(self.endpoint, self.tokens[role], edge=edge) as client:
                return await work(client)

        return anyio.run(main)

    def call(self, role: str, tool: str, **arguments: Any) -> CallToolResult:
        async def one(client: Client) -> CallToolResult:
            return await client.call_tool(tool, arguments)

        return self.run(role, one)

    def draft(self, title: str, role: str = "writer", **fields: Any) -> dict[str, Any]:
        values = {"dek": "What it says.", "body": BODY, "tags": ["operations"], **fields}
        created = self.call(role, "create_draft", title=title, **values)
        assert not created.is_error, created.structured_content
        assert created.structured_content is not None
        return created.structured_content

    def raw(self, body: bytes | str, **headers: str) -> httpx.Response:
        """One plain HTTP POST to the endpoint, for what the SDK client would not send."""
        sent = {"Content-Type": "application/json", "Accept": "application/json", **headers}
        return httpx.post(self.endpoint, content=body, headers=sent, timeout=30)


@asynccontextmanager
async def mcp_client(
    endpoint: str, token: str | None, *, edge: str | None = EDGE_SECRET, mode: str = "auto"
) -> AsyncIterator[Client]:
    headers = {}
    if edge is not None:
        headers[EDGE_HEADER] = edge
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        transport = streamable_http_client(endpoint, http_client=http)
        async with Client(transport, mode=mode) as client:
            yield client


def staff_tokens(engine: Engine) -> dict[str, str]:
    return {
        role: add_member(engine, slug, member_role, kind)
        for role, (slug, member_role, kind) in ROLES.items()
    }


@contextmanager
def mcp_site(database_url: str, **env: str) -> Iterator[McpSite]:
    """`masthead serve --no-worker` over `database_url` (tests run a verifying worker)."""
    engine = open_engine(database_url)
    tokens = staff_tokens(engine)
    try:
        with masthead_serve(database_url, "--no-worker", **{**SERVE_ENV, **env}) as served:
            yield McpSite(served, engine, tokens)
    finally:
        engine.dispose()


def fresh_site(factory: DatabaseFactory, content: str = "demo", **env: str) -> Iterator[McpSite]:
    """Use as a generator fixture: a served site over a new database, dropped afterwards."""
    url = factory.new(content)
    try:
        with mcp_site(url, **env) as served:
            yield served
    finally:
        factory.drop(url)
