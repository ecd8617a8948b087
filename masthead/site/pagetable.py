"""The public site in one table: every kind of page, its URL pattern and its builder.

Live serving routes from this table, static export and site-wide checks list every
URL from it, and `masthead.site.changes` names the pages a change affects with the
same URLs. A builder gets a read transaction and the site's settings and answers a
`Page` (its bytes) or a `Redirect`, or raises `NotFound`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from masthead.domain.events import AffectedPages
from masthead.domain.listing import PageOutOfRange
from masthead.domain.pages import Page, Redirect
from masthead.errors import NotFound
from masthead.site import pages, urls
from masthead.site.changes import feed_url, listing_url
from masthead.site.pages import ListingPage, SiteInfo
from masthead.site.render import STYLESHEET, Renderer
from masthead.store import placements, public, slugs

__all__ = [
    "PAGES",
    "PageContext",
    "PageKind",
    "every_url",
    "expand",
    "not_found_page",
    "old_slug_redirects",
]

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
CSS = "text/css; charset=utf-8"
SITEMAP_LIMIT = 50_000  # the sitemap protocol's limit of URLs in one file


@dataclass(frozen=True)
class PageContext:
    """What a builder works with: one read transaction and the site as it is in it."""

    connection: Connection
    site: SiteInfo
    renderer: Renderer


Built = Page | Redirect
Params = Mapping[str, Any]


@dataclass(frozen=True)
class PageKind:
    name: str
    pattern: str
    build: Callable[[PageContext, Params], Built]
    addresses: Callable[[PageContext], Iterable[str]]
    """Every URL of this kind that answers with a page now."""
    routed: bool = True
    dynamic: bool = False
    """Answered from the query string at request time (never exported as a file)."""


# --- listings -----------------------------------------------------------------------------


def _page_number(params: Params) -> int:
    number: int = params.get("number", 1)
    return number


def _listing(
    context: PageContext, params: Params, build: Callable[[int], ListingPage], first_page: str
) -> Built:
    number = _page_number(params)
    if "number" in params and number == 1:  # `/page/1/` is not canonical
        return Redirect(first_page)
    try:
        page = build(number)
    except PageOutOfRange as error:
        raise NotFound("no such page") from error
    body = context.renderer.listing(context.site, page)
    return Page(body, HTML, page.last_modified)


def _index(context: PageContext, params: Params) -> Built:
    return _listing(
        context,
        params,
        lambda number: pages.index_listing(context.connection, context.site, number),
        urls.INDEX,
    )


def _tag(context: PageContext, params: Params) -> Built:
    slug = params["slug"]
    return _listing(
        context,
        params,
        lambda number: pages.tag_listing(context.connection, context.site, slug, number),
        urls.tag_url(slug),
    )


def _author(context: PageContext, params: Params) -> Built:
    slug = params["slug"]
    return _listing(
        context,
        params,
        lambda number: pages.author_listing(context.connection, context.site, slug, number),
        urls.author_url(slug),
    )


def _listings(context: PageContext) -> Iterator[tuple[placements.ListingKey, int]]:
    """Every listing that exists, with how many pages it has."""
    totals = placements.listing_totals(context.connection, tag_slugs=None, author_slugs=None)
    size = context.site.page_size

    def count(key: placements.ListingKey) -> int:
        return max(1, math.ceil(totals.get(key, 0) / size))

    yield placements.INDEX, count(placements.INDEX)
    for tag in public.listed_tags(context.connection):
        yield ("tag", tag.slug), count(("tag", tag.slug))
    for member in public.listed_authors(context.connection):
        yield ("author", member.slug), count(("author", member.slug))


def _listing_pages(kind: str, *, first: bool) -> Callable[[PageContext], list[str]]:
    """The first pages of every listing of `kind`, or all their later pages."""

    def addresses(context: PageContext) -> list[str]:
        found = []
        for key, count in _listings(context):
            if key[0] == kind:
                numbers = range(1, 2) if first else range(2, count + 1)
                found += [urls.listing_page_url(listing_url(key), n) for n in numbers]
        return found

    return addresses


def _feeds(kind: str) -> Callable[[PageContext], list[str]]:
    def addresses(context: PageContext) -> list[str]:
        return [feed_url(key) for key, _count in _listings(context) if key[0] == kind]

    return addresses


# --- feeds, posts and the rest ------------------------------------------------------------


def _feed(context: PageContext, feed: pages.FeedPage) -> Page:
    return Page(context.renderer.feed(context.site, feed), ATOM, feed.last_modified)


def _site_feed(context: PageContext, _params: Params) -> Built:
    return _feed(context, pages.index_feed(context.connection, context.site))


def _tag_feed(context: PageContext, params: Params) -> Built:
    return _feed(context, pages.tag_feed(context.connection, context.site, params["slug"]))


def _author_feed(context: PageContext, params: Params) -> Built:
    return _feed(context, pages.author_feed(context.connection, context.site, params["slug"]))


def _post(context: PageContext, params: Params) -> Built:
    """A live post's page; an old slug of a live post redirects to its page."""
    slug = params["slug"]
    try:
        page = pages.post_page(context.connection, context.site, slug)
    except NotFound:
        moved_to = _moved(context.connection, slug)
        if moved_to is None:
            raise
        return Redirect(urls.post_url(moved_to))
    return Page(context.renderer.post(context.site, page), HTML, page.post.updated_at)


