"""What API routes get injected: the call (who, when, which request) and transactions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection

from masthead.actions.auth import authenticate, note_use
from masthead.actions.context import Call
from masthead.errors import Unauthenticated
from masthead.settings import Settings
from masthead.store.engine import reading, writing
from masthead.web.state import AppState, app_state

__all__ = ["CallDep", "ReadDep", "SettingsDep", "WriteDep"]

REQUEST_ID_HEADER = "x-request-id"


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send a staff token: Authorization: Bearer …")
    return token.strip()


def current_call(request: Request) -> Call:
    """Authenticate the bearer token; remember the request id and idempotency key."""
    state = app_state(request)
    token, now = _bearer(request), datetime.now(UTC)
    with reading(state.engine) as connection:
        actor = authenticate(connection, token)
    call = Call(
        actor=actor,
        at=now,
        request_id=request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex,
        idempotency_key=request.headers.get("idempotency-key"),
    )
    note_use(state.engine, call)
    return call


def _state(request: Request) -> AppState:
    return app_state(request)


def read_transaction(request: Request) -> Iterator[Connection]:
    with reading(app_state(request).engine) as connection:
        yield connection


def write_transaction(request: Request) -> Iterator[Connection]:
    with writing(app_state(request).engine) as connection:
        yield connection


def settings(request: Request) -> Settings:
    return app_state(request).settings


CallDep = Annotated[Call, Depends(current_call)]
ReadDep = Annotated[Connection, Depends(read_transaction)]
WriteDep = Annotated[Connection, Depends(write_transaction)]
SettingsDep = Annotated[Settings, Depends(settings)]
