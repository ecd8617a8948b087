"""Masthead's own task handlers, registered in every worker."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx

from masthead.actions.context import WORKER, Call
from masthead.actions.events import Consumer, dispatch
from masthead.actions.lifecycle import DISPATCH
from masthead.actions.receipts import pending_receipt
from masthead.actions.scheduling import NotDueYet, publish_when_due
from masthead.actions.verification import VERIFY, http_fetcher, record_attempt, run_checks
from masthead.domain.posts import RevisionSource
from masthead.domain.tasks import SCHEDULED_PUBLISH
from masthead.queue.context import TaskContext
from masthead.queue.errors import PermanentError
from masthead.queue.registry import Registry
from masthead.store.engine import reading, writing

__all__ = ["register_handlers"]

log = logging.getLogger("masthead.queue")


def _worker_call(context: TaskContext) -> Call:
    return Call(WORKER, datetime.now(UTC), context.settings, source=RevisionSource.WORKER)


def publish_scheduled(context: TaskContext) -> None:
    post_id = context.payload.get("post_id")
    if not isinstance(post_id, int):
        raise PermanentError(f"payload has no post_id: {dict(context.payload)!r}")
    try:
        with writing(context.engine) as connection:
            context.fence(connection)
            lateness = publish_when_due(connection, _worker_call(context), post_id)
    except NotDueYet as early:
        raise PermanentError(str(early)) from early
    if lateness is not None:
        log.info("published post %s, %.3f s after its time", post_id, lateness)


VERIFY_TIMEOUT_SECONDS = 10.0
"""How long one page fetch of a verification may take."""


def verify_publish(context: TaskContext) -> None:
    """One attempt at verifying a receipt: fetch the live pages (outside any transaction),
    then record the checks, which ends the receipt or queues the next attempt."""
    receipt_id = context.payload.get("receipt_id")
    if not isinstance(receipt_id, int):
        raise PermanentError(f"payload has no receipt_id: {dict(context.payload)!r}")
    with reading(context.engine) as connection:
        receipt = pending_receipt(connection, receipt_id)
    if receipt is None:
        return
    settings = context.settings
    with httpx.Client(timeout=VERIFY_TIMEOUT_SECONDS, follow_redirects=False) as client:
        checks = run_checks(receipt, http_fetcher(settings, client), settings.public_url)
    with writing(context.engine) as connection:
        context.fence(connection)
        record_attempt(connection, _worker_call(context), receipt_id, checks)


def dispatch_events(context: TaskContext, consumers: Sequence[Consumer]) -> None:
    """Hand every consumer its events, a batch per transaction, until all are caught up."""
    while True:
        with writing(context.engine) as connection:
            context.fence(connection)
            handed = dispatch(connection, consumers, datetime.now(UTC))
        if not handed:
            return


def register_handlers(registry: Registry) -> None:
    registry.register(SCHEDULED_PUBLISH, publish_scheduled, timeout=60)
    registry.register(VERIFY, verify_publish, timeout=120)
    registry.register(
        DISPATCH, lambda context: dispatch_events(context, registry.consumers), timeout=120
    )
