"""MCP tools/call latency, on both transports: streamable HTTP to `/api/v1/mcp`, and stdio
through `masthead mcp` (the bridge, which hands each call to the same endpoint).

    python -m bench.mcp_latency [--calls 200] [--database sqlite|postgres] [--json]

A scratch demo site (`masthead init --demo`, an admin and their token from the CLI) is
served by `masthead serve` (uvicorn, one process); one SDK client per transport makes
`--calls` calls of a read tool (`get_post`) and of a keyed write (`create_draft` with an
`idempotency_key`), one after another, and each call's wall time is kept: p50 and p99 per
tool and transport. The machine is shared and noisy: compare the figures of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from bench.api_load import EDGE_HEADER, bench_environment, prepare, scratch_database, serving


@dataclass
class Figure:
    transport: str
    tool: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "transport": self.transport,
            "tool": self.tool,
            "calls": len(self.latencies_ms),
            "errors": self.errors,
            "p50_ms": round(statistics.median(self.latencies_ms), 2),
            "p99_ms": round(self.percentile(0.99), 2),
        }


@asynccontextmanager
async def http_client(base: str, edge: str, token: str) -> AsyncIterator[Client]:
    headers = {EDGE_HEADER: edge, "Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        transport = streamable_http_client(f"{base}/api/v1/mcp", http_client=http)
        async with Client(transport, cache=None) as client:
            yield client


@asynccontextmanager
async def stdio_client(base: str, edge: str, token: str) -> AsyncIterator[Client]:
    environment = {"MASTHEAD_URL": base, "MASTHEAD_EDGE_SECRET": edge, "MASTHEAD_TOKEN": token}
    environment |= {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    parameters = StdioServerParameters(
        command=sys.executable, args=["-m", "masthead.cli", "mcp"], env=environment
    )
    async with Client(parameters, cache=None, read_timeout_seconds=60) as client:
        yield client


async def timed(figure: Figure, calls: int, call: Callable[[int], Awaitable[bool]]) -> None:
    for number in range(calls):
        started = time.perf_counter()
        ok = await call(number)
        figure.latencies_ms.append((time.perf_counter() - started) * 1000)
        figure.errors += not ok


async def measure(transport: str, client: Client, calls: int) -> list[Figure]:
    created = await client.call_tool(
        "create_draft", {"title": f"Bench {transport}", "body": "Words.", "tags": []}
    )
    assert created.structured_content is not None, created
    post_id = created.structured_content["id"]
    reads, writes = Figure(transport, "get_post"), Figure(transport, "create_draft (keyed)")
    run = uuid.uuid4().hex[:8]

    async def read(_number: int) -> bool:
        return not (await client.call_tool("get_post", {"post_id": post_id})).is_error

    async def write(number: int) -> bool:
        arguments = {
            "title": f"Bench {transport} {run} {number}",
            "body": "A few words.",
            "idempotency_key": f"{run}-{number}",
        }
        return not (await client.call_tool("create_draft", arguments)).is_error

    await timed(reads, calls, read)
    await timed(writes, calls, write)
    return [reads, writes]


async def measure_both(base: str, edge: str, token: str, calls: int) -> list[Figure]:
    figures: list[Figure] = []
    async with http_client(base, edge, token) as client:
        await client.list_tools()
        figures += await measure("streamable HTTP", client, calls)
    async with stdio_client(base, edge, token) as client:
        await client.list_tools()
        figures += await measure("stdio (masthead mcp)", client, calls)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per tool and transport")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="masthead-mcp-bench-") as tmp:
        workdir = Path(tmp)
        with scratch_database(options.database, workdir) as database_url:
            env = bench_environment(database_url)
            token = prepare(env, workdir)
            with serving(env, workdir) as base:
                edge = env["MASTHEAD_EDGE_SECRETS"]
                figures = anyio.run(measure_both, base, edge, token, options.calls)
    rows = [figure.as_dict() for figure in figures]
    if options.json:
        print(json.dumps({"database": options.database, "figures": rows}, indent=2))
        return
    print(f"MCP tools/call latency, {options.database}, masthead serve (uvicorn, 1 process)")
    print(f"{'transport':<22} {'tool':<22} {'calls':>5} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8}")
    for row in rows:
        print(
            f"{row['transport']:<22} {row['tool']:<22} {row['calls']:>5} {row['errors']:>6} "
            f"{row['p50_ms']:>8} {row['p99_ms']:>8}"
        )


if __name__ == "__main__":
    main()
