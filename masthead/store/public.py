"""Reads for the public site. They touch only the published tables."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Integer, bindparam, func, or_, select, type_coerce

from masthead.domain.posts import PublishedPost
from masthead.domain.staff import StaffMember, Tag
from masthead.store.schema import (
    UTCDateTime,
    published_authors,
    published_posts,
    published_tags,
    staff,
    tags,
)
from masthead.store.staff import staff_from_row
from masthead.store.tags import tag_from_row

__all__ = [
    "Filter",
    "SitemapEntry",
    "count_published",
    "find_published",
    "find_published_slug",
    "is_live_slug",
    "last_change",
    "list_cards",
    "list_published",
    "listed_author",
    "listed_authors",
    "listed_tag",
    "listed_tags",
    "listing_summary",
    "live_slugs",
    "published_by_id",
    "sitemap_groups",
    "sitemap_posts",
]


@dataclass(frozen=True)
class Filter:
    """Which published posts a listing covers: all, one tag's, or one author's."""

    tag_id: int | None = None
    staff_id: int | None = None


def _source(which: Filter) -> tuple[Any, list[ColumnElement[bool]]]:
    """The table a listing reads, with its condition. Each has an index on
    (key, published_at, post_id) and (key, updated_at), so a page, its count and its
    last change are index reads."""
    if which.tag_id is not None:
        return published_tags, [published_tags.c.tag_id == which.tag_id]
    if which.staff_id is not None:
        return published_authors, [published_authors.c.staff_id == which.staff_id]
    return published_posts, []


def count_published(connection: Connection, which: Filter = Filter()) -> int:
    table, conditions = _source(which)
    query = select(func.count()).select_from(table).where(*conditions)
    return int(connection.execute(query).scalar_one())


def list_published(
    connection: Connection, which: Filter = Filter(), *, limit: int, offset: int = 0
) -> list[PublishedPost]:
    """Newest first: `published_at`, then id, descending."""
    table, conditions = _source(which)
    page = (
        select(table.c.post_id)
        .where(*conditions)
        .order_by(table.c.published_at.desc(), table.c.post_id.desc())
        .limit(limit)
        .offset(offset)
    )
    ids = list(connection.execute(page).scalars())
    if not ids:
        return []
    rows = {
        row.post_id: row
        for row in connection.execute(
            select(published_posts).where(published_posts.c.post_id.in_(ids))
        )
    }
    return _with_people(connection, [rows[post_id] for post_id in ids])


# --- a listing page, as its cards show it (the cold path of every listing) -------------
# The statements are built once, with parameters: building one costs more than running it.

_KEY = bindparam("key", type_=Integer())


def _source_by_kind(kind: str) -> tuple[Any, list[ColumnElement[bool]]]:
    if kind == "tag":
        return published_tags, [published_tags.c.tag_id == _KEY]
    if kind == "author":
        return published_authors, [published_authors.c.staff_id == _KEY]
    return published_posts, []


def _summary_statement(kind: str) -> Any:
    """The count and the newest change of a listing, each its own index read."""
    table, conditions = _source_by_kind(kind)
    count = select(func.count()).select_from(table).where(*conditions).scalar_subquery()
    newest = select(func.max(table.c.updated_at)).where(*conditions).scalar_subquery()
    return select(count, type_coerce(newest, UTCDateTime()))


_CARD_COLUMNS = [column for column in published_posts.c if column.name != "body_html"]


def _cards_statement(kind: str) -> Any:
    """One page of a listing's posts, without their bodies: the page's ids from the
    listing's index (no wide row read for the posts skipped), then their rows."""
    table, conditions = _source_by_kind(kind)
    page = (
        select(table.c.post_id)
        .where(*conditions)
        .order_by(table.c.published_at.desc(), table.c.post_id.desc())
        .limit(bindparam("limit", type_=Integer()))
        .offset(bindparam("offset", type_=Integer()))
    )
    return (
        select(*_CARD_COLUMNS)
        .where(published_posts.c.post_id.in_(page.scalar_subquery()))
        .order_by(published_posts.c.published_at.desc(), published_posts.c.post_id.desc())
    )


