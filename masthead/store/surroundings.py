"""What a post page shows of the rest of the site: its neighbours in time, its related
posts, the person who reviewed its live revision, and its Markdown source.

Reads of the published tables only (the Markdown is the published revision's own).
Time order is the index's: `published_at`, then id.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, type_coerce

from masthead.domain.staff import StaffKind
from masthead.store.schema import (
    UTCDateTime,
    approvals,
    post_revisions,
    published_posts,
    published_tags,
    staff,
)

__all__ = [
    "RELATED_SIZE",
    "Glimpse",
    "LlmsEntry",
    "live_posts_reviewed_by",
    "llms_entries",
    "markdown_bodies",
    "neighbours",
    "related",
    "reviewers",
    "tag_mates_after",
]

RELATED_SIZE = 3


@dataclass(frozen=True)
class Glimpse:
    """Another post as a post page links to it."""

    id: int
    slug: str
    title: str
    published_at: datetime
    updated_at: datetime


def _glimpses(connection: Connection, ids: list[int]) -> list[Glimpse]:
    if not ids:
        return []
    query = select(
        published_posts.c.post_id,
        published_posts.c.slug,
        published_posts.c.title,
        published_posts.c.published_at,
        published_posts.c.updated_at,
    ).where(published_posts.c.post_id.in_(ids))
    found = {row.post_id: Glimpse(*row) for row in connection.execute(query)}
    return [found[post_id] for post_id in ids if post_id in found]


def _before(table: Any, at: datetime, post_id: int) -> ColumnElement[bool]:
    return or_(
        table.c.published_at < at, and_(table.c.published_at == at, table.c.post_id < post_id)
    )


def _after(table: Any, at: datetime, post_id: int) -> ColumnElement[bool]:
    return or_(
        table.c.published_at > at, and_(table.c.published_at == at, table.c.post_id > post_id)
    )


def neighbours(
    connection: Connection, post_id: int, at: datetime
) -> tuple[Glimpse | None, Glimpse | None]:
    """The post published just before this one, and the one just after."""
    table = published_posts
    older = connection.execute(
        select(table.c.post_id)
        .where(_before(table, at, post_id))
        .order_by(table.c.published_at.desc(), table.c.post_id.desc())
        .limit(1)
    ).scalar()
    newer = connection.execute(
        select(table.c.post_id)
        .where(_after(table, at, post_id))
        .order_by(table.c.published_at, table.c.post_id)
        .limit(1)
    ).scalar()
    found = {
        glimpse.id: glimpse for glimpse in _glimpses(connection, [i for i in (older, newer) if i])
    }
    return found.get(older or 0), found.get(newer or 0)


def related(
    connection: Connection, post_id: int, at: datetime, limit: int = RELATED_SIZE
) -> list[Glimpse]:
    """Posts published before this one that share its tags: the most shared tags first,
    then the newest (then the highest id). Only earlier posts, so that a new post never
    changes the related posts of the pages already out."""
    mine = select(published_tags.c.tag_id).where(published_tags.c.post_id == post_id)
    shared = func.count()
    newest = type_coerce(func.max(published_tags.c.published_at), UTCDateTime())
    query = (
        select(published_tags.c.post_id)
        .where(published_tags.c.tag_id.in_(mine), _before(published_tags, at, post_id))
        .group_by(published_tags.c.post_id)
        .order_by(shared.desc(), newest.desc(), published_tags.c.post_id.desc())
        .limit(limit)
    )
    return _glimpses(connection, list(connection.execute(query).scalars()))


def tag_mates_after(connection: Connection, post_id: int, at: datetime) -> list[Glimpse]:
    """Live posts published after this one that share a tag with it (whose related posts
    it may be among), by id."""
    mine = select(published_tags.c.tag_id).where(published_tags.c.post_id == post_id)
    query = (
        select(published_tags.c.post_id)
        .where(published_tags.c.tag_id.in_(mine), _after(published_tags, at, post_id))
        .distinct()
    )
    return _glimpses(connection, sorted(connection.execute(query).scalars()))


def _of_live_revision() -> ColumnElement[bool]:
    """An approval of the revision that is live now."""
    return and_(
        published_posts.c.post_id == approvals.c.post_id,
        published_posts.c.revision == approvals.c.revision,
    )


def reviewers(connection: Connection, post_ids: Collection[int]) -> dict[int, str]:
    """Per live post, the person who approved its live revision before it went live (the
    newest such approval), by name."""
    if not post_ids:
        return {}
    query = (
        select(approvals.c.post_id, staff.c.name)
        .join(staff, staff.c.id == approvals.c.staff_id)
        .join(published_posts, _of_live_revision())
        .where(
            approvals.c.post_id.in_(sorted(post_ids)),
            staff.c.kind == StaffKind.PERSON.value,
            approvals.c.at <= published_posts.c.updated_at,
        )
        .order_by(approvals.c.post_id, approvals.c.id)
    )
    return {row.post_id: row.name for row in connection.execute(query)}  # the newest wins


def live_posts_reviewed_by(connection: Connection, slug: str) -> list[int]:
    """Live posts whose live revision this member approved (their name is on its page)."""
    query = (
        select(approvals.c.post_id)
        .join(staff, staff.c.id == approvals.c.staff_id)
        .join(published_posts, _of_live_revision())
        .where(staff.c.slug == slug)
        .distinct()
    )
    return sorted(connection.execute(query).scalars())


def markdown_bodies(connection: Connection, post_ids: Collection[int]) -> dict[int, str]:
    """The Markdown of each live post's published revision."""
    if not post_ids:
        return {}
    query = (
        select(post_revisions.c.post_id, post_revisions.c.body)
        .join(
            published_posts,
            and_(
                published_posts.c.post_id == post_revisions.c.post_id,
                published_posts.c.revision == post_revisions.c.number,
            ),
        )
        .where(post_revisions.c.post_id.in_(sorted(post_ids)))
    )
    return {row.post_id: row.body for row in connection.execute(query)}


@dataclass(frozen=True)
class LlmsEntry:
    slug: str
    title: str
    dek: str


def llms_entries(connection: Connection) -> list[LlmsEntry]:
    """Every live post's slug, title and dek, newest first (only those three columns)."""
    rows = connection.execute(
        select(published_posts.c.slug, published_posts.c.title, published_posts.c.dek).order_by(
            published_posts.c.published_at.desc(), published_posts.c.post_id.desc()
        )
    )
    return [LlmsEntry(*row) for row in rows]
