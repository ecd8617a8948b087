"""Staff tokens: stored as digests only, with their owner's standing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from masthead.domain.staff import Role
from masthead.domain.tokens import TokenRecord, TokenScope
from masthead.store.schema import staff, tokens

__all__ = [
    "find_by_digest",
    "get_token",
    "insert_token",
    "list_tokens",
    "revoke",
    "touch",
]


def _query() -> Any:
    return select(tokens, staff.c.slug.label("staff_slug"), staff.c.role, staff.c.active).join(
        staff, staff.c.id == tokens.c.staff_id
    )


def _record(row: Any) -> TokenRecord:
    return TokenRecord(
        id=row.id,
        name=row.name,
        hint=row.hint,
        staff_id=row.staff_id,
        staff_slug=row.staff_slug,
        staff_role=Role(row.role),
        staff_active=bool(row.active),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        scope=TokenScope(row.scope),
    )


def insert_token(
    connection: Connection,
    staff_id: int,
    name: str,
    digest: str,
    hint: str,
    at: datetime,
    scope: TokenScope = TokenScope.STAFF,
) -> int:
    token_id: int = connection.execute(
        insert(tokens)
        .values(staff_id=staff_id, name=name, digest=digest, hint=hint, created_at=at, scope=scope)
        .returning(tokens.c.id)
    ).scalar_one()
    return token_id


def find_by_digest(connection: Connection, digest: str) -> TokenRecord | None:
    row = connection.execute(_query().where(tokens.c.digest == digest)).first()
    return _record(row) if row else None


def get_token(connection: Connection, token_id: int) -> TokenRecord | None:
    row = connection.execute(_query().where(tokens.c.id == token_id)).first()
    return _record(row) if row else None


def list_tokens(
    connection: Connection,
    staff_id: int | None = None,
    *,
    after_id: int | None = None,
    limit: int = 100,
) -> list[TokenRecord]:
    query = _query().order_by(tokens.c.id).limit(limit)
    if staff_id is not None:
        query = query.where(tokens.c.staff_id == staff_id)
    if after_id is not None:
        query = query.where(tokens.c.id > after_id)
    return [_record(row) for row in connection.execute(query)]


def revoke(connection: Connection, token_id: int, at: datetime) -> None:
    connection.execute(
        update(tokens)
        .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )


def touch(connection: Connection, token_id: int, at: datetime) -> None:
    connection.execute(update(tokens).where(tokens.c.id == token_id).values(last_used_at=at))