_KINDS = ("index", "tag", "author")
_SUMMARIES = {kind: _summary_statement(kind) for kind in _KINDS}
_CARDS = {kind: _cards_statement(kind) for kind in _KINDS}


def _kind_and_key(which: Filter) -> tuple[str, dict[str, Any]]:
    if which.tag_id is not None:
        return "tag", {"key": which.tag_id}
    if which.staff_id is not None:
        return "author", {"key": which.staff_id}
    return "index", {}


def listing_summary(
    connection: Connection, which: Filter = Filter()
) -> tuple[int, datetime | None]:
    """How many posts a listing has, and when its newest was last (re)published: one
    statement (as `count_published` and `last_change`)."""
    kind, values = _kind_and_key(which)
    row = connection.execute(_SUMMARIES[kind], values).one()
    return int(row[0]), row[1]


def list_cards(
    connection: Connection, which: Filter = Filter(), *, limit: int, offset: int = 0
) -> list[PublishedPost]:
    """As `list_published`, for cards: every field but the body (`body_html` is "")."""
    kind, values = _kind_and_key(which)
    rows = list(connection.execute(_CARDS[kind], {**values, "limit": limit, "offset": offset}))
    return _with_people(connection, rows, with_body=False)


_POST_BY_SLUG = select(published_posts).where(published_posts.c.slug == bindparam("slug"))


def find_published(connection: Connection, slug: str) -> PublishedPost | None:
    rows = list(connection.execute(_POST_BY_SLUG, {"slug": slug}))
    found = _with_people(connection, rows)
    return found[0] if found else None


def is_live_slug(connection: Connection, slug: str) -> bool:
    """Whether a live post has this slug."""
    query = select(published_posts.c.post_id).where(published_posts.c.slug == slug)
    return connection.execute(query).first() is not None


def find_published_slug(connection: Connection, post_id: int) -> str | None:
    """The slug a post is live under, if it is live."""
    query = select(published_posts.c.slug).where(published_posts.c.post_id == post_id)
    slug: str | None = connection.execute(query).scalar()
    return slug


_SLUG: Any = bindparam("slug")
_TAG_BY_SLUG = select(tags).where(tags.c.slug == _SLUG)


def listed_tag(connection: Connection, slug: str) -> tuple[int, Tag] | None:
    """A tag whose listing exists: every known tag, with published posts or not."""
    row = connection.execute(_TAG_BY_SLUG, {"slug": slug}).first()
    return (row.id, tag_from_row(row)) if row else None


def _has_live_posts() -> ColumnElement[bool]:
    return (
        select(published_authors.c.post_id)
        .where(published_authors.c.staff_id == staff.c.id)
        .exists()
    )


def _author_is_listed() -> ColumnElement[bool]:
    """Whose listing exists: every active member, and a suspended one with live posts."""
    return or_(staff.c.active.is_(True), _has_live_posts())


_AUTHOR_BY_SLUG = select(staff).where(staff.c.slug == _SLUG, _author_is_listed())


def listed_author(connection: Connection, slug: str) -> tuple[int, StaffMember] | None:
    row = connection.execute(_AUTHOR_BY_SLUG, {"slug": slug}).first()
    return (row.id, staff_from_row(row)) if row else None


def listed_tags(connection: Connection) -> list[Tag]:
    return [tag_from_row(row) for row in connection.execute(select(tags).order_by(tags.c.slug))]


def listed_authors(
    connection: Connection, slugs: Collection[str] | None = None
) -> list[StaffMember]:
    """Members whose listing exists (of `slugs`, or all), by slug."""
    query = select(staff).where(_author_is_listed()).order_by(staff.c.slug)
    if slugs is not None:
        query = query.where(staff.c.slug.in_(sorted(slugs)))
    return [staff_from_row(row) for row in connection.execute(query)]


def published_by_id(connection: Connection, post_ids: Collection[int]) -> list[PublishedPost]:
    """The live versions of these posts (those that are live), in id order."""
    if not post_ids:
        return []
    query = (
        select(published_posts)
        .where(published_posts.c.post_id.in_(sorted(post_ids)))
        .order_by(published_posts.c.post_id)
    )
    return _with_people(connection, list(connection.execute(query)))


