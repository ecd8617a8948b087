"""The hot path: a thin ASGI layer, outermost, that answers render-cache hits itself.

A `GET` or `HEAD` without a query string whose page is in the cache is answered here,
without the framework's routing, its middleware, a database slot or a thread: the
stored headers (security headers included) plus the request's id, the stored body (or a
304 from the stored `ETag` and `Last-Modified`), the request's log line and its count in
the metrics. Everything else goes on to the app, where a public page that was not in the
cache is rendered, stored, and answered from what was stored.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from masthead.web.conditional import is_current
from masthead.web.render_cache import EventFollower, RenderCache, variant_of
from masthead.web.request_log import Observer, accepted_request_id, log_request

__all__ = ["CachedPages", "cache_key"]

_WANTED = frozenset(
    {b"accept", b"if-none-match", b"if-modified-since", b"x-request-id", b"cache-control"}
)
_REQUEST_ID = b"x-request-id"


def cache_key(scope: Scope, accept: str) -> tuple[str, str] | None:
    """The cache's key for a request, or None if its answer may not be kept."""
    if scope["method"] not in ("GET", "HEAD") or scope.get("query_string"):
        return None
    return scope["path"], variant_of(accept)


class CachedPages:
    def __init__(
        self,
        app: ASGIApp,
        cache: RenderCache,
        follower: EventFollower,
        observe: Observer | None = None,
    ) -> None:
        self.app = app
        self.cache = cache
        self.follower = follower
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.cache.enabled
            or scope["method"] not in ("GET", "HEAD")
            or scope.get("query_string")
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _WANTED
        }
        if "no-cache" in headers.get("cache-control", ""):
            await self.follower.now()
        elif self.follower.due():
            await self.follower.fresh()  # waits only when the last look is old
        entry = self.cache.get((scope["path"], variant_of(headers.get("accept", ""))))
        if entry is None:
            await self.app(scope, receive, send)
            return
        ident = accepted_request_id(headers.get("x-request-id", ""))
        if is_current(headers, entry.etag, entry.last_modified):
            status, raw, body = 304, entry.not_modified_headers, b""
        else:
            status, raw = 200, entry.headers
            body = b"" if scope["method"] == "HEAD" else entry.body
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*raw, (_REQUEST_ID, ident.encode("latin-1"))],
            }
        )
        seconds = time.perf_counter() - started  # logged before the last byte, as `RequestLog`
        method, observe = scope["method"], self.observe
        log_request(method, entry.route, scope["path"], status, seconds, observe, ident)
        await send({"type": "http.response.body", "body": body})
