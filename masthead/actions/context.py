"""Who is calling, from where, when, and on which site: passed to every use case that writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from masthead.domain.audit import AuditEntry
from masthead.domain.permissions import Actor
from masthead.domain.posts import RevisionSource
from masthead.domain.staff import Role
from masthead.settings import Settings
from masthead.store import audit

__all__ = ["OPERATOR", "WORKER", "Call", "record_audit"]

OPERATOR = Actor(staff_id=None, slug="operator", role=Role.ADMIN)
"""The operator at the server's command line: an admin without a staff row."""

WORKER = Actor(staff_id=None, slug="worker", role=Role.ADMIN)
"""The task queue, acting on what a staff member asked for earlier (e.g. a schedule)."""


@dataclass(frozen=True)
class Call:
    actor: Actor
    at: datetime
    settings: Settings
    """The site's configuration: its defaults decide how pages look, so what a change affects."""
    source: RevisionSource = RevisionSource.API
    request_id: str | None = None
    idempotency_key: str | None = None
    base_revision: int | None = None
    """The revision a change was based on (`If-Match`); None: the caller did not say."""


def record_audit(
    connection: Connection,
    call: Call,
    action: str,
    target_type: str,
    target_id: object,
    **detail: object,
) -> None:
    """One audit entry for one write, in the same transaction as the write."""
    audit.record(
        connection,
        AuditEntry(
            at=call.at,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            staff_id=call.actor.staff_id,
            token_id=call.actor.token_id,
            request_id=call.request_id,
            idempotency_key=call.idempotency_key,
            detail={"source": call.source.value, **detail},
        ),
    )
