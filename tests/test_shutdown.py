"""Graceful shutdown of a real `masthead serve`: on SIGTERM it stops accepting, lets the
requests in flight finish within the grace period, stops its worker, and exits 0.

The slow requests are real ones: `POST /api/v1/posts/{id}/publish?wait=S` with no worker
to verify the receipt commits the publish, then waits S seconds before answering `202`.
"""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from masthead.actions.drafts import PostFields, create_post
from masthead.domain.staff import Role
from masthead.store.engine import open_engine, reading, writing
from masthead.store.schema import receipts, workers
from tests.api_support import EDGE_HEADER, EDGE_SECRET, add_member
from tests.operators import call_as
from tests.serve_support import masthead_serve

IN_FLIGHT = 100
WAIT_SECONDS = 15  # each request's own length, once its publish has committed
GRACE_SECONDS = 60  # sized for a loaded machine: 100 commits in turn, then the waits
EXIT_MARGIN_SECONDS = 30


def _drafts(database_url: str, count: int) -> tuple[str, list[int]]:
    engine = open_engine(database_url)
    token = add_member(engine, "ada-admin", Role.ADMIN)
    with writing(engine) as connection:
        ids = [
            create_post(
                connection,
                call_as(),
                PostFields(
                    title=f"In flight {number}",
                    dek="A publish that waits.",
                    body="Some words here.",
                    tags=(),
                    authors=("ada-admin",),
                ),
            ).id
            for number in range(count)
        ]
    engine.dispose()
    return token, ids


def _count(database_url: str, table: object) -> int:
    engine = open_engine(database_url)
    with reading(engine) as connection:
        found = int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]
    engine.dispose()
    return found


def test_sigterm_lets_a_hundred_requests_in_flight_finish_and_exits_zero(sqlite_url: str) -> None:
    token, ids = _drafts(sqlite_url, IN_FLIGHT)
    headers = {EDGE_HEADER: EDGE_SECRET, "Authorization": f"Bearer {token}", "If-Match": '"rev-1"'}
    env = {
        "MASTHEAD_EDGE_SECRETS": EDGE_SECRET,
        "MASTHEAD_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
        "MASTHEAD_RATE_LIMIT_PER_MINUTE": "0",
    }
    with masthead_serve(sqlite_url, "--no-worker", **env) as server:
        limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=0)
        client = httpx.Client(base_url=server.url, limits=limits, timeout=GRACE_SECONDS + 60)
        answered: dict[int, tuple[int, float]] = {}
        lock = threading.Lock()

        def publish(post_id: int) -> None:
            response = client.post(
                f"/api/v1/posts/{post_id}/publish",
                params={"wait": WAIT_SECONDS},
                headers=headers,
            )
            with lock:
                answered[post_id] = (response.status_code, time.monotonic())

        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            futures = [pool.submit(publish, post_id) for post_id in ids]
            deadline = time.monotonic() + GRACE_SECONDS
            while _count(sqlite_url, receipts) < IN_FLIGHT:  # every publish has committed
                assert time.monotonic() < deadline, "the publishes did not all commit"
                time.sleep(0.2)
            terminated = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            with lock:
                in_flight = IN_FLIGHT - len(answered)
            refused = httpx_refuses(server.url)
            code = server.process.wait(timeout=GRACE_SECONDS + EXIT_MARGIN_SECONDS)
            exited = time.monotonic() - terminated
            for future in futures:
                future.result()  # none raised: no connection was dropped
        client.close()
    assert code == 0, server.lines
    assert sorted(answered) == sorted(ids)
    assert {status for status, _at in answered.values()} == {202}
    assert in_flight >= IN_FLIGHT // 2, f"only {in_flight} were in flight at SIGTERM"
    assert sum(at > terminated for _status, at in answered.values()) == in_flight
    assert refused, "a new connection was accepted after SIGTERM"
    assert exited < GRACE_SECONDS + EXIT_MARGIN_SECONDS


def httpx_refuses(url: str) -> bool:
    """Whether a new request is refused (within a few seconds of SIGTERM)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/healthz", timeout=2)
        except httpx.TransportError:
            return True
        time.sleep(0.1)
    return False


def test_sigterm_cuts_off_a_request_past_the_grace_period_and_stops_the_worker(
    sqlite_url: str,
) -> None:
    token, (post_id,) = _drafts(sqlite_url, 1)
    headers = {EDGE_HEADER: EDGE_SECRET, "Authorization": f"Bearer {token}", "If-Match": '"rev-1"'}
    env = {
        "MASTHEAD_EDGE_SECRETS": EDGE_SECRET,
        "MASTHEAD_SHUTDOWN_GRACE_SECONDS": "2",
        "MASTHEAD_QUEUE_GRACE_SECONDS": "2",
        "MASTHEAD_VERIFY_URL": "http://127.0.0.1:1",  # verification never succeeds here
    }
    with masthead_serve(sqlite_url, **env) as server, ThreadPoolExecutor(1) as pool:
        assert _count(sqlite_url, workers) == 1
        url = f"{server.url}/api/v1/posts/{post_id}/publish"
        slow = pool.submit(httpx.post, url, params={"wait": 25}, headers=headers, timeout=60)
        deadline = time.monotonic() + 30
        while _count(sqlite_url, receipts) < 1:
            assert time.monotonic() < deadline, "the publish did not commit"
            time.sleep(0.1)
        terminated = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(timeout=40)
        exited = time.monotonic() - terminated
        try:
            status: int | None = slow.result().status_code
        except httpx.TransportError:
            status = None
    assert code == 0, server.lines
    assert exited < 20, f"exited {exited:.1f}s after SIGTERM, with a grace of 2s"
    assert status != 202  # cut off, not answered after its whole wait
    assert _count(sqlite_url, workers) == 0  # the worker deregistered as it stopped
