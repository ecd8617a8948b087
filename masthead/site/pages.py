"""Each public page as plain data, read from the published tables only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from masthead.domain.dates import card_date
from masthead.domain.listing import PageWindow, author_count_line, paginate, tag_count_line
from masthead.domain.posts import PublishedPost
from masthead.domain.staff import StaffKind, StaffMember, Tag
from masthead.errors import NotFound
from masthead.site import urls
from masthead.store import public, surroundings
from masthead.store.surroundings import Glimpse

__all__ = [
    "FEED_SIZE",
    "Around",
    "AuthorBox",
    "Card",
    "DatedLink",
    "FeedPage",
    "ListingPage",
    "NavLink",
    "PostPage",
    "SiteInfo",
    "author_feed",
    "author_listing",
    "author_listing_description",
    "index_feed",
    "index_listing",
    "make_card",
    "post_page",
    "post_page_for",
    "read_around",
    "tag_feed",
    "tag_listing",
]

FEED_SIZE = 20
"""Entries in every Atom feed: the newest posts of its listing."""


@dataclass(frozen=True)
class NavLink:
    """One link of the header's navigation (a site setting)."""

    text: str
    url: str


@dataclass(frozen=True)
class SiteInfo:
    """The site settings every page needs."""

    title: str
    kicker: str
    headline: str
    intro: str
    public_url: str
    zone: ZoneInfo
    page_size: int
    navigation: tuple[NavLink, ...] = ()
    mark_agents: bool = True
    theme_color: str = "#1d4fa3"

    def absolute(self, path: str) -> str:
        return f"{self.public_url}{path}"


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class Card:
    """A post as a listing shows it, in the order the card shows its parts."""

    tags: tuple[Link, ...]
    title: Link
    dek: str
    author: Link | None
    byline: str
    date_text: str
    date_iso: str
    reading_text: str
    agent: bool = False
    """The first author is an agent, and the site marks agents."""


@dataclass(frozen=True)
class ListingPage:
    """One page of the index, a tag's or an author's listing.

    Every listing carries the site header (kicker, headline, intro) above its count
    line; a tag's or author's own words (`description`) follow the count line.
    """

    kind: str  # "index", "tag" or "author"
    name: str  # the tag's or author's name; the site's title for the index
    description: str
    count_line: str
    cards: tuple[Card, ...]
    window: PageWindow
    path: str
    feed_path: str
    page_path: Callable[[int], str]
    last_modified: datetime | None

    @property
    def previous_path(self) -> str | None:
        return self.page_path(self.window.number - 1) if self.window.has_previous else None

    @property
    def next_path(self) -> str | None:
        return self.page_path(self.window.number + 1) if self.window.has_next else None


@dataclass(frozen=True)
class AuthorBox:
    """An author as the foot of a post shows them."""

    name: str
    url: str
    byline: str
    bio: str
    agent: bool  # of kind agent (the JSON-LD says so, whatever the marker setting)
    marked: bool  # the visible "agent" marker shows


@dataclass(frozen=True)
class DatedLink:
    text: str
    url: str
    date_text: str
    date_iso: str


@dataclass(frozen=True)
class Around:
    """What a post page shows of the rest of the site."""

    related: tuple[DatedLink, ...] = ()
    previous: Link | None = None  # published just before
    next: Link | None = None  # published just after
    reviewer: str | None = None  # the person who approved the live revision
    changed: datetime | None = field(default=None, compare=False)
    """When the newest of the posts shown here last went live (for `Last-Modified`)."""


@dataclass(frozen=True)
class PostPage:
    post: PublishedPost
    card: Card
    path: str
    authors: tuple[Link, ...]
    boxes: tuple[AuthorBox, ...] = ()
    around: Around = Around()

    @property
    def last_modified(self) -> datetime:
        """The newest change among this post and the posts its page shows."""
        shown = self.around.changed
        return self.post.updated_at if shown is None else max(shown, self.post.updated_at)


@dataclass(frozen=True)
class FeedPage:
    """An Atom feed: its title, where it and its listing live, and its newest entries."""

    title: str
    path: str
    alternate_path: str
    entries: tuple[PostPage, ...]

    @property
    def last_modified(self) -> datetime | None:
        return max((entry.post.updated_at for entry in self.entries), default=None)


def make_card(post: PublishedPost, zone: ZoneInfo, *, mark_agents: bool = True) -> Card:
    first_author = post.authors[0] if post.authors else None
    return Card(
        tags=tuple(Link(tag.name, urls.tag_url(tag.slug)) for tag in post.tags),
        title=Link(post.title, urls.post_url(post.slug)),
        dek=post.dek,
        author=Link(first_author.name, urls.author_url(first_author.slug))
        if first_author
        else None,
        byline=first_author.byline if first_author else "",
        date_text=card_date(post.published_at, zone),
        date_iso=post.published_at.astimezone(zone).date().isoformat(),
        reading_text=f"{post.reading_time} min",
        agent=mark_agents and first_author is not None and first_author.kind is StaffKind.AGENT,
    )


def _cards(
    connection: Connection, site: SiteInfo, which: public.Filter, number: int
) -> tuple[PageWindow, tuple[Card, ...], datetime | None]:
    total, changed = public.listing_summary(connection, which)
    window = paginate(total, number, site.page_size)
    posts = public.list_cards(connection, which, limit=site.page_size, offset=window.offset)
    cards = tuple(make_card(post, site.zone, mark_agents=site.mark_agents) for post in posts)
    return window, cards, changed


