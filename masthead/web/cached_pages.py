"""The hot path: render-cache hits answered before the framework's routing and middleware.

A `GET` or `HEAD` without a query string whose page is in the cache is answered with the
stored headers (security headers included) plus the request's id, the stored body (or a
304 from the stored `ETag` and `Last-Modified`), the request's log line and its count in
the metrics — with no database slot, no thread and no template work. Two layers answer
it by the one rule here (`CachedPages.look_up`):

* the server's protocol (`masthead.web.server`), straight from the parsed request head:
  one write, no ASGI task, when nothing else is in flight on the connection;
* `CachedPages`, a thin ASGI layer, outermost, for the rest (and under any other server).

Everything else goes on to the app, where a public page that was not in the cache is
rendered, stored, and answered from what was stored.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from masthead.web.conditional import is_current
from masthead.web.render_cache import Entry, EventFollower, RenderCache, variant_of
from masthead.web.request_log import Observer, accepted_request_id, log_request

__all__ = ["CachedPages", "Hit", "cache_key", "wanted_headers"]

_WANTED = frozenset(
    {b"accept", b"if-none-match", b"if-modified-since", b"x-request-id", b"cache-control"}
)
_REQUEST_ID = b"x-request-id"


def cache_key(scope: Scope, accept: str) -> tuple[str, str] | None:
    """The cache's key for a request, or None if its answer may not be kept."""
    if scope["method"] not in ("GET", "HEAD") or scope.get("query_string"):
        return None
    return scope["path"], variant_of(accept)


def wanted_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request headers a hit depends on, decoded."""
    return {
        name.decode("latin-1"): value.decode("latin-1") for name, value in raw if name in _WANTED
    }


class Hit:
    """A request answered from the cache: its status, entry and id."""

    __slots__ = ("entry", "request_id", "status")

    def __init__(self, status: int, entry: Entry, request_id: str) -> None:
        self.status, self.entry, self.request_id = status, entry, request_id

    @property
    def head(self) -> bytes:
        """The header lines after the server's own, as on the wire (ending in a blank line)."""
        lines = self.entry.head if self.status == 200 else self.entry.not_modified_head
        return b"%sx-request-id: %s\r\n\r\n" % (lines, self.request_id.encode("latin-1"))


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

    def look_up(self, path: str, headers: Mapping[str, str]) -> Hit | None:
        """The answer to a `GET` or `HEAD` of `path` from the cache, if it holds the page."""
        entry = self.cache.get((path, variant_of(headers.get("accept", ""))))
        if entry is None:
            return None
        ident = accepted_request_id(headers.get("x-request-id", ""))
        status = 304 if is_current(headers, entry.etag, entry.last_modified) else 200
        return Hit(status, entry, ident)

    def answered(self, method: str, path: str, hit: Hit, started: float) -> None:
        """The hit's log line and count, before its last byte (as `RequestLog` does)."""
        seconds = time.perf_counter() - started
        entry, status = hit.entry, hit.status
        log_request(method, entry.route, path, status, seconds, self.observe, hit.request_id)

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
        headers = wanted_headers(scope["headers"])
        if "no-cache" in headers.get("cache-control", ""):
            await self.follower.now()
        elif self.follower.due():
            await self.follower.fresh()  # waits only when the last look is old
        path, method = scope["path"], scope["method"]
        hit = self.look_up(path, headers)
        if hit is None:
            await self.app(scope, receive, send)
            return
        entry = hit.entry
        if hit.status == 304:
            raw, body = entry.not_modified_headers, b""
        else:
            raw, body = entry.headers, (b"" if method == "HEAD" else entry.body)
        await send(
            {
                "type": "http.response.start",
                "status": hit.status,
                "headers": [*raw, (_REQUEST_ID, hit.request_id.encode("latin-1"))],
            }
        )
        self.answered(method, path, hit, started)
        await send({"type": "http.response.body", "body": body})
