"""Idempotency keys: a retried write is done once, and its first response replayed.

The web layer's middleware decides when; these are the steps, each in a transaction
its caller opens: read what the key holds, claim it (committed on its own, so that a
concurrent retry sees it in flight), complete it with the response in the write's own
transaction, or release it when the call failed on our side.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import Connection

from masthead.domain.idempotency import Decision, KeyRecord, StoredResponse, decide
from masthead.store import idempotency as keys

__all__ = [
    "REDACTED_HEADER",
    "claim_key",
    "complete_key",
    "look_up_key",
    "redact",
    "release_key",
    "stored_response",
]

REDACTED_HEADER = "Idempotent-Redacted"
"""Names the fields a replay leaves out: secrets are shown once, and never stored."""


def look_up_key(
    connection: Connection, token_id: int, key: str, request_digest: str, now: datetime
) -> tuple[Decision, KeyRecord | None]:
    """What to do, from a plain read (no lock)."""
    existing = keys.find(connection, token_id, key)
    return decide(existing, request_digest, now), existing


def claim_key(
    connection: Connection,
    token_id: int,
    key: str,
    request_digest: str,
    now: datetime,
    *,
    lock_for: timedelta,
    keep_for: timedelta,
) -> tuple[Decision, KeyRecord | None]:
    """Take the key for this request, under a lock; IN_FLIGHT if another call got it first."""
    existing = keys.find(connection, token_id, key, lock=True)
    decision = decide(existing, request_digest, now)
    if decision is Decision.PROCEED and not keys.claim(
        connection,
        token_id,
        key,
        request_digest,
        replacing=existing,
        at=now,
        locked_until=now + lock_for,
        expires_at=now + keep_for,
    ):
        decision = Decision.IN_FLIGHT
    return decision, existing


def complete_key(connection: Connection, token_id: int, key: str, response: StoredResponse) -> None:
    keys.complete(connection, token_id, key, response)


def release_key(connection: Connection, token_id: int, key: str) -> None:
    """Forget a claim whose call failed on our side (5xx), so a retry can do the work."""
    keys.release(connection, token_id, key)


def stored_response(connection: Connection, token_id: int, key: str) -> StoredResponse:
    stored = keys.stored_response(connection, token_id, key)
    assert stored is not None, "a done key has its response"
    return stored


def redact(response: StoredResponse, fields: Collection[str]) -> StoredResponse:
    """The response as it may be kept: the secret-bearing `fields` of its JSON body null.

    A secret (an issued token, say) is shown once, in the first response; a replay says
    which fields it leaves out in the `Idempotent-Redacted` header.
    """
    if not fields:
        return response
    document = json.loads(response.body)
    for name in fields:
        if name in document:
            document[name] = None
    headers = [
        (name, value) for name, value in response.headers if name.lower() != "content-length"
    ]
    headers.append((REDACTED_HEADER, ", ".join(sorted(fields))))
    body = json.dumps(document, separators=(",", ":")).encode()
    return StoredResponse(response.status_code, headers, body)
