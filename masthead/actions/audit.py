"""Reading the audit log: admins only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from masthead.actions.auth import require_admin
from masthead.domain.audit import AuditEntry
from masthead.domain.permissions import Actor
from masthead.errors import FieldProblem, InvalidInput
from masthead.store import audit

__all__ = ["read_audit"]


def read_audit(
    connection: Connection,
    actor: Actor,
    *,
    actor_slug: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Newest first. `target` is `TYPE:ID`, e.g. `post:12` or `tag:operations`."""
    require_admin(actor)
    parsed = None
    if target is not None:
        kind, _, ident = target.partition(":")
        if not kind or not ident:
            raise InvalidInput([FieldProblem("target", "write it as TYPE:ID, e.g. post:12")])
        parsed = (kind, ident)
    return audit.list_entries(
        connection,
        actor_slug=actor_slug,
        target=parsed,
        since=since,
        before_id=before_id,
        limit=limit,
    )
