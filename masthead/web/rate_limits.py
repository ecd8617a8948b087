"""Rate limits on the API (`masthead.actions.rate_limits`), past the edge guard only.

Every answer says where its caller stands, in the headers of the IETF draft
(draft-ietf-httpapi-ratelimit-headers, the `RateLimit-Limit` / `RateLimit-Remaining` /
`RateLimit-Reset` form): for a call with a token, the token's allowance; for one without
a valid token, the address's allowance of failed authentications. A refused call gets
`429` (`rate_limited`) with `Retry-After`. A request without the edge secret never gets
here: it gets the public 404, limited or not.
"""

from __future__ import annotations

import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from masthead.actions.rate_limits import RateLimiter
from masthead.domain.rate_limits import Allowance
from masthead.settings import Settings
from masthead.web.problems import problem

__all__ = ["RateLimits"]


class RateLimits:
    """ASGI middleware around the API application."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limiter = RateLimiter(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("unknown", 0))[0]
        allowance = self.limiter.admit(token=_bearer(scope), address=address, now=time.monotonic())
        if allowance is not None and not allowance.allowed:
            await _refusal(allowance)(scope, receive, send)
            return
        await self.app(scope, receive, self._reporting(send, address, allowance))

    def _reporting(self, send: Send, address: str, allowance: Allowance | None) -> Send:
        async def reporting(message: Message) -> None:
            if message["type"] == "http.response.start":
                shown = allowance
                if message["status"] == 401:  # no valid token: counted against the address
                    shown = self.limiter.failed_authentication(address, time.monotonic())
                if shown is not None:
                    MutableHeaders(scope=message).update(_headers(shown))
            await send(message)

        return reporting


def _bearer(scope: Scope) -> str | None:
    scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _headers(allowance: Allowance) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(allowance.limit),
        "RateLimit-Remaining": str(allowance.remaining),
        "RateLimit-Reset": str(allowance.reset),
    }


def _refusal(allowance: Allowance) -> ASGIApp:
    detail = f"too many calls; retry in {allowance.retry_after} s"
    response = problem("rate_limited", detail)
    response.headers.update({**_headers(allowance), "Retry-After": str(allowance.retry_after)})
    return response