def _moved(connection: Connection, old_slug: str) -> str | None:
    """The live slug of a post that used to be at `old_slug`."""
    post_id = slugs.redirect_target(connection, old_slug)
    return None if post_id is None else public.find_published_slug(connection, post_id)


def _post_addresses(context: PageContext) -> list[str]:
    return sorted(urls.post_url(slug) for slug in public.live_slugs(context.connection).values())


def _sitemap(context: PageContext, _params: Params) -> Built:
    connection = context.connection
    posts = public.sitemap_posts(connection, limit=SITEMAP_LIMIT)
    tag_groups, author_groups = public.sitemap_groups(connection)
    body = context.renderer.sitemap(context.site, posts, tag_groups, author_groups)
    return Page(body, XML, max((post.last_change for post in posts), default=None))


def _robots(context: PageContext, _params: Params) -> Built:
    return Page(context.renderer.robots(context.site), TEXT)


def _stylesheet(_context: PageContext, _params: Params) -> Built:
    return Page(STYLESHEET, CSS, immutable=True)


def not_found_page(renderer: Renderer, site: SiteInfo) -> Page:
    """The page any unknown address answers with (the same bytes for all)."""
    return Page(renderer.not_found(site), HTML, found=False)


def _not_found(context: PageContext, _params: Params) -> Built:
    return not_found_page(context.renderer, context.site)


def _one(path: str) -> Callable[[PageContext], list[str]]:
    return lambda _context: [path]


PAGES: tuple[PageKind, ...] = (
    PageKind("index", urls.INDEX, _index, _listing_pages("index", first=True)),
    PageKind("index_page", urls.INDEX_PAGE, _index, _listing_pages("index", first=False)),
    PageKind("tag", urls.TAG, _tag, _listing_pages("tag", first=True)),
    PageKind("tag_page", urls.TAG_PAGE, _tag, _listing_pages("tag", first=False)),
    PageKind("tag_feed", urls.TAG_FEED, _tag_feed, _feeds("tag")),
    PageKind("author", urls.AUTHOR, _author, _listing_pages("author", first=True)),
    PageKind("author_page", urls.AUTHOR_PAGE, _author, _listing_pages("author", first=False)),
    PageKind("author_feed", urls.AUTHOR_FEED, _author_feed, _feeds("author")),
    PageKind("post", urls.POST, _post, _post_addresses),
    PageKind("feed", urls.FEED, _site_feed, _one(urls.FEED)),
    PageKind("sitemap", urls.SITEMAP, _sitemap, _one(urls.SITEMAP)),
    PageKind("robots", urls.ROBOTS, _robots, _one(urls.ROBOTS)),
    PageKind("stylesheet", urls.STYLESHEET, _stylesheet, _one(urls.STYLESHEET)),
    PageKind("not_found", urls.NOT_FOUND, _not_found, _one(urls.NOT_FOUND), routed=False),
)


def every_url(context: PageContext) -> list[str]:
    """Every URL the site answers with a page now (the "not found" page aside)."""
    return [address for kind in PAGES if kind.routed for address in kind.addresses(context)]


def old_slug_redirects(context: PageContext) -> dict[str, str]:
    """Every old post URL that redirects, and where to."""
    live = public.live_slugs(context.connection)
    return {
        urls.post_url(old): urls.post_url(live[post_id])
        for old, post_id in placements.redirects_to(context.connection, None).items()
        if post_id in live
    }


def expand(affected: AffectedPages) -> list[str]:
    """The URLs a change affected, one by one."""
    listed = [
        urls.listing_page_url(run.listing, number)
        for run in affected.ranges
        for number in range(run.first, run.last + 1)
    ]
    return sorted({*affected.paths, *listed})
