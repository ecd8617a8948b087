"""Posts' working copies and their numbered revisions."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from masthead.content.markdown import RenderedBody
from masthead.domain.posts import (
    Post,
    PostContent,
    PostQuery,
    PostStatus,
    Revision,
    RevisionSource,
)
from masthead.domain.search import parse_query
from masthead.store import search
from masthead.store.schema import post_authors, post_revisions, post_tags, posts, staff, tags
from masthead.store.staff import staff_ids
from masthead.store.tags import tag_ids

__all__ = [
    "NewRevision",
    "add_revision",
    "get_post",
    "get_post_id",
    "get_revision",
    "insert_post",
    "list_posts",
    "list_revisions",
    "post_ids_of",
    "set_status",
]


@dataclass(frozen=True)
class NewRevision:
    """Everything one saved change records."""

    content: PostContent
    rendered: RenderedBody
    source: RevisionSource
    created_by: int | None
    at: datetime
    token_id: int | None = None


def insert_post(
    connection: Connection, revision: NewRevision, status: PostStatus, published_at: datetime | None
) -> int:
    """A new post with its first revision; returns its id."""
    post_id: int = connection.execute(
        insert(posts)
        .values(
            **_working_copy(revision),
            status=status.value,
            published_at=published_at,
            revision=1,
            created_at=revision.at,
        )
        .returning(posts.c.id)
    ).scalar_one()
    _write_revision(connection, post_id, 1, revision)
    return post_id


def add_revision(connection: Connection, post_id: int, revision: NewRevision) -> int:
    """Record a saved change as the next revision and make it the working copy."""
    current = connection.execute(select(posts.c.revision).where(posts.c.id == post_id)).scalar_one()
    number = int(current) + 1
    connection.execute(
        update(posts)
        .where(posts.c.id == post_id)
        .values(**_working_copy(revision), revision=number)
    )
    _write_revision(connection, post_id, number, revision)
    return number


def set_status(
    connection: Connection,
    post_id: int,
    status: PostStatus,
    *,
    at: datetime,
    published_at: datetime | None,
    published_revision: int | None,
) -> None:
    connection.execute(
        update(posts)
        .where(posts.c.id == post_id)
        .values(
            status=status.value,
            published_at=published_at,
            published_revision=published_revision,
            updated_at=at,
        )
    )


def get_post_id(connection: Connection, slug: str) -> int | None:
    found = connection.execute(select(posts.c.id).where(posts.c.slug == slug)).scalar()
    return int(found) if found is not None else None


def post_ids_of(connection: Connection, slugs: Sequence[str]) -> dict[str, int]:
    """The id of each post among these slugs (a slug no post has is left out)."""
    rows = connection.execute(select(posts.c.slug, posts.c.id).where(posts.c.slug.in_(slugs)))
    return {slug: int(post_id) for slug, post_id in rows}


def get_post(connection: Connection, post_id: int, *, lock: bool = False) -> Post | None:
    """The post's working copy; with `lock`, its row is held until the transaction ends
    (PostgreSQL), so two changes based on the same revision cannot both pass the check."""
    query = select(posts).where(posts.c.id == post_id)
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        return None
    tag_map, author_map = _working_lists(connection, [post_id])
    return _post_from_row(row, tag_map[post_id], author_map[post_id])


def list_posts(connection: Connection, which: PostQuery | None = None) -> list[Post]:
    """Working copies, newest first (by id, which follows creation)."""
    which = which or PostQuery()
    query = select(posts).order_by(posts.c.id.desc())
    if which.statuses:
        query = query.where(posts.c.status.in_([status.value for status in which.statuses]))
    if which.tag is not None:
        query = query.where(
            posts.c.id.in_(
                select(post_tags.c.post_id)
                .join(tags, tags.c.id == post_tags.c.tag_id)
                .where(tags.c.slug == which.tag)
            )
        )
    if which.author is not None:
        query = query.where(
            posts.c.id.in_(
                select(post_authors.c.post_id)
                .join(staff, staff.c.id == post_authors.c.staff_id)
                .where(staff.c.slug == which.author)
            )
        )
    if which.text and which.ranked:
        ranks = search.working_ranks(connection, parse_query(which.text)).subquery()
        query = query.join(ranks, ranks.c.post_id == posts.c.id)
        query = query.order_by(None).order_by(ranks.c.rank, posts.c.id.desc())
        query = query.offset(which.offset or None)
    elif which.text:
        words = parse_query(which.text)
        query = query.where(posts.c.id.in_(search.working_matches(connection, words)))
    if which.before_id is not None and not (which.text and which.ranked):
        query = query.where(posts.c.id < which.before_id)
    if which.limit is not None:
        query = query.limit(which.limit)
    with search.by_index(connection) if which.text else nullcontext():
        rows = list(connection.execute(query))
    tag_map, author_map = _working_lists(connection, [row.id for row in rows])
    return [_post_from_row(row, tag_map[row.id], author_map[row.id]) for row in rows]


def _working_copy(revision: NewRevision) -> dict[str, Any]:
    content, rendered = revision.content, revision.rendered
    return {
        "slug": content.slug,
        "title": content.title,
        "dek": content.dek,
        "body": content.body,
        "body_html": rendered.html,
        "word_count": rendered.word_count,
        "reading_time": rendered.reading_time,
        "updated_at": revision.at,
    }


def _write_revision(
    connection: Connection, post_id: int, number: int, revision: NewRevision
) -> None:
    content = revision.content
    connection.execute(
        insert(post_revisions).values(
            post_id=post_id,
            number=number,
            slug=content.slug,
            title=content.title,
            dek=content.dek,
            body=content.body,
            body_html=revision.rendered.html,
            word_count=revision.rendered.word_count,
            reading_time=revision.rendered.reading_time,
            tags=json.dumps(list(content.tags)),
            authors=json.dumps(list(content.authors)),
            source=revision.source.value,
            created_by=revision.created_by,
            token_id=revision.token_id,
            created_at=revision.at,
        )
    )
    _replace_links(connection, post_tags, "tag_id", post_id, content.tags, tag_ids)
    _replace_links(connection, post_authors, "staff_id", post_id, content.authors, staff_ids)
    search.index_working(connection, post_id, content.title, content.dek, revision.rendered.html)


def _replace_links(
    connection: Connection,
    table: Any,
    column: str,
    post_id: int,
    slugs: Sequence[str],
    resolve: Any,
) -> None:
    connection.execute(delete(table).where(table.c.post_id == post_id))
    if not slugs:
        return
    ids = resolve(connection, slugs)
    connection.execute(
        insert(table),
        [
            {"post_id": post_id, "position": position, column: ids[slug]}
            for position, slug in enumerate(slugs)
        ],
    )


def _working_lists(
    connection: Connection, post_ids: list[int]
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    tag_map: dict[int, list[str]] = defaultdict(list)
    author_map: dict[int, list[str]] = defaultdict(list)
    if not post_ids:
        return tag_map, author_map
    tag_rows = connection.execute(
        select(post_tags.c.post_id, tags.c.slug)
        .join(tags, tags.c.id == post_tags.c.tag_id)
        .where(post_tags.c.post_id.in_(post_ids))
        .order_by(post_tags.c.post_id, post_tags.c.position)
    )
    for row in tag_rows:
        tag_map[row.post_id].append(row.slug)
    author_rows = connection.execute(
        select(post_authors.c.post_id, staff.c.slug)
        .join(staff, staff.c.id == post_authors.c.staff_id)
        .where(post_authors.c.post_id.in_(post_ids))
        .order_by(post_authors.c.post_id, post_authors.c.position)
    )
    for row in author_rows:
        author_map[row.post_id].append(row.slug)
    return tag_map, author_map


def _post_from_row(row: Any, tag_slugs: list[str], author_slugs: list[str]) -> Post:
    return Post(
        id=row.id,
        content=PostContent(
            slug=row.slug,
            title=row.title,
            dek=row.dek,
            body=row.body,
            tags=tuple(tag_slugs),
            authors=tuple(author_slugs),
        ),
        status=PostStatus(row.status),
        published_at=row.published_at,
        revision=row.revision,
        published_revision=row.published_revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
        body_html=row.body_html,
        reading_time=row.reading_time,
    )


def _revision_query() -> Any:
    return select(post_revisions, staff.c.slug.label("created_by_slug")).outerjoin(
        staff, staff.c.id == post_revisions.c.created_by
    )


def _revision_from_row(row: Any) -> Revision:
    return Revision(
        post_id=row.post_id,
        number=row.number,
        content=PostContent(
            slug=row.slug,
            title=row.title,
            dek=row.dek,
            body=row.body,
            tags=tuple(json.loads(row.tags)),
            authors=tuple(json.loads(row.authors)),
        ),
        body_html=row.body_html,
        reading_time=row.reading_time,
        source=RevisionSource(row.source),
        created_at=row.created_at,
        created_by=row.created_by_slug,
        token_id=row.token_id,
    )


def list_revisions(connection: Connection, post_id: int) -> list[Revision]:
    query = _revision_query().where(post_revisions.c.post_id == post_id)
    rows = connection.execute(query.order_by(post_revisions.c.number.desc()))
    return [_revision_from_row(row) for row in rows]


def get_revision(connection: Connection, post_id: int, number: int) -> Revision | None:
    query = _revision_query().where(
        post_revisions.c.post_id == post_id, post_revisions.c.number == number
    )
    row = connection.execute(query).first()
    return _revision_from_row(row) if row else None
