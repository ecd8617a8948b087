"""A small caching proxy in front of a live server: a CDN edge that can lag, or break.

It stands in for what cannot run here (a remote CDN). `warm(paths)` fills its cache
from the origin; then it answers the first `stale_for` requests of a path from the cache,
and passes the later ones through (refreshing the cache). With `stale_for=None` it never
passes through: an edge that keeps serving the old site. `delay` slows every answer.
`tamper[path]` rewrites what the path answers: an edge that serves the wrong page.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


class EdgeProxy:
    def __init__(self, origin: str, *, stale_for: int | None = 0, delay: float = 0.0) -> None:
        self.origin = origin
        self.stale_for = stale_for
        self.delay = delay
        self.tamper: dict[str, Callable[[bytes], bytes]] = {}
        self.cache: dict[str, tuple[int, str, bytes]] = {}
        self.served_stale: Counter[str] = Counter()
        self.requests = 0  # how many GETs have come in
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def warm(self, paths: Iterable[str]) -> None:
        for path in paths:
            self.cache[path] = self._fetch(path)

    def _fetch(self, path: str) -> tuple[int, str, bytes]:
        response = httpx.get(f"{self.origin}{path}", timeout=30)
        return response.status_code, response.headers.get("content-type", ""), response.content

    def answer(self, path: str) -> tuple[int, str, bytes]:
        with self.lock:
            cached = self.cache.get(path)
            stale = cached is not None and (
                self.stale_for is None or self.served_stale[path] < self.stale_for
            )
            if stale:
                self.served_stale[path] += 1
        if cached is not None and stale:
            return cached
        fresh = self._fetch(path)
        with self.lock:
            self.cache[path] = fresh
        return fresh

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with proxy.lock:
                    proxy.requests += 1
                if proxy.delay:
                    time.sleep(proxy.delay)
                status, kind, body = proxy.answer(self.path)
                if self.path in proxy.tamper:
                    body = proxy.tamper[self.path](body)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                return

        return Handler

    @contextmanager
    def running(self) -> Iterator[EdgeProxy]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(10)
