"""Tags: rows in, frozen facts out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from masthead.domain.staff import Tag
from masthead.store.schema import post_tags, published_tags, tags

__all__ = [
    "delete_tag",
    "get_tag",
    "list_tags",
    "live_posts_with_tag",
    "save_tag",
    "tag_from_row",
    "tag_ids",
    "tag_in_use",
    "tags_by_slug",
]


def tag_from_row(row: Any) -> Tag:
    return Tag(slug=row.slug, name=row.name, description=row.description)


def list_tags(connection: Connection) -> list[Tag]:
    return [tag_from_row(row) for row in connection.execute(select(tags).order_by(tags.c.slug))]


def get_tag(connection: Connection, slug: str) -> Tag | None:
    row = connection.execute(select(tags).where(tags.c.slug == slug)).first()
    return tag_from_row(row) if row else None


def save_tag(connection: Connection, tag: Tag, now: datetime) -> bool:
    """Insert or update by slug; True when a row was written."""
    current = get_tag(connection, tag.slug)
    if current == tag:
        return False
    values = {"name": tag.name, "description": tag.description, "updated_at": now}
    if current is None:
        connection.execute(insert(tags).values(slug=tag.slug, created_at=now, **values))
    else:
        connection.execute(update(tags).where(tags.c.slug == tag.slug).values(**values))
    return True


def tags_by_slug(connection: Connection, slugs: Iterable[str]) -> list[Tag]:
    query = select(tags).where(tags.c.slug.in_(sorted(set(slugs)))).order_by(tags.c.slug)
    return [tag_from_row(row) for row in connection.execute(query)]


def tag_ids(connection: Connection, slugs: Iterable[str]) -> dict[str, int]:
    wanted = list(slugs)
    rows = connection.execute(select(tags.c.slug, tags.c.id).where(tags.c.slug.in_(wanted)))
    return {row.slug: row.id for row in rows}


def tag_in_use(connection: Connection, slug: str) -> bool:
    """Whether any post carries this tag, in its working copy or its live version."""
    for links in (post_tags, published_tags):
        query = (
            select(links.c.post_id)
            .join(tags, tags.c.id == links.c.tag_id)
            .where(tags.c.slug == slug)
            .limit(1)
        )
        if connection.execute(query).first() is not None:
            return True
    return False


def live_posts_with_tag(connection: Connection, slug: str) -> list[int]:
    query = (
        select(published_tags.c.post_id)
        .join(tags, tags.c.id == published_tags.c.tag_id)
        .where(tags.c.slug == slug)
    )
    return list(connection.execute(query).scalars())


def delete_tag(connection: Connection, slug: str) -> None:
    connection.execute(delete(tags).where(tags.c.slug == slug))
