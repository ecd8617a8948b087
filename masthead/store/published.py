"""Pinning a revision as a post's live version, and taking it down."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from masthead.store.schema import post_revisions, published_authors, published_posts, published_tags
from masthead.store.staff import staff_ids
from masthead.store.tags import tag_ids

__all__ = ["pin_revision", "unpin"]


def pin_revision(
    connection: Connection, post_id: int, number: int, published_at: datetime, at: datetime
) -> None:
    """Copy revision `number` into the public tables, replacing what was live."""
    revision = connection.execute(
        select(post_revisions).where(
            post_revisions.c.post_id == post_id, post_revisions.c.number == number
        )
    ).one()
    unpin(connection, post_id)
    connection.execute(
        insert(published_posts).values(
            post_id=post_id,
            revision=number,
            slug=revision.slug,
            title=revision.title,
            dek=revision.dek,
            body_html=revision.body_html,
            reading_time=revision.reading_time,
            published_at=published_at,
            updated_at=at,
        )
    )
    dates = {"published_at": published_at, "updated_at": at}
    tag_slugs: list[str] = json.loads(revision.tags)
    author_slugs: list[str] = json.loads(revision.authors)
    if tag_slugs:
        ids = tag_ids(connection, tag_slugs)
        connection.execute(
            insert(published_tags),
            [
                {"post_id": post_id, "position": position, "tag_id": ids[slug], **dates}
                for position, slug in enumerate(tag_slugs)
            ],
        )
    if author_slugs:
        ids = staff_ids(connection, author_slugs)
        connection.execute(
            insert(published_authors),
            [
                {"post_id": post_id, "position": position, "staff_id": ids[slug], **dates}
                for position, slug in enumerate(author_slugs)
            ],
        )


def unpin(connection: Connection, post_id: int) -> None:
    """Take a post off the public site (its rows only; the post itself stays)."""
    for table in (published_tags, published_authors):
        connection.execute(delete(table).where(table.c.post_id == post_id))
    connection.execute(delete(published_posts).where(published_posts.c.post_id == post_id))
