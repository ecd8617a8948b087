"""Tokens: issuing, revoking, and turning a presented token into an Actor."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from masthead.actions.context import Call, record_audit
from masthead.domain.permissions import Actor, is_admin
from masthead.domain.secrets import digest, new_token
from masthead.domain.tokens import TokenRecord, TokenScope
from masthead.errors import Forbidden, NotFound, Unauthenticated
from masthead.store import tokens
from masthead.store.staff import staff_id

__all__ = [
    "Authenticated",
    "IssuedToken",
    "authenticate",
    "find_token",
    "issue_token",
    "list_tokens",
    "needs_use_noted",
    "note_use",
    "require_admin",
    "revoke_token",
]

LAST_USED_RESOLUTION = timedelta(seconds=60)
"""`last_used_at` is written at most this often per token, so reads stay reads."""


class IssuedToken:
    """A new token: the secret is shown once, here, and never stored."""

    def __init__(self, secret: str, record: TokenRecord) -> None:
        self.secret = secret
        self.record = record


@dataclass(frozen=True)
class Authenticated:
    actor: Actor
    last_used_at: datetime | None


def authenticate(
    connection: Connection, presented: str, *, scraping: bool = False
) -> Authenticated:
    """The Actor behind a bearer token; refused if unknown, revoked or its owner suspended.

    A token made for scraping metrics is refused everywhere but where `scraping` is said.
    """
    record = tokens.find_by_digest(connection, digest(presented))
    if record is None or record.revoked_at is not None or not record.staff_active:
        raise Unauthenticated("the token is not valid")
    if record.scope is TokenScope.METRICS and not scraping:
        raise Forbidden("this token was made for scraping /api/v1/metrics, and for nothing else")
    actor = Actor(
        record.staff_id,
        record.staff_slug,
        record.staff_role,
        token_id=record.id,
        scope=record.scope,
    )
    return Authenticated(actor, record.last_used_at)


def needs_use_noted(call: Call, last_used_at: datetime | None) -> bool:
    """Whether the token's last use is worth writing: at most once a minute, so that reads
    stay reads. `last_used_at`: as `authenticate` read it."""
    if call.actor.token_id is None:
        return False
    return last_used_at is None or call.at - last_used_at >= LAST_USED_RESOLUTION


def note_use(connection: Connection, call: Call) -> None:
    """Record that the call's token was used now (in a write transaction)."""
    if call.actor.token_id is not None:
        tokens.touch(connection, call.actor.token_id, call.at)


def require_admin(actor: Actor) -> None:
    if not is_admin(actor):
        raise Forbidden("this needs the admin role")


def issue_token(
    connection: Connection,
    call: Call,
    owner_slug: str,
    name: str,
    scope: TokenScope = TokenScope.STAFF,
) -> IssuedToken:
    require_admin(call.actor)
    owner = staff_id(connection, owner_slug)
    if owner is None:
        raise NotFound(f"no staff member {owner_slug!r}")
    secret = new_token(secrets.token_urlsafe)
    token_id = tokens.insert_token(
        connection, owner, name, digest(secret), secret[-4:], call.at, scope
    )
    record_audit(
        connection, call, "token.create", "token", token_id, owner=owner_slug, scope=scope.value
    )
    record = tokens.get_token(connection, token_id)
    assert record is not None
    return IssuedToken(secret, record)


def list_tokens(
    connection: Connection, actor: Actor, *, after_id: int | None = None, limit: int = 100
) -> list[TokenRecord]:
    require_admin(actor)
    return tokens.list_tokens(connection, after_id=after_id, limit=limit)


def find_token(connection: Connection, actor: Actor, token_id: int) -> TokenRecord:
    require_admin(actor)
    current = tokens.get_token(connection, token_id)
    if current is None:
        raise NotFound(f"no token {token_id}")
    return current


def revoke_token(connection: Connection, call: Call, token_id: int) -> TokenRecord:
    """Stop the token at once; a token revoked already is left as it is (nothing written)."""
    current = find_token(connection, call.actor, token_id)
    if current.revoked_at is not None:
        return current
    tokens.revoke(connection, token_id, call.at)
    record_audit(connection, call, "token.revoke", "token", token_id)
    revoked = tokens.get_token(connection, token_id)
    assert revoked is not None
    return revoked