def live_slugs(connection: Connection) -> dict[int, str]:
    """Every live post's slug, by post id."""
    rows = connection.execute(select(published_posts.c.post_id, published_posts.c.slug))
    return {row.post_id: row.slug for row in rows}


def last_change(connection: Connection, which: Filter = Filter()) -> datetime | None:
    """When the newest post in this listing was last published or republished."""
    table, conditions = _source(which)
    query = select(_newest_change(table)).where(*conditions)
    value: datetime | None = connection.execute(query).scalar()
    return value


@dataclass(frozen=True)
class SitemapEntry:
    """A post, tag or author in the sitemap: its slug and when it last changed."""

    slug: str
    last_change: datetime


def sitemap_posts(connection: Connection, *, limit: int) -> list[SitemapEntry]:
    """Live posts for the sitemap, newest first: only the two columns it shows (a sitemap
    of 10,000 posts must not load 10,000 bodies)."""
    rows = connection.execute(
        select(published_posts.c.slug, published_posts.c.updated_at)
        .order_by(published_posts.c.published_at.desc(), published_posts.c.post_id.desc())
        .limit(limit)
    )
    return [SitemapEntry(row.slug, row.updated_at) for row in rows]


def sitemap_groups(connection: Connection) -> tuple[list[SitemapEntry], list[SitemapEntry]]:
    """Tags and authors that have published posts, each with its newest change."""
    tag_rows = connection.execute(
        select(tags.c.slug, _newest_change(published_tags))
        .join(published_tags, published_tags.c.tag_id == tags.c.id)
        .group_by(tags.c.slug)
        .order_by(tags.c.slug)
    )
    author_rows = connection.execute(
        select(staff.c.slug, _newest_change(published_authors))
        .join(published_authors, published_authors.c.staff_id == staff.c.id)
        .group_by(staff.c.slug)
        .order_by(staff.c.slug)
    )
    return (
        [SitemapEntry(row[0], row[1]) for row in tag_rows],
        [SitemapEntry(row[0], row[1]) for row in author_rows],
    )


def _newest_change(table: Any = published_posts) -> Any:
    # An aggregate loses its column's type; give it back, so SQLite values come out aware.
    return type_coerce(func.max(table.c.updated_at), UTCDateTime())


_IDS: Any = bindparam("ids", expanding=True)
_TAGS_OF = (
    select(published_tags.c.post_id, tags)
    .join(tags, tags.c.id == published_tags.c.tag_id)
    .where(published_tags.c.post_id.in_(_IDS))
    .order_by(published_tags.c.post_id, published_tags.c.position)
)
_AUTHORS_OF = (
    select(published_authors.c.post_id, staff)
    .join(staff, staff.c.id == published_authors.c.staff_id)
    .where(published_authors.c.post_id.in_(_IDS))
    .order_by(published_authors.c.post_id, published_authors.c.position)
)


def _with_people(
    connection: Connection, rows: Sequence[Any], *, with_body: bool = True
) -> list[PublishedPost]:
    ids = [row.post_id for row in rows]
    tag_map: dict[int, list[Tag]] = defaultdict(list)
    author_map: dict[int, list[StaffMember]] = defaultdict(list)
    if ids:
        for row in connection.execute(_TAGS_OF, {"ids": ids}):
            tag_map[row.post_id].append(tag_from_row(row))
        for row in connection.execute(_AUTHORS_OF, {"ids": ids}):
            author_map[row.post_id].append(staff_from_row(row))
    return [
        PublishedPost(
            id=row.post_id,
            revision=row.revision,
            slug=row.slug,
            title=row.title,
            dek=row.dek,
            body_html=row.body_html if with_body else "",
            reading_time=row.reading_time,
            published_at=row.published_at,
            updated_at=row.updated_at,
            tags=tuple(tag_map[row.post_id]),
            authors=tuple(author_map[row.post_id]),
        )
        for row in rows
    ]
