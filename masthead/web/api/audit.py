"""The audit log: who changed what, through which token and request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from masthead.actions.audit import read_audit
from masthead.actions.cursors import decode_cursor, encode_cursor
from masthead.actions.shapes import audit_shape
from masthead.web.api.deps import CallDep, ReadDep
from masthead.web.api.schemas import Moment

router = APIRouter(tags=["audit"])


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str | None
    token_id: int | None
    action: str
    target_type: str
    target_id: str
    request_id: str | None
    idempotency_key: str | None
    detail: dict[str, Any]


class AuditList(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


@router.get("/audit", response_model=AuditList, summary="The audit log, newest first (admin)")
def audit_log(
    call: CallDep,
    connection: ReadDep,
    actor: str | None = None,
    target: Annotated[str | None, Query(description="TYPE:ID, e.g. post:12")] = None,
    since: Moment | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditList:
    entries = read_audit(
        connection,
        call.actor,
        actor_slug=actor,
        target=target,
        since=since,
        before_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    page = entries[:limit]
    return AuditList(
        items=[AuditEntryOut(**audit_shape(entry)) for entry in page],
        next_cursor=encode_cursor(page[-1].id or 0) if len(entries) > limit else None,
    )
