"""Webhooks (admins): register, list, change, rotate, remove; deliveries and redelivery.

A webhook's secret is answered once, at creation and at each rotation, with
`Cache-Control: no-store`, and never kept for an `Idempotency-Key` replay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from masthead.actions import webhooks
from masthead.actions.cursors import decode_cursor, encode_cursor
from masthead.actions.shapes import webhook_delivery_shape, webhook_shape
from masthead.domain.webhooks import DeliveryState
from masthead.web.api.deps import CallDep, ReadDep, WriteDep
from masthead.web.api.schemas import RowId, Strict
from masthead.web.idempotency import keep_secret

router = APIRouter(tags=["webhooks"])

NO_STORE = "no-store"
Url = Annotated[str, Field(min_length=1, max_length=2000)]
EventName = Annotated[str, Field(min_length=1, max_length=64)]


class WebhookCreate(Strict):
    url: Url
    events: list[EventName] = Field(min_length=1, max_length=64)


class WebhookPatch(Strict):
    url: Url | None = None
    events: list[EventName] | None = Field(None, min_length=1, max_length=64)
    active: bool | None = Field(None, description="false pauses it; true resumes it.")
    rotate_secret: bool = Field(
        False, description="Make a new secret (answered once); the old one signs too for a while."
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    paused_reason: str | None
    previous_secret_until: datetime | None = Field(
        description="Until then, deliveries also carry a signature made with the old secret."
    )
    created_by: str
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookOut):
    secret: str | None = Field(
        description="The signing secret, answered this once (null on an idempotent replay)."
    )


class WebhookList(BaseModel):
    items: list[WebhookOut]


class AttemptOut(BaseModel):
    at: datetime
    status: int | None = Field(description="The HTTP status; null when nothing answered.")
    latency_ms: int
    answer: str = Field(description="The first bytes of the answer.")
    error: str | None


class DeliveryOut(BaseModel):
    id: int
    webhook_id: int
    event_id: str
    event_type: str
    state: DeliveryState
    task_id: int | None
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    ended_at: datetime | None
    log: list[AttemptOut]


class DeliveryList(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


def _with_secret(found: webhooks.WithSecret, response: Response) -> WebhookWithSecret:
    response.headers["Cache-Control"] = NO_STORE
    return WebhookWithSecret(**webhook_shape(found.webhook), secret=found.secret)


@router.post(
    "/webhooks", status_code=201, response_model=WebhookWithSecret, summary="Add a webhook"
)
def add_webhook(
    payload: WebhookCreate,
    call: CallDep,
    connection: WriteDep,
    request: Request,
    response: Response,
) -> WebhookWithSecret:
    """A target refused by the SSRF guard answers 422 `webhook_target_refused`, saying why."""
    keep_secret(request, "secret")
    created = webhooks.add_webhook(connection, call, payload.url, payload.events)
    return _with_secret(created, response)


@router.get("/webhooks", response_model=WebhookList, summary="Every webhook (never a secret)")
def list_webhooks(call: CallDep, connection: ReadDep) -> WebhookList:
    found = webhooks.list_webhooks(connection, call.actor)
    return WebhookList(items=[WebhookOut(**webhook_shape(webhook)) for webhook in found])


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut, summary="One webhook")
def show_webhook(webhook_id: RowId, call: CallDep, connection: ReadDep) -> WebhookOut:
    return WebhookOut(**webhook_shape(webhooks.show_webhook(connection, call.actor, webhook_id)))


@router.patch(
    "/webhooks/{webhook_id}",
    response_model=WebhookWithSecret,
    summary="Change, pause, resume or rotate the secret of a webhook",
)
def change_webhook(
    webhook_id: RowId,
    payload: WebhookPatch,
    call: CallDep,
    connection: WriteDep,
    request: Request,
    response: Response,
) -> WebhookWithSecret:
    keep_secret(request, "secret")
    changes = webhooks.WebhookChanges(**payload.model_dump())
    return _with_secret(webhooks.change_webhook(connection, call, webhook_id, changes), response)


@router.delete("/webhooks/{webhook_id}", response_model=WebhookOut, summary="Remove a webhook")
def remove_webhook(webhook_id: RowId, call: CallDep, connection: WriteDep) -> WebhookOut:
    return WebhookOut(**webhook_shape(webhooks.remove_webhook(connection, call, webhook_id)))


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryList,
    summary="A webhook's deliveries, newest first, each with every attempt",
)
def list_deliveries(
    webhook_id: RowId,
    call: CallDep,
    connection: ReadDep,
    state: DeliveryState | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=webhooks.MAX_PAGE)] = 50,
) -> DeliveryList:
    found = webhooks.list_deliveries(
        connection,
        call.actor,
        webhook_id,
        state=state,
        before_id=decode_cursor(cursor),
        limit=limit,
    )
    return DeliveryList(
        items=[_delivery(delivery) for delivery in found],
        next_cursor=encode_cursor(found[-1].id) if len(found) == limit else None,
    )


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryOut,
    summary="Send one delivery again",
)
def redeliver(
    webhook_id: RowId, delivery_id: RowId, call: CallDep, connection: WriteDep
) -> DeliveryOut:
    return _delivery(webhooks.redeliver(connection, call, webhook_id, delivery_id))


def _delivery(delivery: Any) -> DeliveryOut:
    return DeliveryOut(**webhook_delivery_shape(delivery))
