"""What a change did to the public site: exactly the pages whose bytes it changed.

A use case takes a `PublicState` of what its change can reach, before the change and
after it, in its own transaction; `affected_pages(before, after)`, a pure function,
names the pages that differ. A state holds, for each page in reach, the facts its
template shows and nothing else, so two states differ on a page exactly when its bytes
do (a test renders every page before and after random changes to hold that).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from masthead.domain.events import AffectedPages
from masthead.domain.posts import PublishedPost
from masthead.domain.staff import StaffMember, Tag
from masthead.site import urls
from masthead.site.discovery import LLMS_FULL_POSTS, favicon_initial
from masthead.site.pages import (
    FEED_SIZE,
    Around,
    Card,
    SiteInfo,
    author_listing_description,
    post_page_for,
    read_around,
)
from masthead.store import placements, public, surroundings
from masthead.store.placements import INDEX, ListingKey
from masthead.store.tags import list_tags, tags_by_slug

__all__ = [
    "ListingState",
    "PostState",
    "PublicState",
    "Scope",
    "affected_pages",
    "feed_url",
    "listing_url",
    "public_state",
]

Facts = tuple[Any, ...]


@dataclass(frozen=True)
class Scope:
    """What a change can reach: posts, and the tag and author listings (the index always).

    None means "all of them". With `with_listings_of_posts`, the listings the posts are
    in are added when the state is read (`PublicState.scope` then names them all).
    Without `headers`, the listings' own words (a tag's name, an author's bio) are not
    read: a change of posts alone cannot alter them, and every listing in scope is taken
    to exist (one that does not has no page either way, and its count is zero).
    """

    post_ids: frozenset[int] | None = frozenset()
    tags: frozenset[str] | None = frozenset()
    authors: frozenset[str] | None = frozenset()
    with_listings_of_posts: bool = False
    headers: bool = True

    @classmethod
    def everything(cls) -> Scope:
        return cls(None, None, None)

    @classmethod
    def of(
        cls,
        post_ids: Iterable[int] = (),
        tags: Iterable[str] = (),
        authors: Iterable[str] = (),
        *,
        headers: bool = True,
    ) -> Scope:
        """These posts, the given listings, and the listings the posts are in."""
        return cls(frozenset(post_ids), frozenset(tags), frozenset(authors), True, headers)


@dataclass(frozen=True)
class ListingState:
    total: int
    header: Facts  # what every page of the listing shows besides its cards and the chrome
    feed_header: Facts
    name: str = ""  # a tag's name, as the tags index shows it ("" when not read)


@dataclass(frozen=True)
class PostState:
    slug: str
    tags: tuple[str, ...]
    authors: tuple[str, ...]
    page: Facts
    card: Card
    entry: Facts  # what its entry in a feed shows
    sitemap: Facts
    positions: Mapping[ListingKey, int]
    twin: Facts = ()  # what its Markdown twin shows
    llms: Facts = ()  # its line in llms.txt
    full: Facts = ()  # its part of llms-full.txt


@dataclass(frozen=True)
class OtherPost:
    """A live post outside the scope whose page shows a post in it (as a neighbour in
    time or a related post): its slug, and what its page shows of other posts."""

    slug: str
    around: Facts


@dataclass(frozen=True)
class PublicState:
    chrome: Facts  # what every HTML page shows (the site's title)
    page_size: int
    listings: Mapping[ListingKey, ListingState]
    posts: Mapping[int, PostState]
    redirects: Mapping[str, tuple[int, str | None]]  # old slug -> (post, its live slug)
    scope: Scope = field(default_factory=Scope)
    others: Mapping[int, OtherPost] = field(default_factory=dict)
    frame: Facts = ()  # title, intro, theme colour, favicon letter: the manifest's, the
    # favicon's and the head of llms.txt's


# --- reading a state -------------------------------------------------------------------


def public_state(connection: Connection, site: SiteInfo, scope: Scope) -> PublicState:
    """The facts of every page in `scope`, as they are in this transaction."""
    live = _live_posts(connection, scope.post_ids)
    if scope.with_listings_of_posts:
        scope = Scope(
            scope.post_ids,
            _union(scope.tags, (tag.slug for post in live for tag in post.tags)),
            _union(scope.authors, (author.slug for post in live for author in post.authors)),
            headers=scope.headers,
        )
    ids = None if scope.post_ids is None else live_ids(live)
    positions = placements.positions(connection, ids)
    slugs = {post.id: post.slug for post in live}
    old_slugs = placements.redirects_to(connection, ids)  # only a live post's redirect
    facts = _Reader(connection, site, live)
    return PublicState(
        chrome=(site.title, site.navigation),
        page_size=site.page_size,
        listings=_listings(connection, site, scope),
        posts={post.id: facts.post(post, positions.get(post.id, {})) for post in live},
        redirects={old: (post_id, slugs.get(post_id)) for old, post_id in old_slugs.items()},
        scope=scope,
        others={} if scope.post_ids is None else facts.others(scope.post_ids),
        frame=(site.title, site.intro, site.theme_color, favicon_initial(site.title)),
    )


def live_ids(posts: Iterable[PublishedPost]) -> set[int]:
    return {post.id for post in posts}


def _live_posts(connection: Connection, post_ids: frozenset[int] | None) -> list[PublishedPost]:
    if post_ids is None:
        return public.published_by_id(connection, public.live_slugs(connection))
    return public.published_by_id(connection, post_ids)


def _union(given: frozenset[str] | None, more: Iterable[str]) -> frozenset[str] | None:
    return None if given is None else given | frozenset(more)


def _listings(
    connection: Connection, site: SiteInfo, scope: Scope
) -> dict[ListingKey, ListingState]:
    totals = placements.listing_totals(connection, tag_slugs=scope.tags, author_slugs=scope.authors)
    header = (site.kicker, site.headline, site.intro)
    listings = {INDEX: ListingState(totals[INDEX], header, (site.title, site.intro))}
    if not scope.headers:
        assert scope.tags is not None
        assert scope.authors is not None
        keys = [("tag", slug) for slug in scope.tags] + [("author", s) for s in scope.authors]
        listings.update({key: ListingState(totals.get(key, 0), (), ()) for key in keys})
        return listings
    for tag in _tags(connection, scope.tags):
        listings[("tag", tag.slug)] = ListingState(
            totals.get(("tag", tag.slug), 0),
            (*header, tag.name, tag.description),
            (tag.name, site.title, site.intro),
            tag.name,
        )
    for member in _authors(connection, scope.authors):
        listings[("author", member.slug)] = ListingState(
            totals.get(("author", member.slug), 0),
            (*header, member.name, author_listing_description(member)),
            (member.name, site.title, site.intro),
        )
    return listings


def _tags(connection: Connection, slugs: frozenset[str] | None) -> list[Tag]:
    return list_tags(connection) if slugs is None else tags_by_slug(connection, slugs)


def _authors(connection: Connection, slugs: frozenset[str] | None) -> list[StaffMember]:
    return public.listed_authors(connection, slugs)


class _Reader:
    """The facts of the posts in scope, and of the posts outside it that show them."""

    def __init__(self, connection: Connection, site: SiteInfo, live: list[PublishedPost]):
        self.connection = connection
        self.site = site
        self.live = live
        ids = [post.id for post in live]
        self.markdown = surroundings.markdown_bodies(connection, ids)

    def post(self, post: PublishedPost, positions: Mapping[ListingKey, int]) -> PostState:
        around = read_around(self.connection, self.site, post)
        return _post_state(post, self.site, positions, around, self.markdown.get(post.id, ""))

    def others(self, in_scope: frozenset[int]) -> dict[int, OtherPost]:
        """Live posts outside the scope next to a post in it, or listing one as related."""
        found: dict[int, OtherPost] = {}
        for post in self.live:
            older, newer = surroundings.neighbours(self.connection, post.id, post.published_at)
            candidates = [glimpse for glimpse in (older, newer) if glimpse is not None]
            candidates += surroundings.tag_mates_after(self.connection, post.id, post.published_at)
            for glimpse in candidates:
                if glimpse.id in in_scope or glimpse.id in found:
                    continue
                other = self._other(glimpse, in_scope)
                if other is not None:
                    found[glimpse.id] = other
        return found

    def _other(self, glimpse: surroundings.Glimpse, in_scope: frozenset[int]) -> OtherPost | None:
        older, newer = surroundings.neighbours(self.connection, glimpse.id, glimpse.published_at)
        related = surroundings.related(self.connection, glimpse.id, glimpse.published_at)
        shown = {g.id for g in (older, newer, *related) if g is not None}
        if not shown & in_scope and not (
            in_scope & surroundings.related_reach(self.connection, glimpse.id, glimpse.published_at)
        ):
            return None
        facts = tuple(None if g is None else (g.id, g.slug, g.title) for g in (older, newer))
        dated = tuple((g.id, g.slug, g.title, g.published_at) for g in related)
        return OtherPost(glimpse.slug, (*facts, dated))


def _post_state(
    post: PublishedPost,
    site: SiteInfo,
    positions: Mapping[ListingKey, int],
    around: Around,
    markdown: str,
) -> PostState:
    page = post_page_for(post, site, around)
    tags = tuple(tag.slug for tag in post.tags)
    authors = tuple(author.slug for author in post.authors)
    people = tuple((author.name, author.kind) for author in post.authors)
    names = tuple(tag.name for tag in post.tags)
    twin = (post.slug, post.title, post.published_at, post.revision, people, names, markdown)
    return PostState(
        slug=post.slug,
        tags=tags,
        authors=authors,
        page=(
            post.id,
            post.revision,
            post.title,
            post.dek,
            post.body_html,
            page.card,
            page.authors,
            post.published_at,
            post.updated_at,
            page.boxes,
            around,
        ),
        card=page.card,
        entry=(
            post.slug,
            post.title,
            post.published_at,
            post.updated_at,
            tuple((author.slug, author.name) for author in post.authors),
            tuple((tag.slug, tag.name) for tag in post.tags),
            post.dek,
            post.body_html,
        ),
        sitemap=(post.slug, post.updated_at, tags, authors),
        positions=dict(positions),
        twin=twin,
        llms=(post.slug, post.title, post.dek),
        full=(
            post.slug,
            post.title,
            post.published_at,
            tuple(name for name, _ in people),
            post.dek,
            markdown,
        ),
    )


# --- the map: two states, the pages between them that differ ----------------------------


def listing_url(key: ListingKey) -> str:
    """The first page of a listing."""
    kind, slug = key
    if kind == "tag":
        return urls.tag_url(slug)
    if kind == "author":
        return urls.author_url(slug)
    return urls.INDEX


def feed_url(key: ListingKey) -> str:
    """The Atom feed of a listing."""
    kind, slug = key
    if kind == "tag":
        return urls.tag_feed_url(slug)
    if kind == "author":
        return urls.author_feed_url(slug)
    return urls.FEED


def affected_pages(before: PublicState, after: PublicState) -> AffectedPages:
    """The pages whose bytes differ between two states of the same scope."""
    paths: set[str] = set()
    pages: dict[str, set[int]] = {}
    if before.chrome != after.chrome:
        paths.add(urls.NOT_FOUND)
    for key in before.listings.keys() | after.listings.keys():
        numbers = _listing_pages(key, before, after)
        if numbers:
            pages[listing_url(key)] = numbers
        if _feed_changed(key, before, after):
            paths.add(feed_url(key))
    for post_id in before.posts.keys() | after.posts.keys():
        paths |= _post_paths(post_id, before, after)
    if _sitemap_changed(before, after):
        paths.add(urls.SITEMAP)
    paths |= _discovery_paths(before, after)
    return AffectedPages.of(paths, pages)


def _page_count(listing: ListingState | None, page_size: int) -> int:
    if listing is None:
        return 0
    return max(1, math.ceil(listing.total / page_size))


def _page_of(position: int, page_size: int) -> int:
    return position // page_size + 1


def _window(number: int, listing: ListingState, page_size: int) -> Facts | None:
    """What decides page `number` besides its cards: its slice and its page navigation."""
    count = _page_count(listing, page_size)
    if number > count:
        return None
    start = (number - 1) * page_size
    return (start, min(start + page_size, listing.total), count if count > 1 else None)


def _moves(
    key: ListingKey, before: PublicState, after: PublicState
) -> Iterable[tuple[int | None, int | None, int]]:
    """Per post in scope: its position in `key` before and after, and the post id."""
    for post_id in before.posts.keys() | after.posts.keys():
        was, now = before.posts.get(post_id), after.posts.get(post_id)
        yield (
            was.positions.get(key) if was else None,
            now.positions.get(key) if now else None,
            post_id,
        )


def _listing_pages(key: ListingKey, before: PublicState, after: PublicState) -> set[int]:
    was, now = before.listings.get(key), after.listings.get(key)
    every_page = set(
        range(1, max(_page_count(was, before.page_size), _page_count(now, after.page_size)) + 1)
    )
    if was is None or now is None or was.total != now.total or was.header != now.header:
        return every_page  # the count line (or the whole listing) changed
    if before.chrome != after.chrome:
        return every_page
    changed = {
        number
        for number in every_page
        if _window(number, was, before.page_size) != _window(number, now, after.page_size)
    }
    for old, new, post_id in _moves(key, before, after):
        if old is None and new is None:
            continue
        if old is None or new is None:
            return every_page
        if old != new:
            shifted = range(min(old, new), max(old, new) + 1)
        elif before.posts[post_id].card != after.posts[post_id].card:
            shifted = range(old, old + 1)
        else:
            continue
        changed |= {_page_of(position, before.page_size) for position in shifted}
        changed |= {_page_of(position, after.page_size) for position in shifted}
    return changed


def _feed_changed(key: ListingKey, before: PublicState, after: PublicState) -> bool:
    was, now = before.listings.get(key), after.listings.get(key)
    if was is None or now is None:
        return was is not now
    if was.feed_header != now.feed_header:
        return True
    for old, new, post_id in _moves(key, before, after):
        if old is None and new is None:
            continue
        if old is None or new is None or old != new:
            if min(position for position in (old, new) if position is not None) < FEED_SIZE:
                return True
        elif new < FEED_SIZE and before.posts[post_id].entry != after.posts[post_id].entry:
            return True
    return False


def _post_paths(post_id: int, before: PublicState, after: PublicState) -> set[str]:
    return _slug_paths(post_id, before, after, urls.post_url, _page_facts)


def _page_facts(state: PublicState, post: PostState) -> Facts:
    return ("page", state.chrome, post.page)


def _slug_paths(
    post_id: int,
    before: PublicState,
    after: PublicState,
    address: Callable[[str], str],
    shown: Callable[[PublicState, PostState], Facts],
) -> set[str]:
    """The addresses (`address(slug)`, a live slug or an old one) whose answer differs."""
    slugs = {state.posts[post_id].slug for state in (before, after) if post_id in state.posts}
    for state in (before, after):
        slugs |= {old for old, (owner, _live) in state.redirects.items() if owner == post_id}
    return {
        address(slug)
        for slug in slugs
        if _answer(post_id, slug, before, shown) != _answer(post_id, slug, after, shown)
    }


def _answer(
    post_id: int, slug: str, state: PublicState, shown: Callable[[PublicState, PostState], Facts]
) -> Facts | None:
    """What the post's address for `slug` answers in this state: what the live post
    shows there, a redirect, or nothing."""
    post = state.posts.get(post_id)
    if post is not None and post.slug == slug:
        return shown(state, post)
    owner, live_slug = state.redirects.get(slug, (None, None))
    if owner == post_id and live_slug is not None:
        return ("redirect", live_slug)
    return None


def _sitemap_changed(before: PublicState, after: PublicState) -> bool:
    return any(
        _sitemap_facts(before, post_id) != _sitemap_facts(after, post_id)
        for post_id in before.posts.keys() | after.posts.keys()
    )


def _sitemap_facts(state: PublicState, post_id: int) -> Facts | None:
    post = state.posts.get(post_id)
    return post.sitemap if post else None


# --- the pages for readers, crawlers and models (issue 16) ----------------------------------


def _discovery_paths(before: PublicState, after: PublicState) -> set[str]:
    """The Markdown twins, the posts showing a changed post, llms.txt and llms-full.txt,
    the tags index, the manifest and the favicon."""
    paths: set[str] = set()
    for post_id in before.posts.keys() | after.posts.keys():
        paths |= _twin_paths(post_id, before, after)
    paths |= _other_paths(before, after)
    if before.frame[:3] != after.frame[:3]:
        paths.add(urls.MANIFEST)
    if before.frame[2:] != after.frame[2:]:
        paths.add(urls.FAVICON)
    if before.frame[:2] != after.frame[:2] or _llms_changed(before, after):
        paths.add(urls.LLMS)
    if before.frame[:2] != after.frame[:2] or _full_changed(before, after):
        paths.add(urls.LLMS_FULL)
    if before.chrome != after.chrome or _tag_index(before) != _tag_index(after):
        paths.add(urls.TAGS)
    return paths


def _twin_paths(post_id: int, before: PublicState, after: PublicState) -> set[str]:
    return _slug_paths(post_id, before, after, urls.post_markdown_url, _twin_facts)


def _twin_facts(_state: PublicState, post: PostState) -> Facts:
    return ("twin", post.twin)


def _other_paths(before: PublicState, after: PublicState) -> set[str]:
    """A post outside the scope that shows one in it, in one state only, changed (it
    showed a post of the scope, and now shows another); in both, when what it shows
    differs. The chrome is the same: a change of it has every post in scope."""
    changed = set()
    for post_id in before.others.keys() | after.others.keys():
        was, now = before.others.get(post_id), after.others.get(post_id)
        if was is None or now is None or was.around != now.around:
            changed.add(urls.post_url((was or now).slug))  # type: ignore[union-attr]
    return changed


def _llms_facts(state: PublicState, post_id: int) -> Facts | None:
    post = state.posts.get(post_id)
    return None if post is None else (post.positions.get(INDEX), post.llms)


def _llms_changed(before: PublicState, after: PublicState) -> bool:
    return any(
        _llms_facts(before, post_id) != _llms_facts(after, post_id)
        for post_id in before.posts.keys() | after.posts.keys()
    )


def _full_changed(before: PublicState, after: PublicState) -> bool:
    """As a feed: a post moved within the newest LLMS_FULL_POSTS, or changed there."""
    for post_id in before.posts.keys() | after.posts.keys():
        was, now = before.posts.get(post_id), after.posts.get(post_id)
        old = was.positions.get(INDEX) if was else None
        new = now.positions.get(INDEX) if now else None
        if old is None and new is None:
            continue
        if old != new:
            if min(p for p in (old, new) if p is not None) < LLMS_FULL_POSTS:
                return True
        elif new is not None and new < LLMS_FULL_POSTS and was.full != now.full:  # type: ignore[union-attr]
            return True
    return False


def _tag_index(state: PublicState) -> dict[str, tuple[str, int]]:
    """The tags index's entries among the listings in the state: tags with live posts."""
    return {
        slug: (listing.name, listing.total)
        for (kind, slug), listing in state.listings.items()
        if kind == "tag" and listing.total > 0
    }
