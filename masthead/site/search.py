"""The search page as plain data: live posts matching a reader's words, best first, as cards.

Each result shows its dek with the matched words marked, or, when the dek has none of
them, an excerpt of the body around the first one. Marked words are data (`Segment`s),
never markup: the template escapes every segment.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from masthead.domain.listing import PageWindow, paginate, search_count_line
from masthead.domain.posts import PublishedPost
from masthead.domain.search import (
    SearchQuery,
    Segment,
    excerpt,
    has_match,
    mark,
    parse_query,
    query_echo,
)
from masthead.site import urls
from masthead.site.pages import Card, SiteInfo, make_card
from masthead.store import public
from masthead.store import search as search_store

__all__ = ["MAX_TEXT", "SearchPage", "SearchResult", "search_page"]

MAX_TEXT = 200
"""The most of a reader's text the form gives back."""


@dataclass(frozen=True)
class SearchResult:
    card: Card
    excerpt: tuple[Segment, ...]


@dataclass(frozen=True)
class SearchPage:
    text: str
    """What the reader typed, for the form (bounded)."""
    echo: str
    """The same, as one short printable line, for the count line and the title."""
    asked: bool
    count_line: str
    results: tuple[SearchResult, ...]
    window: PageWindow
    previous_path: str | None
    next_path: str | None


def _shown(post: PublishedPost, body: str, query: SearchQuery) -> tuple[Segment, ...]:
    dek = mark(post.dek, query)
    if has_match(dek):
        return dek
    return excerpt(body, query) or dek


def search_page(connection: Connection, site: SiteInfo, text: str, number: int) -> SearchPage:
    """Page `number` of the results for `text`; raises `PageOutOfRange` past the last."""
    text = text[:MAX_TEXT]
    query = parse_query(text)
    echo = query_echo(text)
    total = search_store.count_live(connection, query)
    window = paginate(total, number, site.page_size)
    found = search_store.find_live(connection, query, limit=site.page_size, offset=window.offset)
    live = public.published_by_id(connection, [hit.post_id for hit in found])
    posts = {post.id: post for post in live}
    results = tuple(
        SearchResult(
            make_card(post, site.zone, mark_agents=site.mark_agents), _shown(post, hit.body, query)
        )
        for hit in found
        if (post := posts.get(hit.post_id)) is not None
    )
    return SearchPage(
        text=text,
        echo=echo,
        asked=bool(echo),
        count_line=search_count_line(total, echo) if echo else "",
        results=results,
        window=window,
        previous_path=urls.search_url(text, number - 1) if window.has_previous else None,
        next_path=urls.search_url(text, number + 1) if window.has_next else None,
    )
