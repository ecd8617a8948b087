"""Where live posts stand: each one's position in the index and in its tags' and authors'
listings, how long each listing is, and which old slugs lead to which post.

These are the reads behind the map from a change to the pages it affects. A position
is the number of posts listed before it (newest first: `published_at`, then id).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, literal, or_, select, union_all

from masthead.store.schema import (
    published_authors,
    published_posts,
    published_tags,
    slug_redirects,
    staff,
    tags,
)

__all__ = ["INDEX", "ListingKey", "listing_totals", "positions", "redirects_to"]

ListingKey = tuple[str, str]
"""`("index", "")`, `("tag", SLUG)` or `("author", SLUG)`."""
INDEX: ListingKey = ("index", "")
COUNT_BELOW = 32
"""Up to this many posts, positions are counted post by post (cheap for new posts, which
stand near the top); for more, one ranked scan of each listing is cheaper."""

_LINKS = (
    ("tag", published_tags, published_tags.c.tag_id, tags),
    ("author", published_authors, published_authors.c.staff_id, staff),
)


def listing_totals(
    connection: Connection,
    *,
    tag_slugs: Collection[str] | None,
    author_slugs: Collection[str] | None,
) -> dict[ListingKey, int]:
    """How many live posts each listing has, in one statement; None for slugs: every
    listing of that kind. Listings with no live post are missing from the answer."""
    index = select(literal("index"), literal(""), func.count()).select_from(published_posts)
    parts: list[Any] = [index]
    for kind, table, key, owners in _LINKS:
        wanted = tag_slugs if kind == "tag" else author_slugs
        if wanted is not None and not wanted:
            continue
        part = (
            select(literal(kind), owners.c.slug, func.count())
            .select_from(table)
            .join(owners, owners.c.id == key)
            .group_by(owners.c.slug)
        )
        if wanted is not None:
            part = part.where(owners.c.slug.in_(sorted(wanted)))
        parts.append(part)
    rows = connection.execute(union_all(*parts)) if len(parts) > 1 else connection.execute(index)
    return {(row[0], row[1]): int(row[2]) for row in rows}


def positions(
    connection: Connection, post_ids: Collection[int] | None
) -> dict[int, dict[ListingKey, int]]:
    """Each of these live posts' position in every listing it is in (None: every post)."""
    found: dict[int, dict[ListingKey, int]] = defaultdict(dict)
    if post_ids is not None and not post_ids:
        return found
    by_count = post_ids is not None and len(post_ids) <= COUNT_BELOW
    reader = _counted if by_count else _ranked
    for kind, rows in reader(connection, post_ids):
        for post_id, slug, position in rows:
            found[post_id][(kind, slug)] = int(position)
    return found


def _newer(later: Any, earlier: Any) -> ColumnElement[bool]:
    """`later` is listed before `earlier`: published later, or at once with a higher id."""
    return or_(
        later.c.published_at > earlier.c.published_at,
        and_(
            later.c.published_at == earlier.c.published_at,
            later.c.post_id > earlier.c.post_id,
        ),
    )


# Two names for each listing table, to compare a post with the others in its listing;
# made once, since building an alias is costly and the statements are cached.
_MINE, _OTHERS = published_posts.alias("mine"), published_posts.alias("others")
_LINK_ALIASES = {
    "tag": (published_tags.alias("mine"), published_tags.alias("others"), "tag_id"),
    "author": (published_authors.alias("mine"), published_authors.alias("others"), "staff_id"),
}


def _counted(connection: Connection, post_ids: Collection[int] | None) -> Any:
    assert post_ids is not None
    wanted = sorted(post_ids)
    index = (
        select(_MINE.c.post_id, func.count(_OTHERS.c.post_id))
        .select_from(_MINE.outerjoin(_OTHERS, _newer(_OTHERS, _MINE)))
        .where(_MINE.c.post_id.in_(wanted))
        .group_by(_MINE.c.post_id)
    )
    yield "index", [(row[0], "", row[1]) for row in connection.execute(index)]
    for kind, _table, _key, owners in _LINKS:
        mine, others, owner = _LINK_ALIASES[kind]
        query = (
            select(mine.c.post_id, owners.c.slug, func.count(others.c.post_id))
            .select_from(
                mine.join(owners, owners.c.id == mine.c[owner]).outerjoin(
                    others, and_(others.c[owner] == mine.c[owner], _newer(others, mine))
                )
            )
            .where(mine.c.post_id.in_(wanted))
            .group_by(mine.c.post_id, owners.c.slug)
        )
        yield kind, [tuple(row) for row in connection.execute(query)]


def _ranked(connection: Connection, post_ids: Collection[int] | None) -> Any:
    order = (published_posts.c.published_at.desc(), published_posts.c.post_id.desc())
    ranked = select(
        published_posts.c.post_id, (func.row_number().over(order_by=order) - 1).label("position")
    ).subquery()
    index = select(ranked.c.post_id, ranked.c.position)
    if post_ids is not None:
        index = index.where(ranked.c.post_id.in_(sorted(post_ids)))
    yield "index", [(row[0], "", row[1]) for row in connection.execute(index)]
    for kind, table, key, owners in _LINKS:
        listing_order = (table.c.published_at.desc(), table.c.post_id.desc())
        number = func.row_number().over(partition_by=key, order_by=listing_order) - 1
        inner = select(table.c.post_id, key.label("owner"), number.label("position"))
        if post_ids is not None:
            mine = select(key).where(table.c.post_id.in_(sorted(post_ids)))
            inner = inner.where(key.in_(mine))
        ranked_links = inner.subquery()
        query = select(ranked_links.c.post_id, owners.c.slug, ranked_links.c.position).join(
            owners, owners.c.id == ranked_links.c.owner
        )
        if post_ids is not None:
            query = query.where(ranked_links.c.post_id.in_(sorted(post_ids)))
        yield kind, [tuple(row) for row in connection.execute(query)]


def redirects_to(connection: Connection, post_ids: Collection[int] | None) -> dict[str, int]:
    """Old slugs, and the post each leads to (None: every old slug)."""
    if post_ids is not None and not post_ids:
        return {}
    query = select(slug_redirects.c.old_slug, slug_redirects.c.post_id)
    if post_ids is not None:
        query = query.where(slug_redirects.c.post_id.in_(sorted(post_ids)))
    return {row.old_slug: row.post_id for row in connection.execute(query)}
