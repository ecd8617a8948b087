"""Saving a post's content: a new revision when anything changed, never a duplicate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection

from masthead.actions.publishing import publish, unpublish
from masthead.content.markdown import render_markdown
from masthead.domain.posts import Post, PostContent, PostStatus, RevisionSource
from masthead.store import posts as post_store

__all__ = ["SaveOutcome", "SavedPost", "save_post_by_slug"]


class SaveOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class SavedPost:
    post: Post
    outcome: SaveOutcome


def save_post_by_slug(
    connection: Connection,
    content: PostContent,
    *,
    status: PostStatus,
    published_at: datetime | None,
    source: RevisionSource,
    at: datetime,
    actor: int | None = None,
) -> SavedPost:
    """Create the post with this slug, or update it in place; publish or unpublish to match."""
    post_id = post_store.get_post_id(connection, content.slug)
    revision = post_store.NewRevision(content, render_markdown(content.body), source, actor, at)
    if post_id is None:
        post_id = post_store.insert_post(connection, revision, PostStatus.DRAFT, published_at)
        outcome = SaveOutcome.CREATED
    else:
        existing = _get(connection, post_id)
        changed = existing.content != content
        if changed:
            post_store.add_revision(connection, post_id, revision)
        moved = existing.status != status or (
            published_at is not None and existing.published_at != published_at
        )
        outcome = SaveOutcome.UPDATED if changed or moved else SaveOutcome.UNCHANGED
        if outcome is SaveOutcome.UNCHANGED:
            return SavedPost(existing, outcome)
    post = _reach_status(connection, post_id, status, published_at, at)
    return SavedPost(post, outcome)


def _reach_status(
    connection: Connection,
    post_id: int,
    status: PostStatus,
    published_at: datetime | None,
    at: datetime,
) -> Post:
    if status is PostStatus.PUBLISHED:
        return publish(connection, post_id, at=at, published_at=published_at)
    return unpublish(connection, post_id, at=at, status=status, published_at=published_at)


def _get(connection: Connection, post_id: int) -> Post:
    post = post_store.get_post(connection, post_id)
    assert post is not None, "the post was read in this transaction"
    return post
