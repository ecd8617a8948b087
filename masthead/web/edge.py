"""The edge guard: without a valid edge secret, internal routes do not exist.

A request to `/api/…` must carry one of the edge secrets in the edge header (compared
in constant time over SHA-256 digests, against the configured secrets and those kept in
the database). Otherwise it gets the public site's 404 page, byte for byte, and a log
line. The public site never needs the secret.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from masthead.actions.edge import stored_digests
from masthead.domain.secrets import digest, matches_any
from masthead.settings import Settings
from masthead.web.database import DATABASE_AWAY, request_unit

__all__ = ["INTERNAL_PREFIX", "EdgeGuard", "is_internal"]

INTERNAL_PREFIX = "/api/"
NotFoundPage = Callable[[Request], Awaitable[Response]]
log = logging.getLogger("masthead.edge")


class EdgeGuard:
    """ASGI middleware in front of the whole app."""

    def __init__(self, app: ASGIApp, settings: Settings, not_found: NotFoundPage) -> None:
        self.app = app
        self.header = settings.edge_header.lower().encode("latin-1")
        self.configured = [digest(secret) for secret in settings.edge_secret_list]
        self.not_found = not_found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_internal(scope["path"]):
            await self.app(scope, receive, send)
            return
        presented = self._presented(scope)
        if presented is not None and await run_in_threadpool(self._accepts, scope, presented):
            await self.app(scope, receive, send)
            return
        _log_refusal(scope, "missing" if presented is None else "wrong")
        response = await self.not_found(Request(scope))
        await response(scope, receive, send)

    def _presented(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == self.header:
                return str(value.decode("latin-1"))
        return None

    def _accepts(self, scope: Scope, presented: str) -> bool:
        try:
            with request_unit(scope).transaction() as connection:
                stored = stored_digests(connection)
        except DATABASE_AWAY:
            # the database is away or busy: the configured secrets still hold
            log.warning("edge_secrets_unreadable")
            stored = []
        return matches_any(presented, [*self.configured, *stored])


def is_internal(path: str) -> bool:
    return path == INTERNAL_PREFIX.rstrip("/") or path.startswith(INTERNAL_PREFIX)


def _log_refusal(scope: Scope, reason: str) -> None:
    client = scope.get("client") or ("?", 0)
    fields = {"reason": reason, "method": scope.get("method"), "path": scope.get("path")}
    log.warning("edge_refused", extra={**fields, "client": client[0]})