def index_listing(connection: Connection, site: SiteInfo, number: int) -> ListingPage:
    window, cards, changed = _cards(connection, site, public.Filter(), number)
    count = window.total_items
    return ListingPage(
        kind="index",
        name=site.title,
        description="",
        count_line=f"{count} post" if count == 1 else f"{count} posts",
        cards=cards,
        window=window,
        path=urls.index_url(number),
        feed_path=urls.FEED,
        page_path=urls.index_url,
        last_modified=changed,
    )


def _known_tag(connection: Connection, slug: str) -> tuple[int, Tag]:
    found = public.listed_tag(connection, slug)
    if found is None:
        raise NotFound(f"no tag {slug!r}")
    return found


def _known_author(connection: Connection, slug: str) -> tuple[int, StaffMember]:
    found = public.listed_author(connection, slug)
    if found is None:
        raise NotFound(f"no author {slug!r}")
    return found


def tag_listing(connection: Connection, site: SiteInfo, slug: str, number: int) -> ListingPage:
    """Every known tag has a listing, even with no published post (`0 posts found in …`)."""
    tag_id, tag = _known_tag(connection, slug)

    def page_path(page: int) -> str:
        return urls.tag_url(slug, page)

    window, cards, changed = _cards(connection, site, public.Filter(tag_id=tag_id), number)
    return ListingPage(
        kind="tag",
        name=tag.name,
        description=tag.description,
        count_line=tag_count_line(window.total_items, tag.name),
        cards=cards,
        window=window,
        path=page_path(number),
        feed_path=urls.tag_feed_url(slug),
        page_path=page_path,
        last_modified=changed,
    )


def author_listing_description(member: StaffMember) -> str:
    """What an author's listing says of them: `ROLE · DEPARTMENT · bio`."""
    return " · ".join(part for part in (member.byline, member.bio) if part)


def author_listing(connection: Connection, site: SiteInfo, slug: str, number: int) -> ListingPage:
    """Every active staff member has a listing; a suspended one only while they have posts."""
    staff_id, member = _known_author(connection, slug)

    def page_path(page: int) -> str:
        return urls.author_url(slug, page)

    which = public.Filter(staff_id=staff_id)
    window, cards, changed = _cards(connection, site, which, number)
    return ListingPage(
        kind="author",
        name=member.name,
        description=author_listing_description(member),
        count_line=author_count_line(window.total_items, member.name),
        cards=cards,
        window=window,
        path=page_path(number),
        feed_path=urls.author_feed_url(slug),
        page_path=page_path,
        last_modified=changed,
    )


def post_page(connection: Connection, site: SiteInfo, slug: str) -> PostPage:
    post = public.find_published(connection, slug)
    if post is None:
        raise NotFound(f"no published post {slug!r}")
    return post_page_for(post, site, read_around(connection, site, post))


def read_around(connection: Connection, site: SiteInfo, post: PublishedPost) -> Around:
    """The post's related posts, neighbours in time and reviewer, as its page shows them."""
    older, newer = surroundings.neighbours(connection, post.id, post.published_at)
    related = surroundings.related(connection, post.id, post.published_at)
    shown = [glimpse for glimpse in (older, newer, *related) if glimpse is not None]
    return Around(
        related=tuple(_dated(glimpse, site.zone) for glimpse in related),
        previous=_glimpse_link(older),
        next=_glimpse_link(newer),
        reviewer=surroundings.reviewers(connection, [post.id]).get(post.id),
        changed=max((glimpse.updated_at for glimpse in shown), default=None),
    )


def _glimpse_link(glimpse: Glimpse | None) -> Link | None:
    return None if glimpse is None else Link(glimpse.title, urls.post_url(glimpse.slug))


def _dated(glimpse: Glimpse, zone: ZoneInfo) -> DatedLink:
    return DatedLink(
        glimpse.title,
        urls.post_url(glimpse.slug),
        card_date(glimpse.published_at, zone),
        glimpse.published_at.astimezone(zone).date().isoformat(),
    )


def post_page_for(post: PublishedPost, site: SiteInfo, around: Around | None = None) -> PostPage:
    return PostPage(
        post=post,
        card=make_card(post, site.zone, mark_agents=site.mark_agents),
        path=urls.post_url(post.slug),
        authors=tuple(Link(author.name, urls.author_url(author.slug)) for author in post.authors),
        boxes=tuple(_box(author, site) for author in post.authors),
        around=around or Around(),
    )


def _box(author: StaffMember, site: SiteInfo) -> AuthorBox:
    agent = author.kind is StaffKind.AGENT
    return AuthorBox(
        author.name,
        urls.author_url(author.slug),
        author.byline,
        author.bio,
        agent,
        agent and site.mark_agents,
    )


def _feed(
    connection: Connection,
    site: SiteInfo,
    which: public.Filter,
    title: str,
    path: str,
    alternate_path: str,
) -> FeedPage:
    posts: Sequence[PublishedPost] = public.list_published(connection, which, limit=FEED_SIZE)
    entries = tuple(post_page_for(post, site) for post in posts)
    return FeedPage(title, path, alternate_path, entries)


def index_feed(connection: Connection, site: SiteInfo) -> FeedPage:
    return _feed(connection, site, public.Filter(), site.title, urls.FEED, urls.INDEX)


def tag_feed(connection: Connection, site: SiteInfo, slug: str) -> FeedPage:
    tag_id, tag = _known_tag(connection, slug)
    title = f"{tag.name} · {site.title}"
    which = public.Filter(tag_id=tag_id)
    return _feed(connection, site, which, title, urls.tag_feed_url(slug), urls.tag_url(slug))


def author_feed(connection: Connection, site: SiteInfo, slug: str) -> FeedPage:
    staff_id, member = _known_author(connection, slug)
    title = f"{member.name} · {site.title}"
    which = public.Filter(staff_id=staff_id)
    return _feed(connection, site, which, title, urls.author_feed_url(slug), urls.author_url(slug))
