"""Render-cache hits answered by the server's protocol itself, over a real socket.

The protocol answers a plain request for a cached page from the parsed head; these tests
hold it to the app's answer byte for byte, and to HTTP's order and rules where it must
step aside (pipelined requests behind one in flight, a body, a query, HTTP/1.0).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from masthead.web.cached_pages import CachedPages
from tests.conftest import LiveServer, _fresh, settings_for
from tests.databases import DatabaseFactory

VARYING = {"date", "x-request-id"}


@pytest.fixture
def server(database_factories: dict[str, DatabaseFactory]) -> Iterator[LiveServer]:
    for url in _fresh(database_factories, "sqlite", "demo"):
        with LiveServer(settings_for(url)) as live:
            yield live


@pytest.fixture
def app_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests that reached the app's cache layer (not the protocol's)."""
    seen: list[str] = []
    through = CachedPages.__call__

    async def counted(self: CachedPages, scope: dict, receive: object, send: object) -> None:
        if scope["type"] == "http":
            seen.append(scope["path"])
        await through(self, scope, receive, send)  # type: ignore[arg-type]

    monkeypatch.setattr(CachedPages, "__call__", counted)
    return seen


def _steady(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name not in VARYING}


def _exchange(server: LiveServer, raw: bytes, answers: int) -> list[bytes]:
    """Send `raw` on one connection; the status lines of the `answers` answers, read in turn."""
    statuses: list[bytes] = []
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(raw)
        got = b""
        while len(statuses) < answers:
            head_end = got.find(b"\r\n\r\n")
            if head_end < 0:
                chunk = conn.recv(65536)
                assert chunk, f"the connection closed after {statuses}"
                got += chunk
                continue
            head = got[:head_end].split(b"\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            while len(got) < head_end + 4 + length:
                chunk = conn.recv(65536)
                assert chunk, "the connection closed in the middle of a body"
                got += chunk
            statuses.append(head[0])
            got = got[head_end + 4 + length :]
    return statuses


def test_a_hit_is_answered_by_the_protocol_byte_for_byte_as_the_app_answers(
    server: LiveServer, app_calls: list[str]
) -> None:
    with server.client() as client:
        rendered = client.get("/tag/operations/")  # a miss: the app renders, stores and answers it
        hits = [client.get("/tag/operations/") for _ in range(5)]
        through_app = client.get("/tag/operations/", headers={"Cache-Control": "no-cache"})
    assert rendered.status_code == 200
    # the miss and the no-cache one; a hit goes the app's way only when a look is due
    assert app_calls.count("/tag/operations/") <= 4
    for answer in [*hits, through_app]:
        assert answer.status_code == 200
        assert answer.content == rendered.content
        assert _steady(answer) == _steady(rendered)
        assert list(answer.headers) == list(rendered.headers)  # same names, same order
    ids = {answer.headers["x-request-id"] for answer in [rendered, *hits]}
    assert len(ids) == 6


def test_a_conditional_hit_and_a_head_are_answered_without_the_app(
    server: LiveServer, app_calls: list[str]
) -> None:
    with server.client() as client:
        first = client.get("/posts/gates-before-publish/")
        before = len(app_calls)
        again = client.get(
            "/posts/gates-before-publish/", headers={"If-None-Match": first.headers["etag"]}
        )
        head = client.head("/posts/gates-before-publish/")
        traced = client.get("/posts/gates-before-publish/", headers={"X-Request-Id": "trace-7"})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == first.headers["content-length"]
    assert traced.headers["x-request-id"] == "trace-7"
    assert len(app_calls) - before <= 2  # only when a look at the events table is due


def test_pipelined_requests_come_back_in_order_whichever_layer_answers(
    server: LiveServer,
) -> None:
    with server.client() as client:
        client.get("/")
        client.get("/tag/operations/")
    raw = (
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"  # cached
        b"GET /search?q=queue HTTP/1.1\r\nHost: x\r\n\r\n"  # query-driven: the app
        b"GET /tag/operations/ HTTP/1.1\r\nHost: x\r\n\r\n"  # cached, behind one in flight
        b"GET /no-such-page/ HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /tag/operations/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    statuses = _exchange(server, raw, 5)
    assert statuses == [
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 404 Not Found",
        b"HTTP/1.1 200 OK",
    ]


def test_a_request_with_a_body_or_over_http_1_0_goes_to_the_app(
    server: LiveServer, app_calls: list[str]
) -> None:
    with server.client() as client:
        client.get("/")
    before = len(app_calls)
    with_body = b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    assert _exchange(server, with_body, 1) == [b"HTTP/1.1 200 OK"]
    old = b"GET / HTTP/1.0\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(old)
        answer = b""
        while chunk := conn.recv(65536):  # HTTP/1.0: the server closes after the answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert len(app_calls) - before == 2


def test_a_hit_is_logged_and_counted_under_its_route(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="masthead.request")
    with server.client() as client:
        client.get("/tag/operations/")
        hit = client.get("/tag/operations/", headers={"X-Request-Id": "hit-42"})
    assert hit.status_code == 200
    lines = [r for r in caplog.records if getattr(r, "request_id", None) == "hit-42"]
    assert [(r.route, r.status) for r in lines] == [("/tag/{slug}/", 200)]  # type: ignore[attr-defined]
