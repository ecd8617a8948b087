"""Idempotency key records: claimed before a write, completed in the write's transaction."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, delete, insert, select, update

from masthead.domain.idempotency import KeyRecord, KeyState, StoredResponse
from masthead.store.schema import idempotency_keys

__all__ = ["claim", "complete", "find", "release", "stored_response"]


def _where(token_id: int, key: str) -> ColumnElement[bool]:
    return and_(idempotency_keys.c.token_id == token_id, idempotency_keys.c.key == key)


def find(
    connection: Connection, token_id: int, key: str, *, lock: bool = False
) -> KeyRecord | None:
    query = select(idempotency_keys).where(_where(token_id, key))
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        return None
    return KeyRecord(row.request_digest, KeyState(row.state), row.locked_until, row.expires_at)


def claim(
    connection: Connection,
    token_id: int,
    key: str,
    request_digest: str,
    *,
    replacing: KeyRecord | None,
    at: datetime,
    locked_until: datetime,
    expires_at: datetime,
) -> bool:
    """Mark the key in flight for this request; False if someone else got there first.

    A new key is inserted (a concurrent insert fails on the primary key). An expired or
    abandoned record is replaced only if it is still exactly the one that was read, so
    two callers can never both take it over.
    """
    values = {
        "request_digest": request_digest,
        "state": KeyState.IN_FLIGHT.value,
        "created_at": at,
        "locked_until": locked_until,
        "expires_at": expires_at,
        "status_code": None,
        "response_headers": None,
        "response_body": None,
    }
    if replacing is None:
        connection.execute(insert(idempotency_keys).values(token_id=token_id, key=key, **values))
        return True
    result = connection.execute(
        update(idempotency_keys)
        .where(
            _where(token_id, key),
            idempotency_keys.c.state == replacing.state.value,
            idempotency_keys.c.locked_until == replacing.locked_until,
            idempotency_keys.c.expires_at == replacing.expires_at,
        )
        .values(**values)
    )
    return result.rowcount == 1


def complete(connection: Connection, token_id: int, key: str, response: StoredResponse) -> None:
    connection.execute(
        update(idempotency_keys)
        .where(_where(token_id, key))
        .values(
            state=KeyState.DONE.value,
            status_code=response.status_code,
            response_headers=json.dumps(response.headers),
            response_body=response.body,
        )
    )


def release(connection: Connection, token_id: int, key: str) -> None:
    """Forget a claim whose call failed unexpectedly, so a retry can do the work."""
    connection.execute(delete(idempotency_keys).where(_where(token_id, key)))


def stored_response(connection: Connection, token_id: int, key: str) -> StoredResponse | None:
    row = connection.execute(
        select(
            idempotency_keys.c.status_code,
            idempotency_keys.c.response_headers,
            idempotency_keys.c.response_body,
        ).where(_where(token_id, key))
    ).first()
    if row is None or row.status_code is None:
        return None
    headers = [(name, value) for name, value in json.loads(row.response_headers)]
    return StoredResponse(row.status_code, headers, bytes(row.response_body))
