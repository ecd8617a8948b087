"""Each request's id and its one log line.

A request keeps a sane incoming `X-Request-Id` (printable, at most 64 characters), or
gets a new one; every answer carries it back, public pages and API alike, and every log
line the request causes has it (`masthead.web.logs.REQUEST_ID`). The request's own line
says its method, route (the pattern that matched, else the path), status and duration.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from masthead.web.logs import REQUEST_ID, write_request_line

__all__ = [
    "REQUEST_ID_HEADER",
    "Observer",
    "RequestLog",
    "accepted_request_id",
    "log_request",
    "request_id",
    "route_of",
]

REQUEST_ID_HEADER = "x-request-id"
MAX_REQUEST_ID = 64
SCOPE_KEY = "masthead_request_id"
"""Where a request's id is kept (`scope["state"]`)."""

Observer = Callable[[str, str | None, int, float], None]
"""Told of each finished request: method, route pattern (None: none matched), status, seconds."""

_log = logging.getLogger("masthead.request")


def _accepted(given: str) -> str:
    """The caller's request id if it is a sane one, else a new one."""
    if 0 < len(given) <= MAX_REQUEST_ID and given.isprintable():
        return given
    return os.urandom(16).hex()  # as random as uuid4's hex, at a fifth of its cost


def request_id(request: Request) -> str:
    """The id `RequestLog` gave this request (or, outside it, one by the same rule)."""
    state = request.scope.setdefault("state", {})
    if SCOPE_KEY not in state:
        state[SCOPE_KEY] = _accepted(request.headers.get(REQUEST_ID_HEADER, ""))
    found: str = state[SCOPE_KEY]
    return found


def route_of(scope: Scope) -> str | None:
    """The pattern of the route that answered (`/api/v1/posts/{post_id}`), if one did."""
    route = scope.get("route") or _route_by_endpoint(scope)
    pattern = getattr(route, "path", None)
    if route is None or isinstance(route, Mount) or not isinstance(pattern, str):
        return None
    return str(scope.get("root_path", "")) + pattern


def _route_by_endpoint(scope: Scope) -> object | None:
    """FastAPI names only its own routes in the scope; a plain route, by its endpoint."""
    endpoint, router = scope.get("endpoint"), getattr(scope.get("app"), "router", None)
    if endpoint is None or router is None:
        return None
    return next((r for r in router.routes if getattr(r, "endpoint", None) is endpoint), None)


class RequestLog:
    """ASGI middleware, outermost: gives each request its id, answers with it, logs it."""

    def __init__(self, app: ASGIApp, observe: Observer | None = None) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        scope.setdefault("state", {})[SCOPE_KEY] = ident = _accepted(given)
        token = REQUEST_ID.set(ident)
        started, status, logged = time.perf_counter(), 500, False

        async def answer(message: Message) -> None:
            nonlocal status, logged
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-Id"] = ident
            elif not message.get("more_body", False) and not logged:
                logged = True  # before the last byte: a client never outruns its own count
                self._finished(scope, status, started)
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            if not logged:
                self._finished(scope, status, started)
            REQUEST_ID.reset(token)

    def _finished(self, scope: Scope, status: int, started: float) -> None:
        seconds = time.perf_counter() - started
        method, route, ident = scope["method"], route_of(scope), scope["state"].get(SCOPE_KEY)
        log_request(method, route, scope["path"], status, seconds, self.observe, ident)


def log_request(
    method: str,
    route: str | None,
    path: str,
    status: int,
    seconds: float,
    observe: Observer | None,
    request_id: str | None = None,
) -> None:
    """A finished request's one log line, and its count in the metrics."""
    ms = round(seconds * 1000, 2)
    shown = route or path
    if request_id is None or not write_request_line(method, shown, status, ms, request_id):
        fields: dict[str, object] = {"method": method, "route": shown, "status": status}
        fields["duration_ms"] = ms
        if request_id is not None:
            fields["request_id"] = request_id
        _log.info("request", extra=fields)
    if observe is not None:
        observe(method, route, status, seconds)


def accepted_request_id(given: str) -> str:
    """The caller's request id if it is a sane one, else a new one."""
    return _accepted(given)
