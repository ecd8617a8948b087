"""What a post page shows of the rest of the site: its neighbours in time, its related
posts, the person who reviewed its live revision, and its Markdown source.

Reads of the published tables only (the Markdown is the published revision's own).
Time order is the index's: `published_at`, then id.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    and_,
    bindparam,
    func,
    or_,
    select,
    union_all,
)

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
    "RELATED_WINDOW",
    "Glimpse",
    "LlmsEntry",
    "live_posts_reviewed_by",
    "llms_entries",
    "markdown_bodies",
    "neighbours",
    "related",
    "related_reach",
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


_GLIMPSE = (
    published_posts.c.post_id,
    published_posts.c.slug,
    published_posts.c.title,
    published_posts.c.published_at,
    published_posts.c.updated_at,
)
# The statements are built once, with parameters (`:post_id`, `:at`): a post page runs
# them on every request, and building a statement costs more than running it.
_AT = bindparam("at", type_=UTCDateTime())
_ID = bindparam("post_id", type_=Integer())


# The bound on `published_at` comes first, on its own, so that the databases read a range
# of the (…, published_at, post_id) indexes rather than scan them for the OR.
def _before(table: Any) -> ColumnElement[bool]:
    earlier = or_(table.c.published_at < _AT, table.c.post_id < _ID)
    return and_(table.c.published_at <= _AT, earlier)


def _after(table: Any) -> ColumnElement[bool]:
    later = or_(table.c.published_at > _AT, table.c.post_id > _ID)
    return and_(table.c.published_at >= _AT, later)


_OLDER = (
    select(*_GLIMPSE)
    .where(_before(published_posts))
    .order_by(published_posts.c.published_at.desc(), published_posts.c.post_id.desc())
    .limit(1)
)
_NEWER = (
    select(*_GLIMPSE)
    .where(_after(published_posts))
    .order_by(published_posts.c.published_at, published_posts.c.post_id)
    .limit(1)
)
_MY_TAGS = (
    select(published_tags.c.tag_id)
    .where(published_tags.c.post_id == _ID)
    .order_by(published_tags.c.position)
)
RELATED_WINDOW = 40
"""Related posts are chosen among the newest RELATED_WINDOW posts before this one in each
of its tags (read from the listing index), so a post page costs the same however big
its tags are; a post further back is never among them."""


def _window(number: int, *, later: bool) -> Any:
    """The RELATED_WINDOW posts of tag `:tagN` just before (or just after) `:at`/`:post_id`,
    with the tag: one index range read."""
    table = published_tags
    order: tuple[Any, ...]
    if later:
        order = (table.c.published_at, table.c.post_id)
    else:
        order = (table.c.published_at.desc(), table.c.post_id.desc())
    part = (
        select(table.c.post_id, table.c.tag_id)
        .where(
            table.c.tag_id == bindparam(f"tag{number}", type_=Integer()),
            _after(table) if later else _before(table),
        )
        .order_by(*order)
        .limit(RELATED_WINDOW)
        .subquery()
    )
    return select(part.c.post_id, part.c.tag_id)


@cache
def _windows(count: int, *, later: bool) -> Any:
    """The windows of `count` tags, each post with the tag whose window it is in."""
    parts = [_window(number, later=later) for number in range(count)]
    return parts[0] if count == 1 else union_all(*parts)


@cache
def _related_among_windows(count: int) -> Any:
    """The best RELATED_SIZE of the windows: the most tags shared, then the newest. Each
    candidate's shared tags are counted by its own rows (the primary key's index)."""
    candidates = _windows(count, later=False).subquery()
    newest = (published_posts.c.published_at.desc(), published_posts.c.post_id.desc())
    among = select(*_GLIMPSE).where(published_posts.c.post_id.in_(select(candidates.c.post_id)))
    if count == 1:
        # Every candidate shares the one tag. Counting it anyway would cost a read of the
        # whole tag per candidate: for `tag_id = ?` the databases pick the tag's index
        # over the post's primary key (on SQLite, 1.2 ms a post page at 5,000 posts).
        return among.order_by(*newest).limit(RELATED_SIZE)
    mine = [bindparam(f"tag{number}", type_=Integer()) for number in range(count)]
    theirs = published_tags.alias("theirs")
    shared = (
        select(func.count())
        .select_from(theirs)
        .where(theirs.c.post_id == published_posts.c.post_id, theirs.c.tag_id.in_(mine))
        .scalar_subquery()
    )
    return among.order_by(shared.desc(), *newest).limit(RELATED_SIZE)


@cache
def _glimpses_of_windows(count: int) -> Any:
    windows = _windows(count, later=True).subquery()
    return (
        select(*_GLIMPSE)
        .where(published_posts.c.post_id.in_(select(windows.c.post_id)))
        .order_by(published_posts.c.post_id)
    )


def _tag_values(connection: Connection, post_id: int, at: datetime) -> dict[str, Any]:
    tag_ids = connection.execute(_MY_TAGS, {"post_id": post_id}).scalars().all()
    values: dict[str, Any] = {"post_id": post_id, "at": at}
    values.update({f"tag{number}": tag_id for number, tag_id in enumerate(tag_ids)})
    return values


def _glimpse(row: Any) -> Glimpse:
    return Glimpse(row[0], row[1], row[2], row[3], row[4])


def neighbours(
    connection: Connection, post_id: int, at: datetime
) -> tuple[Glimpse | None, Glimpse | None]:
    """The post published just before this one, and the one just after."""
    values = {"post_id": post_id, "at": at}
    older = connection.execute(_OLDER, values).first()
    newer = connection.execute(_NEWER, values).first()
    return (
        None if older is None else _glimpse(older),
        None if newer is None else _glimpse(newer),
    )


def related(connection: Connection, post_id: int, at: datetime) -> list[Glimpse]:
    """Up to RELATED_SIZE posts published before this one that share its tags, among the
    newest RELATED_WINDOW before it in each of its tags: the most shared tags first, then
    the newest (then the highest id). Only earlier posts, so that a new post never changes
    the related posts of the pages already out."""
    values = _tag_values(connection, post_id, at)
    count = len(values) - 2
    if not count:
        return []
    rows = connection.execute(_related_among_windows(count), values)
    return [_glimpse(row) for row in rows]


def related_reach(connection: Connection, post_id: int, at: datetime) -> set[int]:
    """The posts in this post's full windows (RELATED_WINDOW posts of one tag): one of
    them leaving lets an older post in, which may change the related posts even when
    the one that left was not shown."""
    values = _tag_values(connection, post_id, at)
    count = len(values) - 2
    if not count:
        return set()
    by_tag: dict[int, list[int]] = {}
    for found, tag_id in connection.execute(_windows(count, later=False), values):
        by_tag.setdefault(tag_id, []).append(found)
    return {found for ids in by_tag.values() if len(ids) >= RELATED_WINDOW for found in ids}


def tag_mates_after(connection: Connection, post_id: int, at: datetime) -> list[Glimpse]:
    """Live posts published after this one whose related posts it may be among: the next
    RELATED_WINDOW in each of its tags, by id."""
    values = _tag_values(connection, post_id, at)
    count = len(values) - 2
    if not count:
        return []
    rows = connection.execute(_glimpses_of_windows(count), values)
    return [_glimpse(row) for row in rows]


def _of_live_revision() -> ColumnElement[bool]:
    """An approval of the revision that is live now."""
    return and_(
        published_posts.c.post_id == approvals.c.post_id,
        published_posts.c.revision == approvals.c.revision,
    )


_REVIEWERS = (
    select(approvals.c.post_id, staff.c.name)
    .join(staff, staff.c.id == approvals.c.staff_id)
    .join(published_posts, _of_live_revision())
    .where(
        approvals.c.post_id.in_(bindparam("ids", expanding=True)),
        staff.c.kind == StaffKind.PERSON.value,
        approvals.c.at <= published_posts.c.updated_at,
    )
    .order_by(approvals.c.post_id, approvals.c.id)
)


def reviewers(connection: Connection, post_ids: Collection[int]) -> dict[int, str]:
    """Per live post, the person who approved its live revision before it went live (the
    newest such approval), by name."""
    if not post_ids:
        return {}
    rows = connection.execute(_REVIEWERS, {"ids": sorted(post_ids)})
    return {row.post_id: row.name for row in rows}  # the newest wins


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
