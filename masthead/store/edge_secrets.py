"""Edge secrets kept in the database, as digests (never the secret itself)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from masthead.domain.secrets import StoredSecret
from masthead.store.schema import edge_secrets

__all__ = [
    "active_digests",
    "active_labels",
    "active_secrets",
    "add_digest",
    "retire_digest",
]


def active_digests(connection: Connection) -> list[str]:
    rows = connection.execute(
        select(edge_secrets.c.digest).where(edge_secrets.c.retired_at.is_(None))
    ).scalars()
    return list(rows)


def add_digest(connection: Connection, digest: str, label: str, at: datetime) -> None:
    exists = connection.execute(
        select(edge_secrets.c.id).where(edge_secrets.c.digest == digest)
    ).first()
    if exists is None:
        connection.execute(insert(edge_secrets).values(digest=digest, label=label, created_at=at))


def retire_digest(connection: Connection, digest: str, at: datetime) -> bool:
    result = connection.execute(
        update(edge_secrets)
        .where(edge_secrets.c.digest == digest, edge_secrets.c.retired_at.is_(None))
        .values(retired_at=at)
    )
    return result.rowcount > 0


def active_labels(connection: Connection) -> list[str]:
    """The labels of the stored edge secrets that are not retired, oldest first."""
    rows = connection.execute(
        select(edge_secrets.c.label)
        .where(edge_secrets.c.retired_at.is_(None))
        .order_by(edge_secrets.c.id)
    ).scalars()
    return list(rows)


def active_secrets(connection: Connection) -> list[StoredSecret]:
    """The stored edge secrets that are not retired, oldest first."""
    rows = connection.execute(
        select(edge_secrets.c.digest, edge_secrets.c.label, edge_secrets.c.created_at)
        .where(edge_secrets.c.retired_at.is_(None))
        .order_by(edge_secrets.c.id)
    )
    return [StoredSecret(row.digest, row.label, row.created_at) for row in rows]
