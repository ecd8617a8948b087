"""Masthead's own task handlers, registered in every worker."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from masthead.actions.scheduling import SCHEDULED_PUBLISH, NotDueYet, publish_when_due
from masthead.queue.context import TaskContext
from masthead.queue.errors import PermanentError
from masthead.queue.registry import Registry
from masthead.store.engine import writing

__all__ = ["register_handlers"]

log = logging.getLogger("masthead.queue")


def publish_scheduled(context: TaskContext) -> None:
    post_id = context.payload.get("post_id")
    if not isinstance(post_id, int):
        raise PermanentError(f"payload has no post_id: {dict(context.payload)!r}")
    try:
        with writing(context.engine) as connection:
            context.fence(connection)
            lateness = publish_when_due(connection, post_id, datetime.now(UTC))
    except NotDueYet as early:
        raise PermanentError(str(early)) from early
    if lateness is not None:
        log.info("published post %s, %.3f s after its time", post_id, lateness)


def register_handlers(registry: Registry) -> None:
    registry.register(SCHEDULED_PUBLISH, publish_scheduled, timeout=60)
