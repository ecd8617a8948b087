"""Idempotency-Key: a retried write is done once, and its first response replayed.

For a write that names a key, the caller is authenticated first (a revoked token, or a
suspended member's, gets its 401 and leaves no trace). The key is then claimed,
committed on its own so that a concurrent retry sees it in flight. The route runs inside
one write transaction of the request's unit of work, which this middleware opens; on
success the response is stored under the key *in that same transaction*, so either both
the write and its record commit or neither does. An error response is stored after
rolling the write back. Only then is the response sent. Secret-bearing fields (a route
names them with `keep_secret`) are never stored: a replay answers them as null.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta

from anyio.to_thread import run_sync
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from masthead.actions import idempotency as keys
from masthead.actions.auth import authenticate
from masthead.domain.idempotency import Decision, StoredResponse
from masthead.errors import Unauthenticated
from masthead.settings import Settings
from masthead.store.engine import UnitOfWork
from masthead.web.database import DATABASE_AWAY, request_unit
from masthead.web.problems import problem, unavailable

__all__ = [
    "MAX_KEY_LENGTH",
    "Idempotency",
    "KeyLedger",
    "commit_with",
    "keep_secret",
    "release",
    "settle_refusal",
    "stored_under",
]

KEY_HEADER = "idempotency-key"
REPLAYED_HEADER = (b"idempotent-replayed", b"true")
KEPT_HEADERS = {"content-type", "location", "etag", "retry-after", "www-authenticate"}
MAX_KEY_LENGTH = 200
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SECRET_FIELDS = "masthead_secret_fields"  # noqa: S105 - where a route names its secrets


def keep_secret(request: Request, *fields: str) -> None:
    """Say that these fields of the response carry a secret: never store them."""
    request.state.masthead_secret_fields = (*getattr(request.state, SECRET_FIELDS, ()), *fields)


class Idempotency:
    """ASGI middleware around the API application."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.ledger = KeyLedger(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        key = headers.get(KEY_HEADER)
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS or key is None:
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self._keyed(scope, receive, tracked, headers, key)
        except DATABASE_AWAY as error:  # its own steps need the database too: say so, as JSON
            if started:
                raise
            await unavailable(error)(scope, receive, send)

    async def _keyed(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers, key: str
    ) -> None:
        if not key or len(key) > MAX_KEY_LENGTH:
            detail = f"an Idempotency-Key is 1 to {MAX_KEY_LENGTH} characters"
            await problem("invalid_idempotency_key", detail)(scope, receive, send)
            return
        unit = request_unit(scope)
        token_id = await run_sync(_token_id, unit, headers)
        if token_id is None:  # no valid token: the route answers 401, nothing is kept
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        now = datetime.now(UTC)
        decision, retry_after = await run_sync(
            self.ledger.claim, unit, token_id, key, _request_digest(scope, body), now
        )
        if decision is Decision.PROCEED:
            await self._run_once(scope, send, unit, token_id, key, body)
        elif decision is Decision.REPLAY:
            stored = await run_sync(stored_under, unit, token_id, key)
            await _Captured.from_stored(stored).replay(send, replayed=True)
        elif decision is Decision.MISMATCH:
            detail = "this Idempotency-Key was used for a different request"
            await problem("idempotency_key_reused", detail)(scope, receive, send)
        else:
            detail = "a request with this Idempotency-Key is still running; retry later"
            response = problem("idempotency_in_flight", detail)
            response.headers["Retry-After"] = str(retry_after)
            await response(scope, receive, send)

    async def _run_once(
        self, scope: Scope, send: Send, unit: UnitOfWork, token_id: int, key: str, body: bytes
    ) -> None:
        """Run the route in a transaction that also records the key's response."""
        await run_sync(lambda: unit.begin(write=True))  # the route's steps join it
        captured = _Captured()
        try:
            await self.app(scope, _replaying(body), captured.send)
            response = captured.stored()
            if response.status_code < 400:
                secrets = scope.get("state", {}).get(SECRET_FIELDS, ())
                kept = keys.redact(response, secrets)
                await run_sync(commit_with, unit, token_id, key, kept)
            else:
                await run_sync(unit.rollback)
                await run_sync(settle_refusal, unit, token_id, key, response)
        except BaseException:
            await run_sync(unit.rollback)
            await run_sync(release, unit, token_id, key)
            raise
        await captured.replay(send, replayed=False)


