"""Webhooks, their deliveries and every attempt at one."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from masthead.domain.events import EventType
from masthead.domain.webhooks import Attempt, Delivery, DeliveryState, Webhook
from masthead.store.schema import webhook_attempts, webhook_deliveries, webhooks

__all__ = [
    "NewWebhook",
    "Secrets",
    "active_webhooks",
    "add_attempt",
    "count_failed",
    "delete_webhook",
    "delivery_counts",
    "end_delivery",
    "get_delivery",
    "get_webhook",
    "insert_delivery",
    "insert_webhook",
    "list_deliveries",
    "list_webhooks",
    "prune_attempts",
    "reopen_delivery",
    "secrets_of",
    "set_delivery_task",
    "update_webhook",
]


@dataclass(frozen=True)
class NewWebhook:
    url: str
    events: tuple[EventType, ...]
    secret: str  # encrypted
    since_event: int
    created_by: str
    at: datetime


@dataclass(frozen=True)
class Secrets:
    """A webhook's encrypted secrets: the current one, and the previous until its end."""

    current: str
    previous: str | None
    previous_until: datetime | None


def insert_webhook(connection: Connection, new: NewWebhook) -> int:
    values = {
        "url": new.url,
        "events": json.dumps([event.value for event in new.events]),
        "secret": new.secret,
        "active": True,
        "since_event": new.since_event,
        "created_by": new.created_by,
        "created_at": new.at,
        "updated_at": new.at,
    }
    result = connection.execute(insert(webhooks).values(**values).returning(webhooks.c.id))
    return int(result.scalar_one())


def get_webhook(connection: Connection, webhook_id: int, *, lock: bool = False) -> Webhook | None:
    query = select(webhooks).where(webhooks.c.id == webhook_id)
    row = connection.execute(query.with_for_update() if lock else query).first()
    return None if row is None else _webhook_from_row(row)


def list_webhooks(connection: Connection) -> list[Webhook]:
    rows = connection.execute(select(webhooks).order_by(webhooks.c.id))
    return [_webhook_from_row(row) for row in rows]


def active_webhooks(connection: Connection) -> list[Webhook]:
    rows = connection.execute(select(webhooks).where(webhooks.c.active).order_by(webhooks.c.id))
    return [_webhook_from_row(row) for row in rows]


def secrets_of(connection: Connection, webhook_id: int) -> Secrets | None:
    query = select(webhooks.c.secret, webhooks.c.previous_secret, webhooks.c.previous_until)
    row = connection.execute(query.where(webhooks.c.id == webhook_id)).first()
    return None if row is None else Secrets(row.secret, row.previous_secret, row.previous_until)


def update_webhook(connection: Connection, webhook_id: int, at: datetime, **values: Any) -> None:
    """Change the named columns (`url`, `events`, `active`, `paused_reason`, secrets)."""
    if "events" in values:
        values["events"] = json.dumps([event.value for event in values["events"]])
    connection.execute(
        update(webhooks).where(webhooks.c.id == webhook_id).values(**values, updated_at=at)
    )


def delete_webhook(connection: Connection, webhook_id: int) -> None:
    """Its deliveries and their attempts go with it."""
    delivery_ids = select(webhook_deliveries.c.id).where(
        webhook_deliveries.c.webhook_id == webhook_id
    )
    connection.execute(
        delete(webhook_attempts).where(webhook_attempts.c.delivery_id.in_(delivery_ids))
    )
    connection.execute(
        delete(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id)
    )
    connection.execute(delete(webhooks).where(webhooks.c.id == webhook_id))


def insert_delivery(
    connection: Connection, webhook_id: int, event_id: int, event_type: str, body: str, at: datetime
) -> int:
    values = {
        "webhook_id": webhook_id,
        "event_id": event_id,
        "event_type": event_type,
        "body": body,
        "state": DeliveryState.PENDING.value,
        "created_at": at,
    }
    query = insert(webhook_deliveries).values(**values).returning(webhook_deliveries.c.id)
    return int(connection.execute(query).scalar_one())


def set_delivery_task(connection: Connection, delivery_id: int, task_id: int) -> None:
    connection.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id == delivery_id)
        .values(task_id=task_id)
    )


def get_delivery(
    connection: Connection, delivery_id: int, *, with_log: bool = False, lock: bool = False
) -> Delivery | None:
    query = select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        return None
    log = _attempts(connection, [delivery_id]).get(delivery_id, ()) if with_log else ()
    return _delivery_from_row(row, tuple(log))


