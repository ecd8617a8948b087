"""A server killed mid-request: a retry with the same key finds the result, or does the work once.

These run a real `masthead serve` process and SIGKILL it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from masthead.domain.staff import Role
from masthead.store.engine import open_engine, reading
from masthead.store.schema import idempotency_keys, posts
from tests.api_support import EDGE_HEADER, EDGE_SECRET, add_member

LOCK_SECONDS = 12
"""Long enough for a new server to start and retry inside the dead call's lock on a busy
machine (at 6 s, a slow start sometimes found the lock already expired)."""


class Server:
    def __init__(self, database_url: str) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {
            **os.environ,
            "MASTHEAD_DATABASE_URL": database_url,
            "MASTHEAD_EDGE_SECRETS": EDGE_SECRET,
            "MASTHEAD_IDEMPOTENCY_LOCK_SECONDS": str(LOCK_SECONDS),
        }
        command = [sys.executable, "-m", "masthead.cli", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def _server(database_url: str) -> Iterator[Server]:
    server = Server(database_url)
    try:
        yield server
    finally:
        server.stop()


def _post(server: Server, token: str, key: str, body: dict[str, Any]) -> httpx.Response:
    headers = {EDGE_HEADER: EDGE_SECRET, "Authorization": f"Bearer {token}", "Idempotency-Key": key}
    url = f"http://127.0.0.1:{server.port}/api/v1/posts"
    return httpx.post(url, json=body, headers=headers, timeout=30)


def _key_state(database_url: str, key: str) -> str | None:
    engine = open_engine(database_url)
    try:
        with reading(engine) as connection:
            state: str | None = connection.execute(
                select(idempotency_keys.c.state).where(idempotency_keys.c.key == key)
            ).scalar()
            return state
    finally:
        engine.dispose()


def _count(database_url: str, title: str) -> int:
    engine = open_engine(database_url)
    try:
        with reading(engine) as connection:
            query = select(func.count()).select_from(posts).where(posts.c.title == title)
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def _send_in_background(server: Server, token: str, key: str, body: dict[str, Any]) -> None:
    def send() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server is killed under this request
            _post(server, token, key, body)

    threading.Thread(target=send, daemon=True).start()


def _wait_for(database_url: str, key: str, state: str) -> None:
    deadline = time.monotonic() + 20
    while _key_state(database_url, key) != state:
        assert time.monotonic() < deadline, f"the key never reached {state}"
        time.sleep(0.005)


def _retry_until_done(server: Server, token: str, key: str, body: dict[str, Any]) -> httpx.Response:
    deadline = time.monotonic() + LOCK_SECONDS + 20
    while True:
        response = _post(server, token, key, body)
        if response.status_code != 409:
            return response
        assert int(response.headers["retry-after"]) >= 1
        assert time.monotonic() < deadline
        time.sleep(0.5)


def test_killed_after_the_write_committed_a_retry_replays_it(database_url: str) -> None:
    token = add_member(open_engine(database_url), "killer", Role.EDITOR)
    key, body = uuid.uuid4().hex, {"title": "Committed before the crash"}
    with _server(database_url) as first:
        _send_in_background(first, token, key, body)
        _wait_for(database_url, key, "done")
        first.kill()
    with _server(database_url) as second:
        retried = _post(second, token, key, body)
    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["title"] == body["title"]
    assert _count(database_url, body["title"]) == 1


SLOW_BODY = ("```python\n" + "def f(x):\n    return x * 2  # comment\n" * 40 + "```\n\n") * 180
"""About a second of rendering: long enough to kill the server inside its write."""


@contextmanager
def _held_half_way(database_url: str) -> Iterator[dict[str, Any]]:
    """Make the next post create stop inside its write transaction, and say with what body.

    PostgreSQL: a table lock the write waits on. SQLite (one writer at a time): a body
    that takes about a second to render, after the write lock is taken.
    """
    if make_url(database_url).get_backend_name() != "postgresql":
        yield {"title": "Cut off half-way", "body": SLOW_BODY}
        return
    plain = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(plain) as blocker:
        blocker.execute("LOCK TABLE posts IN ACCESS EXCLUSIVE MODE")
        yield {"title": "Cut off half-way"}
        blocker.rollback()


def test_killed_before_the_write_committed_a_retry_does_it_once(database_url: str) -> None:
    token = add_member(open_engine(database_url), "killer", Role.EDITOR)
    key = uuid.uuid4().hex
    with _server(database_url) as first, _held_half_way(database_url) as body:
        _send_in_background(first, token, key, body)
        _wait_for(database_url, key, "in_flight")
        time.sleep(0.3)  # the request is now inside its write
        first.kill()
    assert _count(database_url, body["title"]) == 0
    with _server(database_url) as second:
        busy = _post(second, token, key, body)
        assert busy.status_code == 409, busy.text[:200]
        assert busy.json()["code"] == "idempotency_in_flight"
        done = _retry_until_done(second, token, key, body)
    assert done.status_code == 201
    assert "idempotent-replayed" not in done.headers
    assert _count(database_url, body["title"]) == 1
