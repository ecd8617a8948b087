"""The HTTP server's configuration: uvicorn, with bounds on what a request's head may cost.

uvicorn's parser (httptools) takes a request's head of any size and waits for it for any
time: a 16 MB header is read and answered, and a client that sends one byte a second
holds its connection forever. The protocol here bounds both, per request:

* a head (request line and headers) larger than `max_header_bytes` is answered `431`
  and the connection closed, as soon as that many bytes have come without the head
  being complete (so the server never holds more than that, plus one read);
* a head not complete `header_timeout_seconds` after its connection opened, or after its
  first byte on a kept-alive connection, is answered `408` and the connection closed.

An idle kept-alive connection is closed after `keep_alive_seconds`, as uvicorn does.

A request the render cache can answer (`masthead.web.cached_pages`) is answered by the
protocol itself, from the parsed head, in one write: no ASGI task, no response cycle. It
takes that path only when it is a plain one — `GET` or `HEAD` over HTTP/1.1, kept alive,
no query, no body, nothing else in flight on the connection — and the cache has looked at
the events table lately; any other request goes to the app as before.

On SIGTERM (or SIGINT) the server stops accepting, lets the requests in flight finish for
up to `shutdown_grace_seconds`, cuts off the rest, and `run_server` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from masthead.settings import Settings
from masthead.store.engine import is_sqlite
from masthead.web.cached_pages import CachedPages, wanted_headers

__all__ = ["default_workers", "run_server", "run_workers", "server_config"]

_log = logging.getLogger("masthead.server")


class _HeadTooLarge(Exception):
    """Raised from the parser's callback: the complete head is over the limit."""


_STATUS_LINES = {200: b"HTTP/1.1 200 OK\r\n", 304: b"HTTP/1.1 304 Not Modified\r\n"}
_NOT_PLAIN = frozenset({b"content-length", b"transfer-encoding", b"expect", b"upgrade"})
"""Request headers that send a request the app's way: it has a body, or wants more."""


