"""Webhook receivers for tests: real HTTP servers on loopback that check every signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import Connection, Engine

from masthead.actions import webhooks
from masthead.actions.drafts import PostFields, create_post
from masthead.actions.lifecycle import DISPATCH
from masthead.domain.webhooks import DELIVER, Delivery
from masthead.queue.embedded import start_embedded_worker
from masthead.queue.registry import load_registry
from masthead.settings import Settings
from masthead.store import webhooks as webhook_store
from masthead.store.engine import reading, writing
from tests.conftest import settings_for
from tests.operators import call_as

QUICK_WEBHOOKS: dict[str, object] = {
    "webhooks_allow_private": True,
    "webhook_backoff_base_seconds": 0.05,
    "webhook_backoff_cap_seconds": 0.2,
    "webhook_timeout_seconds": 10,
    "queue_poll_seconds": 0.1,
    "queue_lease_seconds": 20,
    "queue_heartbeat_seconds": 2,
    "queue_reaper_seconds": 1,
    "queue_grace_seconds": 5,
    "verify_retry_seconds": 0.2,
    "verify_window_seconds": 1,
}
"""A worker for tests: quick retries, leases sized for a loaded machine."""


@dataclass
class Received:
    headers: dict[str, str]
    body: str

    @property
    def document(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found


@dataclass
class Receiver:
    """Answers each request with the next of `statuses` (then 200); records what it got.

    `secret` set: every request's signature is checked, and a bad one is answered 401
    and counted in `bad_signatures`. `hold` set: requests wait until it is set.
    """

    statuses: list[int] = field(default_factory=list)
    secret: str | None = None
    hold: threading.Event | None = None
    received: list[Received] = field(default_factory=list)
    bad_signatures: int = 0
    arrived: int = 0  # requests that reached the receiver, held or not
    headers: dict[str, str] = field(default_factory=dict)  # sent with every answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Received) -> int:
        with self.lock:
            self.arrived += 1
        if self.hold is not None:
            self.hold.wait(60)
        with self.lock:
            if self.secret is not None and not signature_holds(self.secret, request):
                self.bad_signatures += 1
                return 401
            self.received.append(request)
            return self.statuses.pop(0) if self.statuses else 200

    def event_ids(self) -> list[str]:
        with self.lock:
            return [item.headers["masthead-event-id"] for item in self.received]


def signature_holds(secret: str, request: Received) -> bool:
    """The receiver's side of docs/webhooks.md: any one `v1=` signature must match."""
    timestamp = request.headers["masthead-timestamp"]
    if abs(time.time() - int(timestamp)) > 300:
        return False
    expected = hmac.new(
        secret.encode(), f"{timestamp}.{request.body}".encode(), hashlib.sha256
    ).hexdigest()
    offered = request.headers["masthead-signature"].split()
    return any(hmac.compare_digest(item.removeprefix("v1="), expected) for item in offered)


@contextmanager
def serving(receiver: Receiver) -> Iterator[str]:
    """The receiver on a loopback port; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode()
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = receiver.answer(Received(headers, body))
            self.send_response(status)
            for name, value in receiver.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        server.shutdown()
        server.server_close()


def webhook_settings(engine: Engine, **overrides: object) -> Settings:
    url = engine.url.render_as_string(hide_password=False)
    return settings_for(url, **{**QUICK_WEBHOOKS, **overrides})


def add_webhook(engine: Engine, settings: Settings, url: str, events: list[str]) -> tuple[int, str]:
    with writing(engine) as connection:
        created = webhooks.add_webhook(connection, call_as(settings=settings), url, events)
    assert created.secret is not None
    return created.webhook.id, created.secret


@contextmanager
def delivering_worker(
    engine: Engine, settings: Settings, *, only_webhooks: bool = False
) -> Iterator[None]:
    """A worker in this process; `only_webhooks`: the dispatcher and deliveries alone
    (no publish verification competing for the machine)."""
    registry = load_registry(settings)
    if only_webhooks:
        registry = registry.only([DISPATCH, DELIVER])
    handle = start_embedded_worker(settings, engine, registry=registry)
    try:
        yield
    finally:
        handle.stop()


def deliveries(engine: Engine, webhook_id: int) -> list[Delivery]:
    """Oldest first, with their attempts."""
    with reading(engine) as connection:
        found = webhook_store.list_deliveries(connection, webhook_id, limit=10_000)
    return list(reversed(found))


def draft(connection: Connection, title: str, settings: Settings) -> int:
    fields = PostFields(
        title=title, body="A few words.", tags=("operations",), authors=("marcus-bell",)
    )  # type: ignore[arg-type]
    return create_post(connection, call_as(settings=settings), fields).id
