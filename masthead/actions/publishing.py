"""Putting a post's current revision live, taking it down, archiving it.

This is the one place a post goes public or leaves the public site. Each use case checks
the caller's role and the lifecycle, reads the post once, makes the change, writes its
audit entry and records its event with the public pages it affected. Gates,
verification and receipts grow here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from masthead.actions.context import Call, record_audit
from masthead.actions.drafts import find_post, require_action
from masthead.actions.lifecycle import PublicChange, live_facts
from masthead.domain.events import EventType
from masthead.domain.permissions import PostAction
from masthead.domain.posts import Post, PostStatus
from masthead.site.changes import PublicState, Scope
from masthead.store import posts as post_store
from masthead.store import published, slugs
from masthead.store.tasks import cancel_pending_with_key

__all__ = [
    "archive_post",
    "cancel_scheduled_publish",
    "publish_post",
    "put_live",
    "scheduled_publish_key",
    "take_down",
    "unpublish_post",
]


def publish_post(
    connection: Connection, call: Call, post_id: int, *, published_at: datetime | None = None
) -> Post:
    """Publish now. A scheduled post goes live now, and its scheduled publish is dropped.

    `published_at` dates the post (an import keeps its posts' dates); without it a post
    keeps the date of its first publish.
    """
    post = find_post(connection, call.actor, post_id, lock=True)
    require_action(connection, call, PostAction.PUBLISH, post)
    early = post.status is PostStatus.SCHEDULED
    if early:
        cancel_scheduled_publish(connection, post_id, call.at)
    live_since = published_at or (call.at if early else post.published_at or call.at)
    return put_live(connection, call, post, published_at=live_since)


def put_live(
    connection: Connection, call: Call, post: Post, *, published_at: datetime, **detail: Any
) -> Post:
    """Pin the post's current revision as its live version, dated `published_at`.

    The mechanism behind every publish (the caller has checked who may do it). When the
    live slug changes, the old one keeps answering with a redirect.
    """
    change = PublicChange(connection, call, _reach(post))
    was_live = change.before.posts.get(post.id)
    if was_live is not None and was_live.slug != post.content.slug:
        slugs.add_redirect(connection, was_live.slug, post.id, call.at)
    slugs.remove_redirect(connection, post.content.slug, post.id)
    published.pin_working_copy(connection, post, published_at, call.at)
    live = _moved(connection, call, post, PostStatus.PUBLISHED, published_at, post.revision)
    record_audit(
        connection, call, "post.publish", "post", post.id, revision=post.revision, **detail
    )
    after = change.after()
    change.record(
        EventType.POST_UPDATED if was_live else EventType.POST_PUBLISHED,
        "post",
        post.id,
        revision=post.revision,
        facts=_facts(live, change.before, after),
        after=after,
    )
    return live


def take_down(
    connection: Connection, call: Call, post: Post, status: PostStatus, event: EventType
) -> Post:
    """Take the post off every public page (if it is live) and give it `status`.

    It keeps its revisions and its date.
    """
    change = PublicChange(connection, call, _reach(post))
    published.unpin(connection, post.id)
    down = _moved(connection, call, post, status, post.published_at, None)
    after = change.after()
    facts = _facts(down, change.before, after)
    change.record(event, "post", post.id, revision=post.revision, facts=facts, after=after)
    return down


def unpublish_post(connection: Connection, call: Call, post_id: int) -> Post:
    post = find_post(connection, call.actor, post_id, lock=True)
    require_action(connection, call, PostAction.UNPUBLISH, post)
    down = take_down(connection, call, post, PostStatus.UNPUBLISHED, EventType.POST_UNPUBLISHED)
    record_audit(connection, call, "post.unpublish", "post", post_id)
    return down


def archive_post(connection: Connection, call: Call, post_id: int) -> Post:
    """Deleted from view, kept for the record."""
    post = find_post(connection, call.actor, post_id, lock=True)
    require_action(connection, call, PostAction.ARCHIVE, post)
    cancel_scheduled_publish(connection, post_id, call.at)
    archived = take_down(connection, call, post, PostStatus.ARCHIVED, EventType.POST_ARCHIVED)
    record_audit(connection, call, "post.archive", "post", post_id)
    return archived


def scheduled_publish_key(post_id: int) -> str:
    """The unique key of a post's scheduled publish: at most one is pending."""
    return f"publish:{post_id}"


def cancel_scheduled_publish(connection: Connection, post_id: int, at: datetime) -> None:
    cancel_pending_with_key(connection, scheduled_publish_key(post_id), at)


def _reach(post: Post) -> Scope:
    """What a change of this post's public life can reach: its page, and every listing it
    is in now or will be in (its live version's, and its working copy's)."""
    return Scope.of([post.id], post.content.tags, post.content.authors, headers=False)


def _moved(
    connection: Connection,
    call: Call,
    post: Post,
    status: PostStatus,
    published_at: datetime | None,
    published_revision: int | None,
) -> Post:
    post_store.set_status(
        connection,
        post.id,
        status,
        at=call.at,
        published_at=published_at,
        published_revision=published_revision,
    )
    return replace(
        post,
        status=status,
        published_at=published_at,
        published_revision=published_revision,
        updated_at=call.at,
    )


def _facts(post: Post, before: PublicState, after: PublicState) -> dict[str, Any]:
    """What consumers need that the change erased: how the post stood before, and now."""
    return {
        "status": post.status.value,
        "slug": post.content.slug,
        "live_before": live_facts(before, post.id),
        "live_after": live_facts(after, post.id),
    }
