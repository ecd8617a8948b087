"""Pages, feeds and the sitemap as text, from the page data. Templates escape everything."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cached_property
from importlib import resources

from jinja2 import Environment, PackageLoader, select_autoescape

from masthead.site import metadata, urls
from masthead.site.discovery import TagCount
from masthead.site.pages import FeedPage, ListingPage, PostPage, SiteInfo
from masthead.site.search import SearchPage
from masthead.store.public import SitemapEntry

__all__ = ["STYLESHEET", "Renderer"]

STYLESHEET = resources.files("masthead.site").joinpath("static/site.css").read_text("utf-8")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Renderer:
    """Turns page data into text; the site's settings come with each call."""

    def __init__(self) -> None:
        self.environment = Environment(
            loader=PackageLoader("masthead.site", "templates"),
            autoescape=select_autoescape(["html", "xml"]),
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.environment.globals.update(urls=urls, stylesheet_path=self.stylesheet_path, iso=_iso)

    @cached_property
    def stylesheet_path(self) -> str:
        digest = hashlib.sha256(STYLESHEET.encode()).hexdigest()[:12]
        return f"{urls.STYLESHEET}?v={digest}"

    def listing(self, site: SiteInfo, page: ListingPage) -> str:
        return self.environment.get_template("listing.html").render(
            site=site, page=page, graph=metadata.listing_graph(site, page)
        )

    def post(self, site: SiteInfo, page: PostPage) -> str:
        return self.environment.get_template("post.html").render(
            site=site, page=page, graph=metadata.post_graph(site, page)
        )

    def tags(self, site: SiteInfo, entries: Sequence[TagCount]) -> str:
        return self.environment.get_template("tags.html").render(
            site=site, tags=entries, graph=metadata.tags_graph(site, len(entries))
        )

    def search(self, site: SiteInfo, page: SearchPage) -> str:
        return self.environment.get_template("search.html").render(site=site, page=page)

    def not_found(self, site: SiteInfo) -> str:
        return self.environment.get_template("not_found.html").render(site=site)

    def unavailable(self, site: SiteInfo) -> str:
        return self.environment.get_template("unavailable.html").render(site=site)

    def feed(self, site: SiteInfo, feed: FeedPage) -> str:
        updated = feed.last_modified or EPOCH
        return self.environment.get_template("feed.xml").render(
            site=site, feed=feed, updated=updated
        )

    def sitemap(
        self,
        site: SiteInfo,
        posts: Sequence[SitemapEntry],
        tag_groups: Sequence[SitemapEntry],
        author_groups: Sequence[SitemapEntry],
    ) -> str:
        newest = max((post.last_change for post in posts), default=None)
        return self.environment.get_template("sitemap.xml").render(
            site=site, posts=posts, tags=tag_groups, authors=author_groups, newest=newest
        )

    def robots(self, site: SiteInfo) -> str:
        return f"User-agent: *\nAllow: /\nSitemap: {site.absolute(urls.SITEMAP)}\n"
