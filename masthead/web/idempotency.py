"""Idempotency-Key: a retried write is done once, and its first response replayed.

For a write that names a key, the key is first claimed (committed on its own, so a
concurrent retry sees it in flight). The route then runs inside one transaction that
this middleware opens; on success the response is stored under the key *in that same
transaction*, so either both the write and its record commit or neither does. An error
response is stored after rolling the write back. Only then is the response sent.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta

from anyio.to_thread import run_sync
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from masthead.domain.idempotency import Decision, KeyRecord, decide
from masthead.domain.secrets import digest
from masthead.settings import Settings
from masthead.store import idempotency as keys
from masthead.store.engine import reading, write_lock, writing
from masthead.store.tokens import find_by_digest
from masthead.web.problems import problem

__all__ = ["SHARED_CONNECTION", "Idempotency"]

SHARED_CONNECTION = "masthead_connection"
"""Where the route finds the transaction it must write in (`scope["state"]`)."""
KEY_HEADER = "idempotency-key"
REPLAYED_HEADER = (b"idempotent-replayed", b"true")
KEPT_HEADERS = {"content-type", "location", "etag", "retry-after", "www-authenticate"}
MAX_KEY_LENGTH = 200
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class Idempotency:
    """ASGI middleware around the API application."""

    def __init__(self, app: ASGIApp, settings: Settings, engine: Engine) -> None:
        self.app = app
        self.engine = engine
        self.lock_for = timedelta(seconds=settings.idempotency_lock_seconds)
        self.keep_for = timedelta(hours=settings.idempotency_keep_hours)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        key = headers.get(KEY_HEADER)
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS or key is None:
            await self.app(scope, receive, send)
            return
        if not key or len(key) > MAX_KEY_LENGTH:
            detail = f"an Idempotency-Key is 1 to {MAX_KEY_LENGTH} characters"
            await problem(422, "invalid_idempotency_key", detail)(scope, receive, send)
            return
        token_id = await run_sync(self._token_id, headers)
        if token_id is None:  # not a valid token: the route answers 401, nothing to keep
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        now = datetime.now(UTC)
        decision, retry_after = await run_sync(
            self._claim, token_id, key, _request_digest(scope, body), now
        )
        if decision is Decision.PROCEED:
            await self._run_once(scope, send, token_id, key, body)
        elif decision is Decision.REPLAY:
            stored = await run_sync(self._stored, token_id, key)
            await _Captured.from_stored(stored).replay(send, replayed=True)
        elif decision is Decision.MISMATCH:
            detail = "this Idempotency-Key was used for a different request"
            await problem(422, "idempotency_key_reused", detail)(scope, receive, send)
        else:
            detail = "a request with this Idempotency-Key is still running; retry later"
            response = problem(409, "idempotency_in_flight", detail)
            response.headers["Retry-After"] = str(retry_after)
            await response(scope, receive, send)

    def _token_id(self, headers: Headers) -> int | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        with reading(self.engine) as connection:
            record = find_by_digest(connection, digest(token.strip()))
        return record.id if record else None

    def _claim(
        self, token_id: int, key: str, request_digest: str, now: datetime
    ) -> tuple[Decision, int]:
        """Decide from a plain read first (no lock), then claim under the write lock."""
        with reading(self.engine) as connection:
            existing = keys.find(connection, token_id, key)
        decision = decide(existing, request_digest, now)
        if decision is Decision.PROCEED:
            try:
                decision, existing = self._claim_for_writing(token_id, key, request_digest, now)
            except IntegrityError:  # a concurrent first call claimed it a moment ago
                return Decision.IN_FLIGHT, math.ceil(self.lock_for.total_seconds())
        wait = (existing.locked_until - now).total_seconds() if existing else 0
        return decision, max(1, math.ceil(wait))

    def _claim_for_writing(
        self, token_id: int, key: str, request_digest: str, now: datetime
    ) -> tuple[Decision, KeyRecord | None]:
        with writing(self.engine) as connection:
            existing = keys.find(connection, token_id, key, lock=True)
            decision = decide(existing, request_digest, now)
            if decision is Decision.PROCEED and not keys.claim(
                connection,
                token_id,
                key,
                request_digest,
                replacing=existing,
                at=now,
                locked_until=now + self.lock_for,
                expires_at=now + self.keep_for,
            ):
                decision = Decision.IN_FLIGHT
        return decision, existing

    def _stored(self, token_id: int, key: str) -> keys.StoredResponse:
        with reading(self.engine) as connection:
            stored = keys.stored_response(connection, token_id, key)
        assert stored is not None, "a done key has its response"
        return stored

    async def _run_once(
        self, scope: Scope, send: Send, token_id: int, key: str, body: bytes
    ) -> None:
        """Run the route in a transaction that also records the key's response."""
        shared = await run_sync(_SharedTransaction, self.engine)
        captured = _Captured()
        try:
            state = {**scope.get("state", {}), SHARED_CONNECTION: shared.connection}
            await self.app({**scope, "state": state}, _replaying(body), captured.send)
            response = captured.stored()
            if response.status_code < 400:
                await run_sync(shared.commit_with, token_id, key, response)
            else:
                await run_sync(shared.rollback)
                await run_sync(self._settle_error, token_id, key, response)
        except BaseException:
            await run_sync(shared.rollback)
            await run_sync(self._release, token_id, key)
            raise
        await captured.replay(send, replayed=False)

    def _settle_error(self, token_id: int, key: str, response: keys.StoredResponse) -> None:
        """A refusal (4xx) is kept and replayed; a failure of ours (5xx) may be retried."""
        with writing(self.engine) as connection:
            if response.status_code >= 500:
                keys.release(connection, token_id, key)
            else:
                keys.complete(connection, token_id, key, response)

    def _release(self, token_id: int, key: str) -> None:
        with writing(self.engine) as connection:
            keys.release(connection, token_id, key)


class _SharedTransaction:
    """One write transaction, opened and ended from worker threads around an await."""

    def __init__(self, engine: Engine) -> None:
        self.turn = write_lock(engine)  # released by `commit_with` or `rollback`
        if self.turn is not None:
            self.turn.acquire()
        try:
            self.connection: Connection = engine.connect()
            self.connection.execution_options(masthead_write=True)
            self.transaction = self.connection.begin()
        except BaseException:
            if self.turn is not None:
                self.turn.release()
            raise

    def commit_with(self, token_id: int, key: str, response: keys.StoredResponse) -> None:
        try:
            keys.complete(self.connection, token_id, key, response)
            self.transaction.commit()
        finally:
            self._close()

    def rollback(self) -> None:
        if self.transaction.is_active:
            self.transaction.rollback()
        self._close()

    def _close(self) -> None:
        if self.connection.closed:
            return
        self.connection.close()
        if self.turn is not None:
            self.turn.release()


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

    def stored(self) -> keys.StoredResponse:
        kept = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in self.headers
            if name.decode("latin-1").lower() in KEPT_HEADERS
        ]
        return keys.StoredResponse(self.status, kept, bytes(self.body))

    @classmethod
    def from_stored(cls, stored: keys.StoredResponse) -> _Captured:
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
