"""Edge secrets kept in the database: every server sees a new one without a restart."""

from __future__ import annotations

import secrets

from sqlalchemy import Connection

from masthead.actions.auth import require_admin
from masthead.actions.context import Call, record_audit
from masthead.domain.secrets import digest
from masthead.store.edge_secrets import active_digests, add_digest

__all__ = [
    "EDGE_SECRET_BYTES",
    "MIN_EDGE_SECRET_LENGTH",
    "add_edge_secret",
    "new_edge_secret",
    "stored_digests",
]

EDGE_SECRET_BYTES = 32
MIN_EDGE_SECRET_LENGTH = 32
"""The shortest edge secret production accepts (as the web app refuses to start without)."""


def new_edge_secret() -> str:
    return secrets.token_urlsafe(EDGE_SECRET_BYTES)


def add_edge_secret(connection: Connection, call: Call, secret: str, label: str) -> None:
    """Accept `secret` at the edge from now on; only its digest is stored."""
    require_admin(call.actor)
    add_digest(connection, digest(secret), label, call.at)
    record_audit(connection, call, "edge_secret.add", "edge_secret", label)


def stored_digests(connection: Connection) -> list[str]:
    """The digests of the edge secrets kept in the database that are not retired."""
    return active_digests(connection)
