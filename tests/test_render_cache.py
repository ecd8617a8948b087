"""The render cache, in one process: what each change drops, hits without a query, and
the pages it never keeps; over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, event

from masthead.actions import staff as staff_actions
from masthead.actions import tags as tag_actions
from masthead.actions.context import OPERATOR, Call
from masthead.actions.drafts import PostFields, create_post, edit_post, find_post_by_slug
from masthead.actions.publishing import publish_post
from masthead.actions.site_settings import update_site_settings
from masthead.domain.pages import Page
from masthead.domain.staff import StaffKind, StaffMember, Tag
from masthead.settings import Settings
from masthead.site import pagetable
from masthead.store.engine import open_engine, writing
from masthead.web.app import create_app
from masthead.web.cached_pages import CachedPages
from masthead.web.render_cache import RenderCache, page_entry
from tests.conftest import LiveServer, settings_for
from tests.operators import call_as

START = datetime(2026, 3, 1, 8, tzinfo=UTC)
# slug, tags, author — published in this order, one day apart (newest last)
POSTS = [
    ("p1", ("ops",), "ada"),
    ("p2", ("api",), "bo"),
    ("p3", ("ops",), "ada"),
    ("p4", ("ops", "api"), "bo"),
    ("p5", (), "ada"),
]
# page size 3: the index has pages 1 (p5 p4 p3) and 2 (p2 p1); every other listing one page
EVERY_PAGE = {
    "/",
    "/page/2/",
    "/feed.xml",
    "/sitemap.xml",
    "/robots.txt",
    "/static/site.css",
    "/tag/ops/",
    "/tag/ops/feed.xml",
    "/tag/api/",
    "/tag/api/feed.xml",
    "/author/ada/",
    "/author/ada/feed.xml",
    "/author/bo/",
    "/author/bo/feed.xml",
    "/tags/",
    "/llms.txt",
    "/llms-full.txt",
    "/manifest.webmanifest",
    "/favicon.svg",
    *(f"/posts/{slug}/" for slug, _tags, _author in POSTS),
    *(f"/posts/{slug}.md" for slug, _tags, _author in POSTS),
}


@dataclass
class Site:
    engine: Engine
    server: LiveServer
    cache: RenderCache
    layer: CachedPages
    settings: Settings
    clock: datetime = START + timedelta(days=10)

    def change(self, make: Callable[[Connection, Call], object]) -> None:
        self.clock += timedelta(hours=1)
        with writing(self.engine) as connection:
            make(connection, call_as(at=self.clock, settings=self.settings))

    def warm(self) -> None:
        with self.server.client() as client:
            for path in sorted(EVERY_PAGE):
                assert client.get(path).status_code == 200, path
        assert self.cached() == EVERY_PAGE

    def cached(self) -> set[str]:
        return {path for path, _variant in self.cache.keys()}  # noqa: SIM118


def _body(slug: str) -> str:
    return f"The words of {slug}, long enough to read. " * 20


def _fill(engine: Engine, settings: Settings) -> None:
    at = START
    with writing(engine) as connection:
        for slug in ("ops", "api"):
            tag_actions.add_tag(
                connection, call_as(at=at, settings=settings), Tag(slug, slug.title(), f"On {slug}")
            )
        for slug in ("ada", "bo"):
            member = StaffMember(slug, slug.title(), "Engineer", "Platform", StaffKind.PERSON)
            staff_actions.add_staff(connection, call_as(at=at, settings=settings), member)
        for slug, tags, author in POSTS:
            at += timedelta(days=1)
            fields = PostFields(
                title=f"Post {slug}", slug=slug, body=_body(slug), tags=tags, authors=(author,)
            )
            post = create_post(connection, call_as(at=at, settings=settings), fields)
            publish_post(connection, call_as(at=at, settings=settings), post.id)


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    engine = open_engine(database_url)
    settings = settings_for(database_url, page_size=3)
    _fill(engine, settings)
    app = create_app(settings, engine)
    assert isinstance(app, CachedPages)
    with LiveServer(settings, app) as server:
        yield Site(engine, server, app.cache, app, settings)
    engine.dispose()


def _publish_new(connection: Connection, call: Call) -> None:
    fields = PostFields(
        title="Post p6", slug="p6", body=_body("p6"), tags=("api",), authors=("bo",)
    )
    post = create_post(connection, call, fields)
    publish_post(connection, call, post.id)


def _edit_live(connection: Connection, call: Call) -> None:
    post = find_post_by_slug(connection, OPERATOR, "p3")
    edit_post(connection, call, post.id, PostFields(title="Post p3, revised"))
    publish_post(connection, call, post.id)


def _rename_tag(connection: Connection, call: Call) -> None:
    tag_actions.change_tag(connection, call, "ops", "Operations", None)


def _retitle_site(connection: Connection, call: Call) -> None:
    update_site_settings(connection, call, {"title": "Another title"})


CHANGES = {
    # a new post on top of the index (tag api, author bo): every index page (the count
    # line), its listings, their feeds, the sitemap, the tags index (a count), llms.txt and
    # llms-full.txt, and the page of p5, whose "next" it becomes; nothing of ops or ada
    "publish": (
        _publish_new,
        {
            "/",
            "/page/2/",
            "/feed.xml",
            "/sitemap.xml",
            "/tag/api/",
            "/tag/api/feed.xml",
            "/author/bo/",
            "/author/bo/feed.xml",
            "/tags/",
            "/llms.txt",
            "/llms-full.txt",
            "/posts/p5/",
        },
        ("/", "Post p6"),
    ),
    # a new revision of p3: its page and its Markdown twin, its neighbours' pages (they
    # name it), the first page of each listing that shows its card, the feeds its entry is
    # in, llms.txt and llms-full.txt, and the sitemap (its date of change)
    "edit of a live post": (
        _edit_live,
        {
            "/posts/p3/",
            "/posts/p3.md",
            "/posts/p2/",
            "/posts/p4/",
            "/llms.txt",
            "/llms-full.txt",
            "/",
            "/feed.xml",
            "/sitemap.xml",
            "/tag/ops/",
            "/tag/ops/feed.xml",
            "/author/ada/",
            "/author/ada/feed.xml",
        },
        ("/posts/p3/", "Post p3, revised"),
    ),
    # the ops chip is on the cards and pages of p1, p3 and p4 (and in their twins' front
    # matter), and so on every listing, feed and the tags index (each shows one of them);
    # not on p2's or p5's page, nor in the sitemap, llms.txt or what settings alone make
    "tag rename": (
        _rename_tag,
        EVERY_PAGE
        - {
            "/posts/p2/",
            "/posts/p2.md",
            "/posts/p5/",
            "/posts/p5.md",
            "/sitemap.xml",
            "/llms.txt",
            "/llms-full.txt",
            "/manifest.webmanifest",
            "/favicon.svg",
            "/robots.txt",
            "/static/site.css",
        },
        ("/tag/ops/", "Operations"),
    ),
    # the site's title is on every HTML page, in every feed, llms.txt and the manifest;
    # not in the sitemap, robots.txt, the stylesheet or the Markdown twins
    "settings change": (
        _retitle_site,
        EVERY_PAGE
        - {
            "/sitemap.xml",
            "/robots.txt",
            "/static/site.css",
            *(f"/posts/{slug}.md" for slug, _tags, _author in POSTS),
        },
        ("/posts/p2/", "Another title"),
    ),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_change_drops_exactly_the_pages_it_affected_and_the_next_request_shows_it(
    site: Site, name: str
) -> None:
    make, dropped, (path, shown) = CHANGES[name]
    site.warm()
    site.change(make)
    assert EVERY_PAGE - site.cached() == dropped
    with site.server.client() as client:
        assert shown in client.get(path).text  # the very next request, no wait


def test_a_hit_makes_no_query_and_answers_304_from_the_stored_hash(site: Site) -> None:
    site.warm()
    site.layer.follower.interval = 3600.0  # no look at the events table during the count
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(site.engine, "before_cursor_execute", count)
    try:
        with site.server.client() as client:
            first = client.get("/tag/ops/")
            again = client.get("/tag/ops/", headers={"If-None-Match": first.headers["etag"]})
            head = client.head("/posts/p1/")
            for path in sorted(EVERY_PAGE):
                assert client.get(path).status_code == 200
    finally:
        event.remove(site.engine, "before_cursor_execute", count)
    assert statements == []
    assert first.status_code == 200
    assert again.status_code == 304
    assert again.content == b""
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) > 0
    for response in (first, again, head):
        assert response.headers["x-request-id"]
        assert response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
    assert site.cache.hits >= len(EVERY_PAGE) + 2


def test_a_hit_answers_the_same_bytes_and_headers_as_the_miss(site: Site) -> None:
    with site.server.client() as client:
        miss = client.get("/author/ada/", headers={"X-Request-Id": "first"})
        hit = client.get("/author/ada/", headers={"X-Request-Id": "second"})
    assert miss.content == hit.content
    assert {**miss.headers, "x-request-id": "", "date": ""} == {
        **hit.headers,
        "x-request-id": "",
        "date": "",
    }
    assert (miss.headers["x-request-id"], hit.headers["x-request-id"]) == ("first", "second")


def test_a_url_with_a_query_string_and_a_dynamic_kind_are_never_kept(site: Site) -> None:
    with site.server.client() as client:
        for number in range(5):
            assert client.get(f"/?q={number}").status_code == 200
        search = [client.get("/search"), client.get("/search?q=words")]  # the dynamic kind
        assert client.get("/author/ada/").status_code == 200
    assert [response.status_code for response in search] == [200, 200]
    assert all(response.headers["cache-control"] == "no-store" for response in search)
    assert site.cached() == {"/author/ada/"}


def test_markdown_and_html_are_kept_apart_and_dropped_together(site: Site) -> None:
    with site.server.client() as client:
        client.get("/posts/p3/")
        client.get("/posts/p3/", headers={"Accept": "text/markdown"})
    assert set(site.cache.keys()) == {("/posts/p3/", "html"), ("/posts/p3/", "markdown")}
    site.change(_edit_live)
    assert site.cache.keys() == []


def test_a_page_rendered_before_an_invalidation_is_not_stored_after_it() -> None:
    cache = RenderCache(1 << 20)
    cache.ready = True
    entry = page_entry(Page("<p>old</p>", pagetable.HTML), "/")
    epoch = cache.epoch  # a render starts reading
    cache.invalidate(["/"])  # a change commits meanwhile
    assert not cache.put(("/", "html"), entry, epoch)
    assert cache.put(("/", "html"), entry, cache.epoch)


def test_the_cache_keeps_to_its_bytes_dropping_the_least_recently_used() -> None:
    entry = page_entry(Page("x" * 1000, pagetable.HTML), "/posts/{slug}/")
    cache = RenderCache(entry.size * 3)
    cache.ready = True
    for slug in ("a", "b", "c"):
        assert cache.put((f"/posts/{slug}/", "html"), entry, cache.epoch)
    cache.get(("/posts/a/", "html"))  # a is used again: b is now the oldest
    cache.put(("/posts/d/", "html"), entry, cache.epoch)
    assert [path for path, _variant in cache.keys()]  # noqa: SIM118 == ["/posts/c/", "/posts/a/", "/posts/d/"]
    assert cache.bytes <= cache.max_bytes


def test_with_no_bytes_there_is_no_cache(database_url: str) -> None:
    engine = open_engine(database_url)
    settings = settings_for(database_url, render_cache_bytes=0)
    _fill(engine, settings)
    app = create_app(settings, engine)
    assert not isinstance(app, CachedPages)
    try:
        with LiveServer(settings, app) as server, server.client() as client:
            first, second = client.get("/tag/ops/"), client.get("/tag/ops/")
    finally:
        engine.dispose()
    assert first.status_code == second.status_code == 200
    assert first.headers["etag"] == second.headers["etag"]


def test_the_direct_request_line_is_the_logging_line_byte_for_byte() -> None:
    import io
    import logging

    from masthead.web import logs
    from masthead.web.request_log import log_request

    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logs._direct)
    stream = io.StringIO()
    try:
        logs.configure_logging(stream)
        log_request("GET", "/tag/{slug}/", "/tag/ops/", 200, 0.00123, None, "id-1")
        direct = logs._direct
        logs._direct = None  # through the logging machinery instead
        log_request("GET", "/tag/{slug}/", "/tag/ops/", 200, 0.00123, None, "id-1")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logs._direct = saved[2]
    assert direct is not None
    fast, slow = stream.getvalue().splitlines()
    assert json.loads(fast) == json.loads(slow)
    assert fast.split('"level"', 1)[1] == slow.split('"level"', 1)[1]  # same keys, same order
