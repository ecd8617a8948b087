"""Putting a post's current revision live, and taking it down.

This is the one place a post goes public; later work (gates, verification, receipts)
grows here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from masthead.domain.posts import Post, PostStatus
from masthead.errors import NotFound
from masthead.store import posts as post_store
from masthead.store import published

__all__ = ["publish", "unpublish"]


def publish(
    connection: Connection, post_id: int, *, at: datetime, published_at: datetime | None = None
) -> Post:
    """Pin the current revision as the live one. Keeps the first publish date."""
    post = _existing(connection, post_id)
    live_since = published_at or post.published_at or at
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


def _existing(connection: Connection, post_id: int) -> Post:
    post = post_store.get_post(connection, post_id)
    if post is None:
        raise NotFound(f"no post with id {post_id}")
    return post
