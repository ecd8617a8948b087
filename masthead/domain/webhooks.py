"""Webhooks: who hears of which events, the body they get, and how it is signed.

A delivery is one event for one webhook; it is `pending` until an attempt is answered
with a 2xx (`delivered`) or its retry budget is spent (`failed`). Every attempt is kept
with its time, status, latency and the first bytes of the answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from masthead.domain.events import Event, EventType

__all__ = [
    "ANSWER_LIMIT",
    "DELIVER",
    "EVENT_ID_HEADER",
    "EVENT_TYPE_HEADER",
    "SIGNATURE_HEADER",
    "SUBSCRIBABLE",
    "TIMESTAMP_HEADER",
    "Attempt",
    "Delivery",
    "DeliveryState",
    "Webhook",
    "body_of",
    "event_id_of",
    "is_own_failure",
    "parse_events",
    "sign",
    "signature_header",
]

DELIVER = "webhook.deliver"
"""The task kind of one delivery (its payload: `{"delivery_id": N}`)."""

EVENT_ID_HEADER = "Masthead-Event-Id"
EVENT_TYPE_HEADER = "Masthead-Event-Type"
TIMESTAMP_HEADER = "Masthead-Timestamp"
SIGNATURE_HEADER = "Masthead-Signature"
ANSWER_LIMIT = 512
"""How much of a receiver's answer an attempt keeps (characters)."""

SUBSCRIBABLE = tuple(EventType)
"""Every event type can be subscribed to."""


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Webhook:
    id: int
    url: str
    events: tuple[EventType, ...]
    active: bool
    paused_reason: str | None
    since_event: int  # hears of the events after this id (those written once it existed)
    previous_until: datetime | None  # the old secret signs too until then
    created_by: str
    created_at: datetime
    updated_at: datetime

    def wants(self, event: Event) -> bool:
        return self.active and event.id > self.since_event and event.type in self.events


@dataclass(frozen=True)
class Attempt:
    at: datetime
    status: int | None  # None: no answer (refused, timed out, connection failed)
    latency_ms: int
    answer: str
    error: str | None


@dataclass(frozen=True)
class Delivery:
    id: int
    webhook_id: int
    event_id: int
    event_type: str
    body: str
    state: DeliveryState
    task_id: int | None
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    ended_at: datetime | None
    log: tuple[Attempt, ...] = ()


def event_id_of(event_id: int) -> str:
    """The id receivers de-duplicate on: the same for every delivery of one event."""
    return f"evt_{event_id}"


def body_of(event: Event) -> str:
    """The JSON body of an event's deliveries, as sent (compact, keys in order).

    `sequence` is the event's place in the site's one ordered outbox: a receiver that
    gets two events of one post out of order can put them back in order by it.
    """
    resource = {
        "type": event.subject_type,
        "id": event.subject_id,
        "revision": event.revision,
        "facts": dict(event.facts),
    }
    document = {
        "id": event_id_of(event.id),
        "type": event.type.value,
        "time": event.at.isoformat().replace("+00:00", "Z"),
        "sequence": event.id,
        "resource": resource,
    }
    return json.dumps(document, separators=(",", ":"), default=str)


def is_own_failure(event: Event) -> bool:
    """A failed delivery's `task.failed`: never itself delivered (no loop)."""
    return event.type is EventType.TASK_FAILED and event.facts.get("kind") == DELIVER


def sign(secret: str, timestamp: int, body: str) -> str:
    """HMAC-SHA256 over `timestamp.body`, hex."""
    message = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: str) -> str:
    """`v1=…`, one per secret (two during a rotation), newest first, space-separated."""
    return " ".join(f"v1={sign(secret, timestamp, body)}" for secret in secrets)


def parse_events(names: Iterable[str]) -> tuple[EventType, ...]:
    """Known event types, deduplicated, in the order given; ValueError names an unknown one."""
    known = {event.value: event for event in SUBSCRIBABLE}
    chosen: list[EventType] = []
    for name in names:
        if name not in known:
            raise ValueError(f"unknown event type {name!r}")
        if known[name] not in chosen:
            chosen.append(known[name])
    if not chosen:
        raise ValueError("name at least one event type")
    return tuple(chosen)
