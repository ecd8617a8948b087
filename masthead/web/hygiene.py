"""Addresses holding control characters are refused before any route sees them.

PostgreSQL cannot hold a NUL in text, and no slug or search ever has one: a request
with one in its path or query gets an answer (the public 404, or a 422 problem from the
API), not a database error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from masthead.domain.text import first_control_character

__all__ = ["RefuseControlCharacters"]

Refusal = Callable[[Request], Awaitable[Response]]


class RefuseControlCharacters:
    def __init__(self, app: ASGIApp, refuse: Refusal) -> None:
        self.app = app
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_control_character(scope):
            response = await self.refuse(Request(scope))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _has_control_character(scope: Scope) -> bool:
    query = unquote(scope.get("query_string", b"").decode("latin-1"))
    return any(first_control_character(text) is not None for text in (scope["path"], query))
