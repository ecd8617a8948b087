"""Webhooks in the queue: the consumer that fans events out, and one delivery's task.

Each run of a `webhook.deliver` task is one attempt. Its retry budget is a time, not a
count (`MASTHEAD_WEBHOOK_RETRY_BUDGET_SECONDS` from the delivery's creation); its
backoff has settings of its own. A lost run (the worker died mid-post) is run again:
the receiver may get the event twice and de-duplicates on its id.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from masthead.actions.context import WORKER, Call
from masthead.actions.events import Consumer
from masthead.actions.webhook_delivery import CONSUMER, Verdict, fan_out, outgoing, post, record
from masthead.domain.events import EventType
from masthead.domain.posts import RevisionSource
from masthead.domain.retry import Backoff
from masthead.domain.webhooks import DELIVER
from masthead.queue.context import TaskContext
from masthead.queue.errors import PermanentError
from masthead.queue.registry import Registry
from masthead.settings import Settings
from masthead.store.engine import reading, writing

__all__ = ["DeliveryAttemptFailed", "deliver", "register_handlers"]

log = logging.getLogger("masthead.webhooks")

MAX_ATTEMPTS = 1_000_000
"""Effectively unbounded: the budget in time ends a delivery, not a count of errors."""

_FAILED_CODES = {
    Verdict.GONE: "webhook_gone",
    Verdict.REFUSED: "webhook_target_refused",
    Verdict.SPENT: "webhook_budget_spent",
}


class DeliveryAttemptFailed(Exception):
    """An attempt was not answered with a 2xx: the run errors and is retried."""


def deliver(context: TaskContext) -> None:
    delivery_id = context.payload.get("delivery_id")
    if not isinstance(delivery_id, int):
        raise PermanentError(f"payload has no delivery_id: {dict(context.payload)!r}")
    settings = context.settings
    with reading(context.engine) as connection:
        sending = outgoing(connection, settings, delivery_id, datetime.now(UTC))
    if sending is None:
        return
    attempt = post(settings, sending, datetime.now(UTC))
    call = Call(WORKER, datetime.now(UTC), settings, source=RevisionSource.WORKER)
    with writing(context.engine) as connection:
        context.fence(connection)
        outcome = record(connection, call, sending, attempt)
    log.info(
        "webhook attempt",
        extra={
            "delivery_id": delivery_id,
            "webhook_id": sending.webhook_id,
            "event_id": sending.event_id,
            "status": attempt.status,
            "latency_ms": attempt.latency_ms,
            "verdict": outcome.verdict.value,
        },
    )
    if outcome.verdict is Verdict.DELIVERED:
        return
    if outcome.verdict is Verdict.RETRY:
        raise DeliveryAttemptFailed(outcome.reason)
    raise PermanentError(outcome.reason, code=_FAILED_CODES[outcome.verdict])


def register_handlers(registry: Registry) -> None:
    settings = registry.settings or Settings()
    registry.register(
        DELIVER,
        deliver,
        timeout=settings.webhook_timeout_seconds * 3 + 5,
        max_attempts=MAX_ATTEMPTS,
        backoff=Backoff(
            settings.webhook_backoff_base_seconds, settings.webhook_backoff_cap_seconds
        ),
    )
    types = frozenset(EventType)
    registry.consume(Consumer(CONSUMER, fan_out, types=types, from_start=True))
