"""The server bounds a request's head: its size (431) and the time it takes to arrive (408)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.api_support import ApiWorld, api_world

HEADER_TIMEOUT = 1.0
MARGIN = 10.0  # a busy 2-core machine at load 8


@pytest.fixture
def world(sqlite_url: str) -> Iterator[ApiWorld]:
    yield from api_world(sqlite_url, header_timeout_seconds=HEADER_TIMEOUT)


def _connect(world: ApiWorld) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", world.server.port), timeout=MARGIN * 2)
    return connection


def _send_all_you_can(connection: socket.socket, chunks: Iterator[bytes]) -> None:
    """Send until the server stops listening (it may close before all is sent)."""
    try:
        for chunk in chunks:
            connection.sendall(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass


def _answer(connection: socket.socket) -> bytes:
    """Everything the server says until it closes the connection."""
    received = bytearray()
    try:
        while chunk := connection.recv(65536):
            received.extend(chunk)
    except ConnectionResetError:
        pass
    return bytes(received)


def _huge_head(size: int) -> Iterator[bytes]:
    yield b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Padding: "
    for start in range(0, size, 65536):
        yield b"a" * min(65536, size - start)
    yield b"\r\n\r\n"


def test_a_sixteen_megabyte_header_is_refused_and_its_connection_closed(world: ApiWorld) -> None:
    started = time.monotonic()
    with _connect(world) as connection:
        _send_all_you_can(connection, _huge_head(16 * 1024 * 1024))
        answer = _answer(connection)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
    assert b"200 OK" not in answer
    assert time.monotonic() - started < MARGIN * 2


def test_a_head_over_the_limit_in_one_piece_is_answered_431(world: ApiWorld) -> None:
    with _connect(world) as connection:
        connection.sendall(b"".join(_huge_head(20 * 1024)))
        answer = _answer(connection)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"connection: close" in answer


def test_a_head_within_the_limit_and_a_body_past_it_are_served(world: ApiWorld) -> None:
    with world.client("writer") as client:
        within = client.get("/me", headers={"X-Padding": "a" * 12_000})
        post = client.post("/posts", json={"title": "Long", "body": "word " * 40_000})
    assert within.status_code == 200
    assert post.status_code == 201


def _closed_after(connection: socket.socket, dribble: bytes) -> tuple[float, bytes]:
    """One byte of `dribble` every 0.2 s: how long until the server closes, and what it said."""
    started = time.monotonic()
    connection.settimeout(0.2)
    received = bytearray()
    for byte in dribble:
        try:
            connection.sendall(bytes([byte]))
            chunk = connection.recv(65536)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
        received.extend(chunk)
        if not chunk:
            break
        if time.monotonic() - started > HEADER_TIMEOUT + MARGIN:
            break
    return time.monotonic() - started, bytes(received)


def test_a_head_sent_slowly_is_cut_off_after_the_timeout(world: ApiWorld) -> None:
    dribble = b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: " + b"a" * 10_000
    with _connect(world) as connection:
        took, answer = _closed_after(connection, dribble)
    assert HEADER_TIMEOUT * 0.9 <= took < HEADER_TIMEOUT + MARGIN
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")


def test_a_connection_that_sends_nothing_is_closed(world: ApiWorld) -> None:
    started = time.monotonic()
    with _connect(world) as connection:
        answer = _answer(connection)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < HEADER_TIMEOUT + MARGIN


def test_a_kept_alive_connection_serves_one_request_after_another(world: ApiWorld) -> None:
    with world.server.client() as client:
        first = client.get("/healthz")
        time.sleep(HEADER_TIMEOUT * 1.5)  # longer than a head may take, shorter than keep-alive
        second = client.get("/healthz")
    assert (first.status_code, second.status_code) == (200, 200)