def _token_id(unit: UnitOfWork, headers: Headers) -> int | None:
    """The id of a token that may act now, or None (missing, unknown, revoked, suspended)."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        with unit.transaction() as connection:
            return authenticate(connection, token.strip()).actor.token_id
    except Unauthenticated:
        return None


class KeyLedger:
    """The steps every face takes with a key, each in a transaction of the caller's unit."""

    def __init__(self, settings: Settings) -> None:
        self.lock_for = timedelta(seconds=settings.idempotency_lock_seconds)
        self.keep_for = timedelta(hours=settings.idempotency_keep_hours)

    def claim(
        self, unit: UnitOfWork, token_id: int, key: str, digest: str, now: datetime
    ) -> tuple[Decision, int]:
        """Decide from a plain read first (no lock), then claim under the write lock.

        Answers the decision, and the seconds a call in flight should wait before retrying.
        """
        with unit.transaction() as connection:
            decision, existing = keys.look_up_key(connection, token_id, key, digest, now)
        if decision is Decision.PROCEED:
            try:
                with unit.transaction(write=True) as connection:
                    decision, existing = keys.claim_key(
                        connection,
                        token_id,
                        key,
                        digest,
                        now,
                        lock_for=self.lock_for,
                        keep_for=self.keep_for,
                    )
            except IntegrityError:  # a concurrent first call claimed it a moment ago
                return Decision.IN_FLIGHT, math.ceil(self.lock_for.total_seconds())
        wait = (existing.locked_until - now).total_seconds() if existing else 0
        return decision, max(1, math.ceil(wait))


def commit_with(unit: UnitOfWork, token_id: int, key: str, response: StoredResponse) -> None:
    """Record the key's response in the write's own open transaction, and commit both."""
    keys.complete_key(unit.connection, token_id, key, response)
    unit.commit()


def settle_refusal(unit: UnitOfWork, token_id: int, key: str, response: StoredResponse) -> None:
    """A refusal (4xx) is kept and replayed; a failure of ours (5xx) may be retried."""
    with unit.transaction(write=True) as connection:
        if response.status_code >= 500:
            keys.release_key(connection, token_id, key)
        else:
            keys.complete_key(connection, token_id, key, response)


def release(unit: UnitOfWork, token_id: int, key: str) -> None:
    with unit.transaction(write=True) as connection:
        keys.release_key(connection, token_id, key)


def stored_under(unit: UnitOfWork, token_id: int, key: str) -> StoredResponse:
    with unit.transaction() as connection:
        return keys.stored_response(connection, token_id, key)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _request_digest(scope: Scope, body: bytes) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    target = f"{scope['method']} {scope.get('root_path', '')}{scope['path']}?{query}"
    return hashlib.sha256(target.encode() + b"\n" + body).hexdigest()


class _Captured:
    """A response held back until its transaction has committed."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body.extend(message.get("body", b""))

    def stored(self) -> StoredResponse:
        kept = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in self.headers
            if name.decode("latin-1").lower() in KEPT_HEADERS
        ]
        return StoredResponse(self.status, kept, bytes(self.body))

    @classmethod
    def from_stored(cls, stored: StoredResponse) -> _Captured:
        captured = cls()
        captured.status = stored.status_code
        captured.headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in stored.headers]
        captured.headers.append((b"content-length", str(len(stored.body)).encode()))
        captured.body = bytearray(stored.body)
        return captured

    async def replay(self, send: Send, *, replayed: bool) -> None:
        headers = list(self.headers)
        if replayed:
            headers.append(REPLAYED_HEADER)
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": bytes(self.body)})
