"""What API routes get injected: the call (who, when, which request) and transactions.

Every transaction is one of the request's unit of work (`masthead.web.database`): a
route's reads and writes, its authentication and its idempotency record all use the
request's single connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import Connection

from masthead.actions.auth import authenticate, needs_use_noted, note_use
from masthead.actions.context import Call
from masthead.domain.posts import RevisionSource
from masthead.errors import PreconditionRequired, Unauthenticated
from masthead.settings import Settings
from masthead.web.database import request_unit
from masthead.web.request_log import request_id
from masthead.web.state import app_state

__all__ = [
    "CallDep",
    "ChangeDep",
    "ReadDep",
    "ScrapeDep",
    "SettingsDep",
    "WriteDep",
    "revision_etag",
]

MAX_REVISION = 2**31 - 1
"""The largest revision number either database can hold."""


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send a staff token: Authorization: Bearer …")
    return token.strip()


def current_call(request: Request) -> Call:
    """Authenticate the bearer token; remember the request id and idempotency key."""
    return _call(request, scraping=False)


def scraping_call(request: Request) -> Call:
    """As `current_call`, where a token made for scraping metrics is also accepted."""
    return _call(request, scraping=True)


def _call(request: Request, *, scraping: bool) -> Call:
    unit = request_unit(request)
    token, now = _bearer(request), datetime.now(UTC)
    with unit.transaction() as connection:
        known = authenticate(connection, token, scraping=scraping)
    call = Call(
        actor=known.actor,
        at=now,
        settings=app_state(request).settings,
        source=RevisionSource.API,
        request_id=request_id(request),
        idempotency_key=request.headers.get("idempotency-key"),
    )
    if needs_use_noted(call, known.last_used_at):
        with unit.transaction(write=True) as connection:
            note_use(connection, call)
    return call


def revision_etag(revision: int) -> str:
    return f'"rev-{revision}"'


def _base_revision(header: str | None) -> int:
    """The revision an `If-Match` names; -1 (never current) for anything else."""
    if header is None:
        raise PreconditionRequired(
            "send If-Match with the post's ETag: the revision your change is based on"
        )
    tag = header.strip().removeprefix("W/").strip('"')
    number = tag.removeprefix("rev-")
    named = tag.startswith("rev-") and number.isdigit() and len(number) <= len(str(MAX_REVISION))
    return int(number) if named and int(number) <= MAX_REVISION else -1


def changing_call(
    call: Annotated[Call, Depends(current_call)],
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description="The post's ETag: the revision this change is based on (required).",
        ),
    ] = None,
) -> Call:
    """A call that changes a post: it must name the revision it was based on."""
    return replace(call, base_revision=_base_revision(if_match))


def read_transaction(request: Request) -> Iterator[Connection]:
    with request_unit(request).transaction() as connection:
        yield connection


def write_transaction(request: Request) -> Iterator[Connection]:
    """The request's write transaction (the idempotency layer's, when it opened one)."""
    with request_unit(request).transaction(write=True) as connection:
        yield connection


def settings(request: Request) -> Settings:
    return app_state(request).settings


CallDep = Annotated[Call, Depends(current_call)]
ScrapeDep = Annotated[Call, Depends(scraping_call)]
ChangeDep = Annotated[Call, Depends(changing_call)]
ReadDep = Annotated[Connection, Depends(read_transaction, scope="function")]
WriteDep = Annotated[Connection, Depends(write_transaction, scope="function")]
"""The write commits before the response is sent: a client never sees an uncommitted success."""
SettingsDep = Annotated[Settings, Depends(settings)]
