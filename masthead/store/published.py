"""Pinning a post's working copy as its live version, and taking it down."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, literal, select

from masthead.domain.posts import Post
from masthead.store import search
from masthead.store.schema import (
    post_authors,
    post_tags,
    published_authors,
    published_posts,
    published_tags,
)

__all__ = ["pin_working_copy", "unpin"]


def pin_working_copy(
    connection: Connection, post: Post, published_at: datetime, at: datetime
) -> None:
    """Copy the post's working copy (its newest revision) into the public tables,
    replacing what was live. Its tags and authors are copied from the working copy's
    own links, in their order. The public search index takes the same revision."""
    unpin(connection, post.id)
    content = post.content
    connection.execute(
        insert(published_posts).values(
            post_id=post.id,
            revision=post.revision,
            slug=content.slug,
            title=content.title,
            dek=content.dek,
            body_html=post.body_html,
            reading_time=post.reading_time,
            published_at=published_at,
            updated_at=at,
        )
    )
    dates = (
        literal(published_at, published_tags.c.published_at.type),
        literal(at, published_tags.c.updated_at.type),
    )
    for source, target, key in (
        (post_tags, published_tags, "tag_id"),
        (post_authors, published_authors, "staff_id"),
    ):
        rows = select(source.c.post_id, source.c.position, source.c[key], *dates).where(
            source.c.post_id == post.id
        )
        columns = ["post_id", "position", key, "published_at", "updated_at"]
        connection.execute(insert(target).from_select(columns, rows))
    search.index_live(connection, post.id, content.title, content.dek, post.body_html)


def unpin(connection: Connection, post_id: int) -> None:
    """Take a post off the public site (its rows only; the post itself stays). Its tag
    and author rows, and its row in the public search index, go with it (ON DELETE CASCADE)."""
    connection.execute(delete(published_posts).where(published_posts.c.post_id == post_id))