class _BoundedHead(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a size limit and a deadline on each request's
    head, answering render-cache hits itself."""

    max_header_bytes: ClassVar[int]
    header_timeout: ClassVar[float]
    pages: ClassVar[CachedPages | None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._head_too_large = False
        self._answered = False
        self._server_lines: tuple[object, bytes] = (None, b"")

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._end_head()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._head_timer is not None:
            self._head_bytes += len(data)
        super().data_received(data)
        reading = self._head_timer is not None and not self.transport.is_closing()
        if reading and self._head_bytes > self.max_header_bytes:
            self._refuse(431, "Request Header Fields Too Large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._answered = False
        self._start_head()

    def on_headers_complete(self) -> None:
        started = time.perf_counter()
        self._end_head()
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.max_header_bytes:
            self._head_too_large = True
            raise _HeadTooLarge  # the parser stops; uvicorn answers it as a bad request
        if self.pages is not None and self._answer_from_cache(self.pages, started):
            self._answered = True
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._answered:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._answered:
            super().on_message_complete()

    def _answer_from_cache(self, pages: CachedPages, started: float) -> bool:
        """Answer a plain request for a cached page here; False: the app answers it."""
        method, path = self._plain_request()
        if path is None or not pages.cache.enabled or pages.follower.due():
            return False  # a due look at the events table is begun by the app's layer
        headers = wanted_headers(self.headers)
        if "no-cache" in headers.get("cache-control", ""):
            return False
        hit = pages.look_up(path, headers)
        if hit is None:
            return False
        body = hit.entry.body if hit.status == 200 and method == "GET" else b""
        pages.answered(method, path, hit, started)
        self.transport.write(
            b"".join((_STATUS_LINES[hit.status], self._server_head(), hit.head, body))
        )
        self.on_response_complete()  # counts it, then keeps the connection alive, as uvicorn
        return True

    def _plain_request(self) -> tuple[str, str | None]:
        """The method and path of a request this protocol may answer itself (else no path)."""
        cycle, url, parser = self.cycle, self.url, self.parser
        busy = cycle is not None and not cycle.response_complete
        if busy or self.pipeline or self.flow.write_paused or self.root_path:
            return "", None  # an answer in flight, or queued: the app's way keeps the order
        method = parser.get_method()
        if method not in (b"GET", b"HEAD") or parser.get_http_version() != "1.1":
            return "", None
        if not parser.should_keep_alive() or parser.should_upgrade():
            return "", None
        if not url.startswith(b"/") or not url.isascii() or any(c in url for c in b"?%#"):
            return "", None  # a query, or an escaped path: the framework's parsing
        if any(name in _NOT_PLAIN for name, _value in self.headers):
            return "", None
        return method.decode("ascii"), url.decode("ascii")

    def _server_head(self) -> bytes:
        """uvicorn's own header lines (`date`, `server`), joined once per change."""
        current = self.server_state.default_headers
        if self._server_lines[0] is not current:
            joined = b"".join(name + b": " + value + b"\r\n" for name, value in current)
            self._server_lines = (current, joined)
        return self._server_lines[1]

    def send_400_response(self, msg: str) -> None:
        if self._head_too_large:
            self._refuse(431, "Request Header Fields Too Large")
        else:
            super().send_400_response(msg)

    def _start_head(self) -> None:
        if self._head_timer is None:
            self._head_bytes = 0
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _end_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self._refuse(408, "Request Timeout")

    def _refuse(self, status: int, reason: str) -> None:
        self._end_head()
        body = f"{reason}\n".encode("ascii")
        head = (
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()


def _protocol(settings: Settings, app: ASGIApp) -> type[asyncio.Protocol]:
    limits = {
        "max_header_bytes": settings.max_header_bytes,
        "header_timeout": settings.header_timeout_seconds,
        "pages": app if isinstance(app, CachedPages) else None,
    }
    return type("BoundedHeadProtocol", (_BoundedHead,), limits)


def server_config(
    app: ASGIApp, settings: Settings, *, host: str, port: int, **options: Any
) -> uvicorn.Config:
    """The uvicorn configuration `masthead serve` (and the tests' live server) runs with."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=_protocol(settings, app),
        timeout_keep_alive=settings.keep_alive_seconds,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        **options,
    )


class _Server(uvicorn.Server):
    """uvicorn's server, returning after a graceful shutdown rather than dying by the signal.

    uvicorn raises a caught SIGTERM or SIGINT again once it has shut down, so the process
    dies of it; Masthead's caller then still has its worker to stop, and exits 0.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


def run_server(app: ASGIApp, settings: Settings, listening: socket.socket) -> None:
    """Serve on a socket already bound (so a busy port is found before anything is said)."""
    host, port = listening.getsockname()[:2]
    config = server_config(
        app, settings, host=host, port=port, log_level="warning", access_log=False, log_config=None
    )
    # Everything alive now (modules, the app, its templates and engine) lives as long as
    # the process: kept out of the collector's full passes, which on a heap this size took
    # 120-160 ms each, stalling every request in flight (the cached pages' p99).
    gc.freeze()
    _Server(config).run(sockets=[listening])


def default_workers(settings: Settings) -> int:
    """One process on SQLite (its default: one writer at a time anyway); on PostgreSQL,
    one per core."""
    if is_sqlite(settings.database_url):
        return 1
    return max(1, os.cpu_count() or 1)


def run_workers(
    make_app: Callable[[], ASGIApp],
    settings: Settings,
    listening: socket.socket,
    workers: int,
    *,
    started: Callable[[], None] | None = None,
) -> None:
    """Serve with `workers` processes forked on one listening socket, until SIGTERM.

    Each process builds its own app (its own engine, pool and render cache) after the
    fork. SIGTERM or SIGINT here is passed on to each of them, which stops as one server
    does; one that dies otherwise is replaced. `started` runs in this process once they
    are forked (e.g. to start the task worker, whose threads must not be forked).
    """
    group = _Processes(make_app, settings, listening)
    previous = {number: signal.signal(number, group.stop) for number in STOP_SIGNALS}
    try:
        for _ in range(workers):
            group.spawn()
        if started is not None:
            started()
        group.watch()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
RESPAWN_PAUSE_SECONDS = 1.0
PR_SET_PDEATHSIG = 1  # prctl(2)


def _die_with(parent: int) -> None:
    """A server process never outlives its parent: one left behind by a parent killed with
    SIGKILL would keep the port and finish requests that a retry will make again. On Linux
    the kernel kills it when the parent dies (elsewhere, only a parent gone before the
    fork finished is noticed).
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the kernel was told
        os._exit(1)


class _Processes:
    """The forked server processes of `run_workers`."""

    def __init__(
        self, make_app: Callable[[], ASGIApp], settings: Settings, listening: socket.socket
    ) -> None:
        self.make_app, self.settings, self.listening = make_app, settings, listening
        self.children: set[int] = set()
        self.stopping = False

    def spawn(self) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            _die_with(parent)
            self._serve()
        self.children.add(pid)

    def _serve(self) -> None:
        """The child: serve, then leave without running the parent's cleanup."""
        code = 1
        try:
            for number in STOP_SIGNALS:
                signal.signal(number, signal.SIG_DFL)
            run_server(self.make_app(), self.settings, self.listening)
            code = 0
        except BaseException:
            _log.exception("server process failed")
        finally:
            os._exit(code)

    def stop(self, _signum: int, _frame: object) -> None:
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def watch(self) -> None:
        """Wait for every child; replace one that ends while not stopping."""
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                return
            self.children.discard(pid)
            if not self.stopping:
                _log.warning("server process %d ended (status %d); starting another", pid, status)
                time.sleep(RESPAWN_PAUSE_SECONDS)
                self.spawn()
