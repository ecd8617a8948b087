"""Putting a post's current revision live, taking it down, archiving it.

This is the one place a post goes public; gates, verification and receipts grow here.
`publish` and `unpublish` are the mechanism (used by import too); `publish_post`,
`unpublish_post` and `archive_post` are the use cases, with roles and lifecycle checked.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from masthead.actions.context import Call, record_audit
from masthead.actions.drafts import find_post, require_action
from masthead.domain.permissions import PostAction
from masthead.domain.posts import Post, PostStatus
from masthead.errors import NotFound
from masthead.store import posts as post_store
from masthead.store import published, slugs
from masthead.store.public import find_published_slug
from masthead.store.tasks import cancel_pending_with_key

__all__ = [
    "archive_post",
    "cancel_scheduled_publish",
    "publish",
    "publish_post",
    "scheduled_publish_key",
    "unpublish",
    "unpublish_post",
]


def publish(
    connection: Connection, post_id: int, *, at: datetime, published_at: datetime | None = None
) -> Post:
    """Pin the current revision as the live one. Keeps the first publish date.

    When the live slug changes, the old one keeps answering with a redirect.
    """
    post = _existing(connection, post_id)
    live_since = published_at or post.published_at or at
    old_slug = find_published_slug(connection, post_id)
    if old_slug is not None and old_slug != post.content.slug:
        slugs.add_redirect(connection, old_slug, post_id, at)
    slugs.remove_redirect(connection, post.content.slug, post_id)
    published.pin_revision(connection, post_id, post.revision, live_since, at)
    post_store.set_status(
        connection,
        post_id,
        PostStatus.PUBLISHED,
        at=at,
        published_at=live_since,
        published_revision=post.revision,
    )
    return _existing(connection, post_id)


def unpublish(
    connection: Connection,
    post_id: int,
    *,
    at: datetime,
    status: PostStatus = PostStatus.UNPUBLISHED,
    published_at: datetime | None = None,
) -> Post:
    """Take the post off every public page (a no-op for one that is not live).

    It keeps its revisions, and its date unless another is given.
    """
    post = _existing(connection, post_id)
    published.unpin(connection, post_id)
    post_store.set_status(
        connection,
        post_id,
        status,
        at=at,
        published_at=published_at or post.published_at,
        published_revision=None,
    )
    return _existing(connection, post_id)


def publish_post(connection: Connection, call: Call, post_id: int) -> Post:
    """Publish now. A scheduled post goes live now, and its scheduled publish is dropped."""
    post = find_post(connection, call.actor, post_id, lock=True)
    require_action(connection, call, PostAction.PUBLISH, post)
    early = post.status is PostStatus.SCHEDULED
    if early:
        cancel_scheduled_publish(connection, post_id, call.at)
    live = publish(connection, post_id, at=call.at, published_at=call.at if early else None)
    record_audit(connection, call, "post.publish", "post", post_id, revision=live.revision)
    return live


def unpublish_post(connection: Connection, call: Call, post_id: int) -> Post:
    post = find_post(connection, call.actor, post_id, lock=True)
    require_action(connection, call, PostAction.UNPUBLISH, post)
    down = unpublish(connection, post_id, at=call.at)
    record_audit(connection, call, "post.unpublish", "post", post_id)
    return down


def archive_post(connection: Connection, call: Call, post_id: int) -> Post:
    """Deleted from view, kept for the record."""
    post = find_post(connection, call.actor, post_id, lock=True)
    require_action(connection, call, PostAction.ARCHIVE, post)
    cancel_scheduled_publish(connection, post_id, call.at)
    archived = unpublish(connection, post_id, at=call.at, status=PostStatus.ARCHIVED)
    record_audit(connection, call, "post.archive", "post", post_id)
    return archived


def scheduled_publish_key(post_id: int) -> str:
    """The unique key of a post's scheduled publish: at most one is pending."""
    return f"publish:{post_id}"


def cancel_scheduled_publish(connection: Connection, post_id: int, at: datetime) -> None:
    cancel_pending_with_key(connection, scheduled_publish_key(post_id), at)


def _existing(connection: Connection, post_id: int) -> Post:
    post = post_store.get_post(connection, post_id)
    if post is None:
        raise NotFound(f"no post with id {post_id}")
    return post
