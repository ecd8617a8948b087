"""`masthead mcp`, the stdio bridge, as an agent client launches it: a subprocess driven by
the SDK's own stdio client, handing every call to a real `masthead serve`'s /api/v1/mcp,
with no database of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.api_support import EDGE_SECRET, verifying_worker
from tests.databases import DatabaseFactory
from tests.mcp_support import BODY, EDITOR_TOOLS, WRITER_TOOLS, McpSite, fresh_site

T = TypeVar("T")


@pytest.fixture(scope="module")
def site(database_factories: dict[str, DatabaseFactory]) -> Iterator[McpSite]:
    yield from fresh_site(database_factories["sqlite"])


def _environment(site: McpSite, **extra: str) -> dict[str, str]:
    """What an agent client passes: where the site is and how to get in; no database."""
    kept = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    return {"MASTHEAD_URL": site.url, "MASTHEAD_EDGE_SECRET": EDGE_SECRET, **kept, **extra}


def _bridged(site: McpSite, role: str, work: Callable[[Client], Awaitable[T]]) -> T:
    parameters = StdioServerParameters(
        command=sys.executable,
        args=["-m", "masthead.cli", "mcp"],
        env=_environment(site, MASTHEAD_TOKEN=site.tokens[role]),
    )

    async def main() -> T:
        async with Client(parameters, read_timeout_seconds=60) as client:
            return await work(client)

    return anyio.run(main)


async def _names(client: Client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools}


def test_the_bridge_lists_each_role_s_tools(site: McpSite) -> None:
    assert _bridged(site, "writer", _names) == WRITER_TOOLS
    assert _bridged(site, "editor", _names) == EDITOR_TOOLS


def test_over_stdio_a_draft_is_gated_submitted_approved_and_published_verified(
    site: McpSite,
) -> None:
    async def write(client: Client) -> tuple[int, Any]:
        created = await client.call_tool(
            "create_draft",
            {
                "title": "Bridged over stdio",
                "dek": "Through the bridge.",
                "body": BODY,
                "tags": ["agents"],
                "idempotency_key": str(uuid.uuid4()),
            },
        )
        assert not created.is_error, created.structured_content
        post_id = created.structured_content["id"]
        gates = await client.call_tool("check_gates", {"post_id": post_id})
        assert gates.structured_content["blocking"] is False
        submitted = await client.call_tool("submit_for_review", {"post_id": post_id, "revision": 1})
        refused = await client.call_tool("publish", {"post_id": post_id, "revision": 1})
        assert refused.is_error
        assert refused.structured_content["code"] == "forbidden"
        return post_id, submitted.structured_content

    post_id, submitted = _bridged(site, "writer", write)
    assert submitted["post"]["status"] == "in_review"

    async def publish(client: Client) -> dict[str, Any]:
        approved = await client.call_tool("approve", {"post_id": post_id, "revision": 1})
        assert not approved.is_error, approved.structured_content
        published = await client.call_tool(
            "publish", {"post_id": post_id, "revision": 1, "wait_seconds": 20}
        )
        assert not published.is_error, published.structured_content
        receipt: dict[str, Any] = published.structured_content["receipt"]
        return receipt

    with verifying_worker(site.engine, site.url):
        receipt = _bridged(site, "editor", publish)
    assert receipt["state"] == "verified", receipt["checks"]


def test_the_bridge_reads_its_token_from_a_file_and_serves_resources(
    site: McpSite, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(site.tokens["writer"] + "\n", encoding="utf-8")
    parameters = StdioServerParameters(
        command=sys.executable,
        args=["-m", "masthead.cli", "mcp", "--token-file", str(token_file)],
        env=_environment(site),
    )

    async def main() -> tuple[list[str], str]:
        async with Client(parameters, read_timeout_seconds=60) as client:
            listed = await client.list_resources()
            gates = await client.read_resource("masthead://gates")
            return [str(item.uri) for item in listed.resources], gates.contents[0].text

    uris, gates = anyio.run(main)
    assert "masthead://gates" in uris
    assert "masthead://docs/api.md" in uris
    assert '"placeholder_text"' in gates


def test_the_bridge_without_the_edge_secret_exits_saying_the_site_did_not_answer(
    site: McpSite,
) -> None:
    environment = {
        **_environment(site, MASTHEAD_TOKEN=site.tokens["writer"]),
        "MASTHEAD_EDGE_SECRET": "not-the-secret",
    }
    ended = subprocess.run(
        [sys.executable, "-m", "masthead.cli", "mcp"],
        env=environment,
        input="",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ended.returncode == 5, ended.stderr
    assert "site_unreachable" in ended.stderr
    assert "Traceback" not in ended.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "masthead.cli", "mcp"],
        env={"PATH": os.environ.get("PATH", "")},
        input="",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert missing.returncode == 2
    assert "MASTHEAD_URL" in missing.stderr
