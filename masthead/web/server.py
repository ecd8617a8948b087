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

On SIGTERM (or SIGINT) the server stops accepting, lets the requests in flight finish for
up to `shutdown_grace_seconds`, cuts off the rest, and `run_server` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any, ClassVar

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from masthead.settings import Settings

__all__ = ["run_server", "server_config"]


class _HeadTooLarge(Exception):
    """Raised from the parser's callback: the complete head is over the limit."""


class _BoundedHead(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a size limit and a deadline on each request's head."""

    max_header_bytes: ClassVar[int]
    header_timeout: ClassVar[float]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._head_too_large = False

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
        self._start_head()

    def on_headers_complete(self) -> None:
        self._end_head()
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.max_header_bytes:
            self._head_too_large = True
            raise _HeadTooLarge  # the parser stops; uvicorn answers it as a bad request
        super().on_headers_complete()

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


def _protocol(settings: Settings) -> type[asyncio.Protocol]:
    limits = {
        "max_header_bytes": settings.max_header_bytes,
        "header_timeout": settings.header_timeout_seconds,
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
        http=_protocol(settings),
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
    _Server(config).run(sockets=[listening])
