"""The search indexes: a post's text written in, matches read out, best first.

Two indexes, one row per post: `public_search` holds live posts' published revisions (the
public site searches it) and `staff_search` every post's working copy (the API's `q=`).
The write path replaces a post's row whenever the text it indexes changes; the database
keeps its own index over the rows (see migration 0009). Ranking puts a match in the
title above one in the dek, above one in the body: FTS5's `bm25` with column weights on
SQLite; on PostgreSQL `ts_rank` over the weighted title and dek alone (`heading`), so
that ranking reads no body (three to four times faster for a word in half of 10,000
posts), and posts that match in the body alone follow, newest first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Float, Integer, delete, false, insert, literal, select, text

from masthead.content.markdown import html_to_text
from masthead.domain.search import SearchQuery, fts5_match, tsquery
from masthead.store.schema import public_search, staff_search

__all__ = [
    "Found",
    "by_index",
    "count_live",
    "find_live",
    "index_live",
    "index_working",
    "indexed_text",
    "plain_text",
    "working_matches",
    "working_ranks",
]

TITLE, DEK, BODY = 10.0, 4.0, 1.0
"""SQLite's bm25 column weights."""
RANKS = "'{0.05, 0.1, 0.4, 1.0}'::float4[]"
"""PostgreSQL's ts_rank weights, for D, C (body), B (dek), A (title)."""


@dataclass(frozen=True)
class Found:
    """A live post that matched, with the body text its excerpt comes from."""

    post_id: int
    body: str


_INLINE_TAG = re.compile(
    r"</?(?:a|abbr|b|code|del|em|i|ins|kbd|mark|q|s|samp|small|span|strong|sub|sup)\b[^>]*>"
)


def plain_text(fragment: str) -> str:
    """An HTML body as the text a reader sees, whitespace folded: inline tags go without
    a trace (`<code>x</code>,` is `x,`), every other tag separates words."""
    return " ".join(html_to_text(_INLINE_TAG.sub("", fragment)).split())


def _replace(connection: Connection, table: Any, post_id: int, row: dict[str, str]) -> None:
    connection.execute(delete(table).where(table.c.post_id == post_id))
    connection.execute(insert(table).values(post_id=post_id, **row))


def _row(title: str, dek: str, body_html: str) -> dict[str, str]:
    return {"title": title, "dek": dek, "body": plain_text(body_html)}


def index_live(connection: Connection, post_id: int, title: str, dek: str, body_html: str) -> None:
    """The public index now holds this live revision of the post (its row goes when the
    post's live row does: ON DELETE CASCADE)."""
    _replace(connection, public_search, post_id, _row(title, dek, body_html))


def index_working(
    connection: Connection, post_id: int, title: str, dek: str, body_html: str
) -> None:
    """The staff index now holds this working copy of the post."""
    _replace(connection, staff_search, post_id, _row(title, dek, body_html))


def indexed_text(connection: Connection, table: str, post_id: int) -> tuple[str, str, str] | None:
    """What an index holds of a post: (title, dek, body), or None."""
    source = public_search if table == "public_search" else staff_search
    row = connection.execute(
        select(source.c.title, source.c.dek, source.c.body).where(source.c.post_id == post_id)
    ).first()
    return None if row is None else (row.title, row.dek, row.body)


# --- reading ---------------------------------------------------------------------------------


def _sqlite(connection: Connection) -> bool:
    return connection.dialect.name == "sqlite"


@dataclass(frozen=True)
class _Matching:
    """The rows of an index that match `:query`, as this database spells it."""

    source: str
    condition: str
    rank: str
    """Best first when sorted ascending."""
    key: str


def _matching(connection: Connection, table: str) -> _Matching:
    if _sqlite(connection):
        fts = f"{table}_fts"
        rank = f"bm25({fts}, {TITLE}, {DEK}, {BODY})"
        return _Matching(fts, f"{fts} MATCH :query", rank, f"{fts}.rowid")
    tsq = "to_tsquery('english'::regconfig, :query)"
    ranked = f"{table}.heading" if table == "public_search" else f"{table}.document"
    rank = f"-ts_rank({RANKS}, {ranked}, {tsq})"
    return _Matching(table, f"{table}.document @@ {tsq}", rank, f"{table}.post_id")


@contextmanager
def by_index(connection: Connection) -> Iterator[None]:
    """PostgreSQL: plan the statements inside with the GIN index, not a sequential scan.

    For a word in most posts the planner picks a sequential scan, which decompresses
    every post's `document`: 150 ms for a word in 95 % of 10,000 posts, against 12 ms
    through the index, which answers without reading a document. Transaction-scoped:
    an error rolls the setting back with the rest.
    """
    if _sqlite(connection):
        yield
        return
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    yield
    connection.execute(text("SET LOCAL enable_seqscan TO DEFAULT"))


def _query_text(connection: Connection, query: SearchQuery) -> str:
    return fts5_match(query) if _sqlite(connection) else tsquery(query)


def count_live(connection: Connection, query: SearchQuery) -> int:
    """How many live posts match."""
    if query.empty:
        return 0
    found = _matching(connection, "public_search")
    statement = text(f"SELECT count(*) FROM {found.source} WHERE {found.condition}")
    values = {"query": _query_text(connection, query)}
    with by_index(connection):
        return int(connection.execute(statement, values).scalar_one())


def find_live(
    connection: Connection, query: SearchQuery, *, limit: int, offset: int = 0
) -> list[Found]:
    """Live posts that match, best first (then newest first), with their body text."""
    if query.empty:
        return []
    found = _matching(connection, "public_search")
    statement = text(
        f"SELECT {found.key} FROM {found.source} "
        f"JOIN published_posts AS p ON p.post_id = {found.key} WHERE {found.condition} "
        f"ORDER BY {found.rank}, p.published_at DESC, p.post_id DESC LIMIT :limit OFFSET :offset"
    )
    values = {"query": _query_text(connection, query), "limit": limit, "offset": offset}
    with by_index(connection):
        ids = [int(post_id) for post_id in connection.execute(statement, values).scalars()]
    if not ids:
        return []
    rows = connection.execute(
        select(public_search.c.post_id, public_search.c.body).where(
            public_search.c.post_id.in_(ids)
        )
    )
    bodies = {row.post_id: row.body for row in rows}
    return [Found(post_id, bodies[post_id]) for post_id in ids]


def working_matches(connection: Connection, query: SearchQuery) -> Any:
    """The ids of posts whose working copy matches (a subquery for a post listing)."""
    if query.empty:
        return select(staff_search.c.post_id).where(false())
    found = _matching(connection, "staff_search")
    statement = text(f"SELECT {found.key} AS post_id FROM {found.source} WHERE {found.condition}")
    bound = statement.bindparams(query=_query_text(connection, query))
    return bound.columns(post_id=Integer)


def working_ranks(connection: Connection, query: SearchQuery) -> Any:
    """The ids of posts whose working copy matches, each with its `rank` (best first when
    sorted ascending): a subquery for a ranked post listing."""
    if query.empty:
        nothing = literal(0.0, Float).label("rank")
        return select(staff_search.c.post_id, nothing).where(false())
    found = _matching(connection, "staff_search")
    statement = text(
        f"SELECT {found.key} AS post_id, {found.rank} AS rank "
        f"FROM {found.source} WHERE {found.condition}"
    )
    bound = statement.bindparams(query=_query_text(connection, query))
    return bound.columns(post_id=Integer, rank=Float)
