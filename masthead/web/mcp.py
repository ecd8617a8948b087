"""`/api/v1/mcp`: the MCP server (`masthead.mcp`) over streamable HTTP, inside the API's mount.

So it sits behind everything the API sits behind — the edge guard (without the secret, the
public 404), the per-token rate limit and the body limit — and authenticates each request's
bearer token as the API does (`401` problem otherwise). Each request is served on its own
(the SDK's stateless mode, JSON answers): no session lives in one process, so any of
several servers can answer any call. A request's gateway runs the tools on the request's
one unit of work, with the API's idempotency ledger and the API's receipt wait.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from anyio.to_thread import run_sync
from mcp.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from masthead.actions.context import Call
from masthead.domain.idempotency import Decision, StoredResponse
from masthead.domain.posts import RevisionSource
from masthead.domain.receipts import Receipt
from masthead.errors import Conflict, MastheadError
from masthead.mcp.gateway import Keyed, Work, Written
from masthead.mcp.refusals import refusal
from masthead.mcp.server import GATEWAY, build_server
from masthead.settings import Settings
from masthead.store.engine import UnitOfWork
from masthead.web.api.deps import current_call
from masthead.web.database import DATABASE_AWAY, release_early, request_unit
from masthead.web.idempotency import KeyLedger, commit_with, release, settle_refusal, stored_under
from masthead.web.problems import problem, status_of, unavailable
from masthead.web.waiting import settled

__all__ = ["MCP_PATH", "McpEndpoint", "WithMcp"]

MCP_PATH = "/mcp"
"""Where the server answers, under the API's prefix."""
T = TypeVar("T")


class RequestGateway:
    """The MCP server's way to the database, for one HTTP request."""

    def __init__(self, scope: Scope, call: Call, ledger: KeyLedger) -> None:
        self.scope = scope
        self._call = call
        self.ledger = ledger

    @property
    def call(self) -> Call:
        return self._call

    async def read(self, work: Callable[[Connection], T]) -> T:
        unit = request_unit(self.scope)

        def once() -> T:
            with unit.transaction() as connection:
                return work(connection)

        return await run_sync(once)

    async def write(self, work: Work, keyed: Keyed | None) -> Written:
        unit = request_unit(self.scope)
        token_id = self._call.actor.token_id
        if keyed is None or token_id is None:
            return await run_sync(_write_once, unit, work)
        now = datetime.now(UTC)
        decision, retry_after = await run_sync(
            self.ledger.claim, unit, token_id, keyed.key, keyed.digest, now
        )
        if decision is Decision.PROCEED:
            return await run_sync(_write_keyed, unit, work, token_id, keyed.key)
        if decision is Decision.REPLAY:
            stored = await run_sync(stored_under, unit, token_id, keyed.key)
            body = json.loads(stored.body)
            return Written(body, refused=stored.status_code >= 400, replayed=True)
        if decision is Decision.MISMATCH:
            detail = "this idempotency_key was used for a different call"
            raise MastheadError(detail, code="idempotency_key_reused")
        detail = "a call with this idempotency_key is still running; retry later"
        raise Conflict(detail, code="idempotency_in_flight", retry_after=retry_after)

    async def settle(self, receipt_id: int, seconds: float) -> Receipt:
        await release_early(self.scope)
        return await settled(self.scope, self._call.actor, receipt_id, seconds)


def _write_once(unit: UnitOfWork, work: Work) -> Written:
    try:
        with unit.transaction(write=True) as connection:
            return Written(work(connection), refused=False)
    except MastheadError as error:
        return Written(refusal(error), refused=True)


def _write_keyed(unit: UnitOfWork, work: Work, token_id: int, key: str) -> Written:
    """The work and its key's record in one transaction; a refusal kept after a rollback."""
    connection = unit.begin(write=True)
    try:
        body = work(connection)
        commit_with(unit, token_id, key, _stored(200, body))
    except MastheadError as error:
        unit.rollback()
        refused = refusal(error)
        settle_refusal(unit, token_id, key, _stored(status_of(error.code), refused))
        return Written(refused, refused=True)
    except BaseException:
        unit.rollback()
        release(unit, token_id, key)
        raise
    return Written(body, refused=False)


def _stored(status: int, body: dict[str, Any]) -> StoredResponse:
    content = json.dumps(body, separators=(",", ":")).encode()
    return StoredResponse(status, [("content-type", "application/json")], content)


class McpEndpoint:
    """The streamable HTTP endpoint: authenticate, then let the SDK answer the request."""

    def __init__(self, settings: Settings, server: Server[Any] | None = None) -> None:
        self.settings = settings
        self.server = server or build_server()
        self.ledger = KeyLedger(settings)
        # a manager per request: its start and stop are not news
        logging.getLogger("mcp.server.streamable_http_manager").setLevel(logging.WARNING)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            call = await run_sync(current_call, Request(scope))
        except MastheadError as error:
            await problem(error.code, error.detail)(scope, receive, send)
            return
        except DATABASE_AWAY as error:
            await unavailable(error)(scope, receive, send)
            return
        call = replace(call, source=RevisionSource.MCP, idempotency_key=None)
        scope.setdefault("state", {})[GATEWAY] = RequestGateway(scope, call, self.ledger)
        manager = StreamableHTTPSessionManager(
            self.server,
            stateless=True,
            json_response=True,
            max_request_body_size=self.settings.max_body_bytes,
        )
        async with manager.run():
            await manager.handle_request(scope, receive, send)


class WithMcp:
    """The API's mount: `/mcp` goes to the MCP endpoint, everything else to the API."""

    def __init__(self, api: ASGIApp, endpoint: ASGIApp) -> None:
        self.api = api
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _route_path(scope) in {MCP_PATH, f"{MCP_PATH}/"}:
            await self.endpoint(scope, receive, send)
            return
        await self.api(scope, receive, send)


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
