"""Publish receipts: what each publish, unpublish and archive did, and what the live site
showed when it was checked (editors and admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from masthead.actions.cursors import decode_cursor, encode_cursor
from masthead.actions.receipts import MAX_PAGE, find_receipt, list_receipts
from masthead.actions.shapes import receipt_shape
from masthead.domain.receipts import Receipt, ReceiptAction, ReceiptState
from masthead.web.api.deps import CallDep, ReadDep
from masthead.web.api.schemas import RowId

__all__ = ["ReceiptList", "ReceiptOut", "receipt_list", "receipt_out", "router"]

router = APIRouter(tags=["receipts"])


class CheckOut(BaseModel):
    name: str = Field(
        description="`status`, `title`, `canonical`, `revision`, `index`, `tag:SLUG`, "
        "`author:SLUG`, `feed`, `sitemap`; after an unpublish or archive, `status` (404) and "
        "the listings, feed and sitemap that must no longer show the post."
    )
    ok: bool
    url: str
    status: int | None = Field(description="The HTTP status seen; null when nothing answered.")
    duration_ms: float
    detail: str = Field(description="What was seen, for a program to act on.")


class AttemptOut(BaseModel):
    number: int
    at: datetime
    ok: bool
    checks: list[CheckOut]


class PublishedBy(BaseModel):
    staff: str
    kind: str = Field(description="`person`, `agent`, or `operator`/`worker`.")
    token_id: int | None


class ReceiptOut(BaseModel):
    id: int
    post: int
    revision: int
    action: ReceiptAction
    state: ReceiptState
    published_by: PublishedBy
    approval: dict[str, Any] | None = Field(description="Who approved which revision, when.")
    gates: list[dict[str, Any]] = Field(description="The gate results at the time of the flip.")
    flipped_at: datetime
    pages: list[str] = Field(description="The public pages the change affected.")
    attempts: list[AttemptOut]
    checks: list[CheckOut] = Field(description="The latest attempt's checks.")
    verified_at: datetime | None
    seconds_to_verified: float | None


class ReceiptList(BaseModel):
    items: list[ReceiptOut]
    next_cursor: str | None


def receipt_out(receipt: Receipt) -> ReceiptOut:
    return ReceiptOut.model_validate(receipt_shape(receipt))


def receipt_list(found: list[Receipt], limit: int) -> ReceiptList:
    page = found[:limit]
    more = len(found) > limit
    return ReceiptList(
        items=[receipt_out(receipt) for receipt in page],
        next_cursor=encode_cursor(page[-1].id) if more else None,
    )


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE - 1)]


@router.get("/receipts", response_model=ReceiptList, summary="Receipts, newest first (editors)")
def all_receipts(
    call: CallDep,
    connection: ReadDep,
    state: ReceiptState | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> ReceiptList:
    found = list_receipts(
        connection, call.actor, state=state, before_id=decode_cursor(cursor), limit=limit + 1
    )
    return receipt_list(found, limit)


@router.get("/receipts/{receipt_id}", response_model=ReceiptOut, summary="One receipt (editors)")
def one_receipt(receipt_id: RowId, call: CallDep, connection: ReadDep) -> ReceiptOut:
    return receipt_out(find_receipt(connection, call.actor, receipt_id))
