"""Every public URL, over real HTTP, on SQLite and on PostgreSQL, with the demo content."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from masthead.actions.staff import add_staff
from masthead.domain.staff import StaffKind, StaffMember
from masthead.store.engine import open_engine, writing
from tests.conftest import LiveServer, settings_for
from tests.operators import call_as, import_into

SITE = "https://blog.example.test"
PUBLISHED_OPERATIONS = 12
PUBLISHED_TOTAL = 14
DRAFT_SLUGS = ["how-we-count-reading-time", "scheduled-publishes-and-the-not-before-clock"]


def _cards(html: str) -> list[HTMLParser]:
    return [HTMLParser(card.html or "") for card in HTMLParser(html).css("li.card")]


def _text(html: str, selector: str) -> str:
    node = HTMLParser(html).css_first(selector)
    assert node is not None, f"no {selector}"
    return node.text(strip=True)


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/", "text/html"),
        ("/page/2/", "text/html"),
        ("/tag/operations/", "text/html"),
        ("/tag/operations/page/2/", "text/html"),
        ("/author/marcus-bell/", "text/html"),
        ("/posts/tokens-and-roles/", "text/html"),
        ("/feed.xml", "application/atom+xml"),
        ("/tag/operations/feed.xml", "application/atom+xml"),
        ("/author/marcus-bell/feed.xml", "application/atom+xml"),
        ("/sitemap.xml", "application/xml"),
        ("/robots.txt", "text/plain"),
        ("/healthz", "text/plain"),
    ],
)
def test_every_public_url_answers(demo_server: LiveServer, path: str, media_type: str) -> None:
    with demo_server.client() as client:
        response = client.get(path)
    assert response.status_code == 200, path
    assert response.headers["content-type"].startswith(media_type)


NOT_FOUND_PATHS = [
    "/page/3/",
    "/page/0/",
    "/tag/operations/page/3/",
    "/tag/nope/",
    "/tag/nope/feed.xml",
    "/author/nobody/",
    "/author/nobody/feed.xml",
    "/author/marcus-bell/page/2/",
    "/posts/nope/",
    *[f"/posts/{slug}/" for slug in DRAFT_SLUGS],
    "/docs",
    "/redoc",
    "/openapi.json",
    "/docs/oauth2-redirect",
    "/no/such/page/",
    "/favicon.ico",
]


def test_unknown_pages_answer_the_same_html_404(demo_server: LiveServer) -> None:
    with demo_server.client() as client:
        responses = {path: client.get(path) for path in NOT_FOUND_PATHS}
    bodies = {response.content for response in responses.values()}
    assert {path: response.status_code for path, response in responses.items()} == dict.fromkeys(
        NOT_FOUND_PATHS, 404
    )
    assert len(bodies) == 1, "every 404 must be byte for byte the same page"
    page = HTMLParser(bodies.pop().decode())
    assert page.css_first("h1").text() == "Page not found"
    assert all(r.headers["content-type"].startswith("text/html") for r in responses.values())


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/page/1/", "/"),
        ("/page/2", "/page/2/"),
        ("/tag/operations", "/tag/operations/"),
        ("/tag/operations/page/1/", "/tag/operations/"),
        ("/tag/operations/page/2", "/tag/operations/page/2/"),
        ("/tag/Operations/", "/tag/operations/"),
        ("/author/marcus-bell", "/author/marcus-bell/"),
        ("/author/marcus-bell/page/1/", "/author/marcus-bell/"),
        ("/posts/tokens-and-roles", "/posts/tokens-and-roles/"),
        ("/POSTS/Tokens-And-Roles/", "/posts/tokens-and-roles/"),
    ],
)
def test_non_canonical_urls_answer_301(demo_server: LiveServer, path: str, location: str) -> None:
    with demo_server.client() as client:
        response = client.get(path)
    assert response.status_code == 301
    assert response.headers["location"] == location


def test_index_shows_nine_newest_cards_then_the_rest(demo_server: LiveServer) -> None:
    with demo_server.client() as client:
        first, second = client.get("/").text, client.get("/page/2/").text
    assert len(_cards(first)) == 9
    assert len(_cards(second)) == PUBLISHED_TOTAL - 9
    dates = [
        node.attributes["datetime"]
        for html in (first, second)
        for node in HTMLParser(html).css("li.card time")
    ]
    assert dates == sorted(dates, reverse=True)
    assert _text(first, ".count") == f"{PUBLISHED_TOTAL} posts"
    assert HTMLParser(first).css_first('a[rel="next"]').attributes["href"] == "/page/2/"
    assert HTMLParser(second).css_first('a[rel="prev"]').attributes["href"] == "/"


def test_index_header_comes_from_settings(demo_server: LiveServer) -> None:
    with demo_server.client() as client:
        html = client.get("/").text
    assert _text(html, ".page-header .kicker") == "Field notes"
    assert _text(html, "h1") == "Notes from the people and agents who run Masthead"
    assert _text(html, ".page-header .intro").startswith("How we write")


def test_tag_page_counts_its_posts_and_pages(demo_server: LiveServer) -> None:
    with demo_server.client() as client:
        first = client.get("/tag/operations/").text
        second = client.get("/tag/operations/page/2/").text
    assert _text(first, ".count") == f"{PUBLISHED_OPERATIONS} posts found in Operations"
    assert _text(second, ".count") == f"{PUBLISHED_OPERATIONS} posts found in Operations"
    assert len(_cards(first)) == 9
    assert len(_cards(second)) == PUBLISHED_OPERATIONS - 9
    assert HTMLParser(first).css_first('a[rel="next"]').attributes["href"] == (
        "/tag/operations/page/2/"
    )
    for card in _cards(first) + _cards(second):
        chips = [chip.text() for chip in card.css(".chip")]
        assert "Operations" in chips


def test_card_shows_its_parts_in_order(demo_server: LiveServer) -> None:
    with demo_server.client() as client:
        html = client.get("/posts/tokens-and-roles/").text
        card = next(
            card
            for card in _cards(client.get("/").text)
            if card.css_first(".card-title a").attributes["href"] == "/posts/tokens-and-roles/"
        )
    article = card.css_first("article")
    classes = [
        (child.attributes.get("class") or child.tag)
        for child in article.iter()
        if child.tag in {"ul", "h2", "p"}
    ]
    assert classes == ["chips", "card-title", "dek", "byline", "meta"]
    chips = [chip.text() for chip in card.css(".chip")]
    post_chips = [chip.text() for chip in HTMLParser(html).css(".post-header .chip")]
    assert chips == post_chips
    assert len(chips) >= 1
    assert card.css_first(".author").text() == "Inês Carvalho"
    assert card.css_first(".role").text() == "Managing Editor · Editorial"
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4} · \d+ min", card.css_first(".meta").text())
    assert card.css_first(".meta").text().startswith("Jun 2, 2026 · ")


def test_author_page_counts_posts_by_name(demo_server: LiveServer) -> None:
    with demo_server.client() as client:
        html = client.get("/author/marcus-bell/").text
    count = _text(html, ".count")
    assert re.fullmatch(r"\d+ posts? by Marcus Bell", count)
    number = int(count.split()[0])
    assert len(_cards(html)) == number
    for card in _cards(html):
        assert card.css_first(".author") is not None


def test_post_page_pins_its_revision_and_canonical_url(demo_server: LiveServer) -> None:
    with demo_server.client() as client:
        html = client.get("/posts/tokens-and-roles/").text
    page = HTMLParser(html)
    assert page.css_first('meta[name="masthead:revision"]').attributes["content"] == "1"
    canonical = page.css_first('link[rel="canonical"]').attributes["href"]
    assert canonical == f"{SITE}/posts/tokens-and-roles/"
    assert page.css_first("h1").text() == "Tokens and roles"
    assert page.css_first(".post-header .author").attributes["href"] == "/author/ines-carvalho/"
    tag_links = [node.attributes["href"] for node in page.css(".post-header .chip")]
    assert all(href.startswith("/tag/") for href in tag_links)
    assert page.css_first(".post-body p") is not None
    assert re.fullmatch(r"\d+ min", _text(html, ".post-header .reading-time"))


def test_etag_and_last_modified_give_304s(demo_server: LiveServer) -> None:
    with demo_server.client() as client:
        for path in ["/", "/tag/operations/", "/posts/tokens-and-roles/", "/feed.xml"]:
            first = client.get(path)
            etag, modified = first.headers["etag"], first.headers["last-modified"]
            again = client.get(path, headers={"If-None-Match": etag})
            assert (again.status_code, again.content) == (304, b""), path
            assert again.headers["etag"] == etag
            since = client.get(path, headers={"If-Modified-Since": modified})
            assert since.status_code == 304, path
            stale = client.get(path, headers={"If-None-Match": '"something-else"'})
            assert stale.status_code == 200


def test_feeds_parse_and_take_their_updated_time_from_content(demo_server: LiveServer) -> None:
    with demo_server.client() as client:
        for path, minimum in [
            ("/feed.xml", PUBLISHED_TOTAL),
            ("/tag/operations/feed.xml", PUBLISHED_OPERATIONS),
            ("/author/marcus-bell/feed.xml", 1),
        ]:
            body = client.get(path).text
            feed = feedparser.parse(body)
            assert not feed.bozo, (path, feed.get("bozo_exception"))
            assert len(feed.entries) >= minimum
            assert feed.feed.links[0]["href"].startswith(SITE)
            newest = max(entry.updated_parsed for entry in feed.entries)
            assert feed.feed.updated_parsed == newest
            assert client.get(path).text == body, "a feed must not change with the clock"
            slugs = {entry.link for entry in feed.entries}
            assert not any(slug in link for slug in DRAFT_SLUGS for link in slugs)


def test_sitemap_lists_published_pages_in_the_sitemaps_namespace(demo_server: LiveServer) -> None:
    with demo_server.client() as client:
        body = client.get("/sitemap.xml").content
    root = ElementTree.fromstring(body)
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    assert root.tag == f"{namespace}urlset"
    locations = [node.text for node in root.iter(f"{namespace}loc")]
    posts = [loc for loc in locations if loc and "/posts/" in loc]
    assert len(posts) == PUBLISHED_TOTAL
    assert f"{SITE}/tag/operations/" in locations
    assert all(node.text for node in root.iter(f"{namespace}lastmod"))


def test_robots_and_health(demo_server: LiveServer) -> None:
    with demo_server.client() as client:
        assert client.get("/robots.txt").text.endswith(f"Sitemap: {SITE}/sitemap.xml\n")
        assert client.get("/healthz").text == "ok\n"
        assert client.head("/").status_code == 200


def _crawl(server: LiveServer) -> dict[str, str]:
    """Every page reachable from the index by following links on the site."""
    seen: dict[str, str] = {}
    queue = ["/", "/feed.xml", "/sitemap.xml"]
    with server.client() as client:
        while queue:
            path = queue.pop()
            if path in seen:
                continue
            response = client.get(path)
            assert response.status_code == 200, path
            seen[path] = response.text
            if response.headers["content-type"].startswith("text/html"):
                for link in HTMLParser(response.text).css("a[href], link[href]"):
                    href = link.attributes.get("href") or ""
                    if href.startswith("/") and not href.startswith("/static/"):
                        queue.append(href.split("#")[0])
    return seen


def test_drafts_never_appear_on_any_page_feed_or_sitemap(demo_server: LiveServer) -> None:
    pages = _crawl(demo_server)
    assert len(pages) > 30
    draft_titles = ["How we count reading time", "Scheduled publishes and the not-before clock"]
    for path, body in pages.items():
        for marker in DRAFT_SLUGS + draft_titles:
            assert marker not in body, f"draft {marker!r} leaked into {path}"
    tag_counts = [
        int(_text(body, ".count").split()[0])
        for path, body in pages.items()
        if "/tag/" in path and path.endswith("/")
    ]
    assert max(tag_counts) == PUBLISHED_OPERATIONS


def test_a_tag_with_no_published_posts_says_zero(demo_database_url: str, tmp_path: Path) -> None:
    engine = open_engine(demo_database_url)
    (tmp_path / "tags.yaml").write_text(
        "- slug: empty\n  name: Empty Shelf\n- slug: solo\n  name: Solo\n"
    )
    (tmp_path / "solo.md").write_text(
        "---\ntitle: Only one\ntags: [solo]\nauthor: ledger\ndate: 2026-11-21\n---\n\nText.\n"
    )
    (tmp_path / "hidden.md").write_text(
        "---\ntitle: Hidden\ntags: [empty]\nauthor: ledger\nstatus: draft\n---\n\nText.\n"
    )
    import_into(engine, tmp_path, at=datetime(2026, 11, 21, tzinfo=UTC))
    engine.dispose()
    with LiveServer(settings_for(demo_database_url)) as server, server.client() as client:
        empty = client.get("/tag/empty/")
        solo = client.get("/tag/solo/")
    assert empty.status_code == 200
    assert _text(empty.text, ".count") == "0 posts found in Empty Shelf"
    assert _cards(empty.text) == []
    assert _text(solo.text, ".count") == "1 post found in Solo"


def test_a_publish_shows_up_at_once(demo_database_url: str, tmp_path: Path) -> None:
    with LiveServer(settings_for(demo_database_url)) as server, server.client() as client:
        before = client.get("/")
        (tmp_path / "fresh.md").write_text(
            "---\ntitle: Fresh off the press\ntags: [operations]\nauthor: ledger\n"
            "date: 2026-11-25T08:00:00Z\n---\n\nNew words.\n"
        )
        engine = open_engine(demo_database_url)
        import_into(engine, tmp_path, at=datetime(2026, 11, 25, 8, tzinfo=UTC))
        engine.dispose()
        after = client.get("/", headers={"If-None-Match": before.headers["etag"]})
        feed = client.get("/feed.xml").text
        tag = client.get("/tag/operations/").text
    assert after.status_code == 200
    assert _cards(after.text)[0].css_first(".card-title").text() == "Fresh off the press"
    assert _text(after.text, ".count") == f"{PUBLISHED_TOTAL + 1} posts"
    assert "Fresh off the press" in feed
    assert _text(tag, ".count") == f"{PUBLISHED_OPERATIONS + 1} posts found in Operations"


def test_tag_and_author_pages_carry_the_site_header_above_their_count(
    demo_server: LiveServer,
) -> None:
    """As the seed's tag page: kicker, headline and intro, then `N posts found in TAG`, then
    the tag's own words."""
    with demo_server.client() as client:
        for path, count in (
            ("/tag/operations/", f"{PUBLISHED_OPERATIONS} posts found in Operations"),
            ("/author/marcus-bell/", None),
        ):
            header = HTMLParser(client.get(path).text).css_first(".page-header")
            assert header is not None
            parts = [(node.attributes.get("class") or node.tag) for node in header.iter()]
            assert parts[:4] == ["kicker", "h1", "intro", "count"], path
            assert header.css_first(".kicker").text() == "Field notes"
            assert header.css_first("h1").text().startswith("Notes from the people")
            if count:
                assert header.css_first(".count").text() == count
            assert header.css_first(".description") is not None


def test_every_active_member_has_a_listing_and_only_live_ones_are_in_the_sitemap(
    demo_database_url: str,
) -> None:
    engine = open_engine(demo_database_url)
    with writing(engine) as connection:
        for slug, active in (("quiet-one", True), ("gone-one", False)):
            member = StaffMember(slug, slug.title(), "Writer", "Editorial", StaffKind.PERSON)
            add_staff(connection, call_as(), replace(member, active=active))
    engine.dispose()
    with LiveServer(settings_for(demo_database_url)) as server, server.client() as client:
        quiet = client.get("/author/quiet-one/")
        feed = client.get("/author/quiet-one/feed.xml")
        gone = client.get("/author/gone-one/")
        sitemap = client.get("/sitemap.xml").text
    assert quiet.status_code == 200
    assert _text(quiet.text, ".count") == "0 posts by Quiet-One"
    assert feed.status_code == 200
    assert gone.status_code == 404  # suspended, and no live post: no page
    assert "/author/quiet-one/" not in sitemap
    assert "/author/marcus-bell/" in sitemap
