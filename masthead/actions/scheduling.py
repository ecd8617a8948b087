"""Scheduled publishing: a post and its publish task commit together; a worker publishes it.

The task's unique key is the post's (`publish:ID`), so a post has at most one pending
scheduled publish. If no worker runs at the time, the post goes live when one starts,
and the audit entry says how late it was.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from masthead.actions.context import Call, record_audit
from masthead.actions.drafts import find_post, require_action
from masthead.actions.gates import GateResult, GatesFailed, check_gates
from masthead.actions.lifecycle import record_event
from masthead.actions.publishing import (
    block_receipt,
    cancel_scheduled_publish,
    put_live,
    scheduled_publish_key,
)
from masthead.actions.tasks import enqueue
from masthead.domain.events import EventType, NewEvent
from masthead.domain.gates import blocking
from masthead.domain.permissions import PostAction
from masthead.domain.posts import Post, PostStatus
from masthead.domain.tasks import SCHEDULED_PUBLISH, NewTask
from masthead.errors import FieldProblem, InvalidInput, InvalidTransition, MastheadError
from masthead.store import posts as post_store

__all__ = [
    "SCHEDULED_PUBLISH",
    "NotDueYet",
    "publish_when_due",
    "schedule_post",
    "unschedule_post",
]


class NotDueYet(MastheadError):
    """A scheduled publish ran before its time (retried by hand): it must not publish."""

    code = "not_due_yet"


def schedule_post(connection: Connection, call: Call, post_id: int, at: datetime) -> Post:
    """Publish the post's newest revision at `at` (a later call moves the time)."""
    if at.tzinfo is None:
        raise InvalidInput([FieldProblem("at", "give a time zone, e.g. 2026-12-01T09:00:00Z")])
    post = find_post(connection, call.actor, post_id, lock=True)
    target = require_action(connection, call, PostAction.SCHEDULE, post)
    results = check_gates(connection, call, post)
    if blocking(results):
        raise GatesFailed(results)
    cancel_scheduled_publish(connection, post_id, call.at)
    post_store.set_status(
        connection, post_id, target, at=call.at, published_at=at, published_revision=None
    )
    task = enqueue(
        connection,
        NewTask(
            SCHEDULED_PUBLISH,
            {"post_id": post_id},
            not_before=at,
            unique_key=scheduled_publish_key(post_id),
        ),
        at=call.at,
    )
    record_audit(
        connection, call, "post.schedule", "post", post_id, at=at.isoformat(), task=task.task_id
    )
    facts = {"slug": post.content.slug, "at": at.isoformat(), "task": task.task_id}
    _record(connection, call, EventType.POST_SCHEDULED, post, facts)
    return replace(
        post, status=target, published_at=at, published_revision=None, updated_at=call.at
    )


def unschedule_post(connection: Connection, call: Call, post_id: int) -> Post:
    """Back to a draft; its publish task is cancelled."""
    post = find_post(connection, call.actor, post_id, lock=True)
    require_action(connection, call, PostAction.EDIT, post)
    if post.status is not PostStatus.SCHEDULED:
        raise InvalidTransition(
            f"a post that is {post.status.value} is not scheduled",
            current_status=post.status.value,
        )
    cancel_scheduled_publish(connection, post_id, call.at)
    post_store.set_status(
        connection,
        post_id,
        PostStatus.DRAFT,
        at=call.at,
        published_at=None,
        published_revision=None,
    )
    record_audit(connection, call, "post.unschedule", "post", post_id)
    _record(connection, call, EventType.POST_UNSCHEDULED, post, {"slug": post.content.slug})
    return replace(
        post,
        status=PostStatus.DRAFT,
        published_at=None,
        published_revision=None,
        updated_at=call.at,
    )


def _record(
    connection: Connection, call: Call, type_: EventType, post: Post, facts: dict[str, object]
) -> None:
    """A scheduling event: the post is not live either way, so no public page changes."""
    new = NewEvent(type_, "post", str(post.id), post.revision, facts)
    record_event(connection, call, new)


def publish_when_due(connection: Connection, call: Call, post_id: int) -> float | None:
    """The worker's half: publish a still-scheduled post; return how late, in seconds.

    The gates run again: if one blocks now, the post goes back to a draft with a
    `blocked` receipt, an audit entry and an event, and nothing goes live (None).
    Idempotent: a post that was unscheduled, or already published, is left alone (None).
    A post whose time has not come (a task retried early by hand) is refused.
    """
    post = post_store.get_post(connection, post_id, lock=True)
    if post is None or post.status is not PostStatus.SCHEDULED or post.published_at is None:
        return None
    due = post.published_at
    if due > call.at:
        raise NotDueYet(f"post {post_id} is due at {due.isoformat()}; schedule it again to move it")
    results = check_gates(connection, call, post)
    if blocking(results):
        _block(connection, call, post, results)
        return None
    lateness = max(0.0, (call.at - due).total_seconds())
    put_live(
        connection,
        call,
        post,
        results,
        published_at=due,
        scheduled_for=due.isoformat(),
        late_by_seconds=round(lateness, 3),
    )
    return lateness


def _block(connection: Connection, call: Call, post: Post, results: list[GateResult]) -> None:
    """A scheduled post the gates stop at its time: back to a draft, and said so."""
    post_store.set_status(
        connection,
        post.id,
        PostStatus.DRAFT,
        at=call.at,
        published_at=None,
        published_revision=None,
    )
    receipt = block_receipt(connection, call, post, results)
    codes = sorted({result.code for result in blocking(results)})
    record_audit(connection, call, "post.blocked", "post", post.id, receipt=receipt.id, gates=codes)
    facts = {
        "slug": post.content.slug,
        "reason": "gates_failed",
        "gates": codes,
        "receipt": receipt.id,
    }
    _record(connection, call, EventType.POST_UNSCHEDULED, post, facts)