def list_deliveries(
    connection: Connection,
    webhook_id: int,
    *,
    state: DeliveryState | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Delivery]:
    """Newest first, each with its attempts, oldest first."""
    query = select(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id)
    if state is not None:
        query = query.where(webhook_deliveries.c.state == state.value)
    if before_id is not None:
        query = query.where(webhook_deliveries.c.id < before_id)
    rows = list(connection.execute(query.order_by(webhook_deliveries.c.id.desc()).limit(limit)))
    logs = _attempts(connection, [row.id for row in rows])
    return [_delivery_from_row(row, tuple(logs.get(row.id, ()))) for row in rows]


def add_attempt(connection: Connection, delivery_id: int, attempt: Attempt) -> None:
    connection.execute(
        insert(webhook_attempts).values(
            delivery_id=delivery_id,
            at=attempt.at,
            status=attempt.status,
            latency_ms=attempt.latency_ms,
            answer=attempt.answer,
            error=attempt.error,
        )
    )
    connection.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id == delivery_id)
        .values(
            attempts=webhook_deliveries.c.attempts + 1,
            last_status=attempt.status,
            last_error=attempt.error,
        )
    )


def end_delivery(
    connection: Connection, delivery_id: int, state: DeliveryState, at: datetime
) -> bool:
    """Mark a pending delivery delivered or failed; False if it was not pending."""
    result = connection.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.id == delivery_id,
            webhook_deliveries.c.state == DeliveryState.PENDING.value,
        )
        .values(state=state.value, ended_at=at)
    )
    return result.rowcount == 1


def reopen_delivery(connection: Connection, delivery_id: int, task_id: int) -> None:
    connection.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id == delivery_id)
        .values(state=DeliveryState.PENDING.value, ended_at=None, task_id=task_id)
    )


def count_failed(connection: Connection, since: datetime) -> int:
    """Deliveries that failed (and were not sent again since) from `since` on."""
    query = select(func.count()).where(
        webhook_deliveries.c.state == DeliveryState.FAILED.value,
        webhook_deliveries.c.ended_at >= since,
    )
    return int(connection.execute(query.select_from(webhook_deliveries)).scalar_one())


def delivery_counts(connection: Connection) -> dict[str, int]:
    """state → deliveries."""
    query = select(webhook_deliveries.c.state, func.count()).group_by(webhook_deliveries.c.state)
    return {state: int(count) for state, count in connection.execute(query)}


def prune_attempts(connection: Connection, before: datetime) -> int:
    """Delete the attempt logs of deliveries delivered before `before`; returns how many.
    A failed or pending delivery keeps its log: it is what an operator reads."""
    delivered = select(webhook_deliveries.c.id).where(
        webhook_deliveries.c.state == DeliveryState.DELIVERED.value,
        webhook_deliveries.c.ended_at < before,
    )
    condition = webhook_attempts.c.delivery_id.in_(delivered)
    return int(connection.execute(delete(webhook_attempts).where(condition)).rowcount)


def _attempts(connection: Connection, delivery_ids: Sequence[int]) -> dict[int, list[Attempt]]:
    if not delivery_ids:
        return {}
    query = (
        select(webhook_attempts)
        .where(webhook_attempts.c.delivery_id.in_(delivery_ids))
        .order_by(webhook_attempts.c.id)
    )
    found: dict[int, list[Attempt]] = {}
    for row in connection.execute(query):
        attempt = Attempt(row.at, row.status, row.latency_ms, row.answer, row.error)
        found.setdefault(row.delivery_id, []).append(attempt)
    return found


def _webhook_from_row(row: Any) -> Webhook:
    return Webhook(
        id=row.id,
        url=row.url,
        events=tuple(EventType(name) for name in json.loads(row.events)),
        active=bool(row.active),
        paused_reason=row.paused_reason,
        since_event=row.since_event,
        previous_until=row.previous_until,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _delivery_from_row(row: Any, log: tuple[Attempt, ...]) -> Delivery:
    return Delivery(
        id=row.id,
        webhook_id=row.webhook_id,
        event_id=row.event_id,
        event_type=row.event_type,
        body=row.body,
        state=DeliveryState(row.state),
        task_id=row.task_id,
        attempts=row.attempts,
        last_status=row.last_status,
        last_error=row.last_error,
        created_at=row.created_at,
        ended_at=row.ended_at,
        log=log,
    )
