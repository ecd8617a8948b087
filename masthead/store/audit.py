"""The audit log: who changed what, when, through which token and request."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, insert, select

from masthead.domain.audit import AuditEntry
from masthead.store.schema import audit_log, staff

__all__ = ["list_entries", "record"]


def record(connection: Connection, entry: AuditEntry) -> None:
    connection.execute(
        insert(audit_log).values(
            at=entry.at,
            staff_id=entry.staff_id,
            token_id=entry.token_id,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            request_id=entry.request_id,
            idempotency_key=entry.idempotency_key,
            detail=json.dumps(entry.detail, default=str),
        )
    )


def list_entries(
    connection: Connection,
    *,
    actor_slug: str | None = None,
    target: tuple[str, str] | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    query = (
        select(audit_log, staff.c.slug.label("staff_slug"))
        .outerjoin(staff, staff.c.id == audit_log.c.staff_id)
        .order_by(audit_log.c.id.desc())
        .limit(limit)
    )
    if actor_slug is not None:
        query = query.where(staff.c.slug == actor_slug)
    if target is not None:
        query = query.where(
            audit_log.c.target_type == target[0], audit_log.c.target_id == target[1]
        )
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    return [
        AuditEntry(
            id=row.id,
            at=row.at,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            staff_id=row.staff_id,
            token_id=row.token_id,
            request_id=row.request_id,
            idempotency_key=row.idempotency_key,
            detail=json.loads(row.detail),
            staff_slug=row.staff_slug,
        )
        for row in connection.execute(query)
    ]
