"""Found by readers, crawlers and models: metadata on every page, llms.txt, Markdown
twins, related posts, author boxes, previous/next, agents named as agents, the tags
index and the header navigation."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import yaml
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from sqlalchemy import Connection, Engine

from masthead.actions.drafts import PostFields, create_post
from masthead.actions.public_site import PublicSite
from masthead.actions.publishing import publish_post
from masthead.actions.site_settings import update_site_settings
from masthead.actions.staff import add_staff
from masthead.actions.tags import add_tag
from masthead.domain.pages import Page
from masthead.domain.staff import StaffKind, StaffMember, Tag
from masthead.errors import InvalidInput
from masthead.settings import Settings
from masthead.store.approvals import add_approval
from masthead.store.engine import open_engine, reading, writing
from masthead.store.staff import staff_ids
from masthead.store.surroundings import markdown_bodies
from masthead.web.negotiation import wants_markdown
from tests.api_support import ApiWorld
from tests.conftest import LiveServer, settings_for
from tests.operators import call_as

SITE = "https://blog.example.test"
PUBLISHED_TOTAL = 14
AGENT_POST = "/posts/writing-drafts-through-the-api-as-an-agent/"
LISTINGS = ["/", "/page/2/", "/tag/operations/", "/tag/operations/page/2/", "/author/marcus-bell/"]


def _graph(html: str) -> list[dict[str, Any]]:
    scripts = HTMLParser(html).css('script[type="application/ld+json"]')
    assert len(scripts) == 1
    data = json.loads(scripts[0].text())
    assert data["@context"] == "https://schema.org"
    graph: list[dict[str, Any]] = data["@graph"]
    return graph


def _of_type(graph: list[dict[str, Any]], *kinds: str) -> dict[str, Any]:
    found = [node for node in graph if node["@type"] in kinds]
    assert len(found) == 1, graph
    return found[0]


def _meta(html: str, attribute: str, name: str) -> str:
    node = HTMLParser(html).css_first(f'meta[{attribute}="{name}"]')
    assert node is not None, f"no meta {name}"
    return node.attributes["content"] or ""


def _link(html: str, rel: str) -> str | None:
    node = HTMLParser(html).css_first(f'link[rel="{rel}"]')
    return None if node is None else node.attributes["href"]


def _crumbs(graph: list[dict[str, Any]]) -> list[str]:
    trail = _of_type(graph, "BreadcrumbList")["itemListElement"]
    assert [item["position"] for item in trail] == list(range(1, len(trail) + 1))
    return [item["item"] for item in trail]


def _social(html: str, url: str) -> None:
    assert _link(html, "canonical") == url
    assert _meta(html, "property", "og:url") == url
    assert _meta(html, "property", "og:title")
    assert _meta(html, "property", "og:site_name") == "Masthead"
    assert _meta(html, "name", "twitter:card") == "summary"
    assert _meta(html, "name", "description") == _meta(html, "property", "og:description")
    assert _link(html, "icon") == "/favicon.svg"
    assert _link(html, "manifest") == "/manifest.webmanifest"


@pytest.fixture(scope="module")
def demo_site(database_factories: Any) -> Iterator[LiveServer]:
    """One demo site on SQLite for the read-only checks (the database code is shared)."""
    factory = database_factories["sqlite"]
    url = factory.new("demo")
    with LiveServer(settings_for(url)) as server:
        yield server
    factory.drop(url)


def test_a_post_page_says_what_it_is_in_json_ld_and_opengraph(demo_site: LiveServer) -> None:
    with demo_site.client() as client:
        html = client.get(AGENT_POST).text
    _social(html, SITE + AGENT_POST)
    assert _meta(html, "property", "og:type") == "article"
    assert _meta(html, "property", "article:published_time").endswith("Z")
    graph = _graph(html)
    post = _of_type(graph, "BlogPosting")
    assert post["headline"] == HTMLParser(html).css_first("h1").text()
    assert post["description"] == _meta(html, "name", "description")
    assert post["url"] == SITE + AGENT_POST
    for field in ("datePublished", "dateModified"):
        assert datetime.fromisoformat(post[field]).tzinfo is not None
    assert post["isPartOf"] == {"@type": "Blog", "name": "Masthead", "url": SITE + "/"}
    author = post["author"][0]
    assert author["name"]
    assert author["url"].startswith(SITE + "/author/")
    assert author["@type"] == "SoftwareApplication"  # the demo's Ledger is an agent
    assert author["additionalType"] == "agent"
    crumbs = _crumbs(graph)
    assert crumbs[0] == SITE + "/"
    assert crumbs[1].startswith(SITE + "/tag/")
    assert crumbs[-1] == SITE + AGENT_POST
    alternates = HTMLParser(html).css('link[rel="alternate"]')
    kinds = {node.attributes["type"] for node in alternates}
    assert {"application/atom+xml", "text/markdown"} <= kinds


@pytest.mark.parametrize("path", [*LISTINGS, "/tags/"])
def test_every_listing_says_what_it_is(demo_site: LiveServer, path: str) -> None:
    with demo_site.client() as client:
        html = client.get(path).text
    _social(html, SITE + path)
    assert _meta(html, "property", "og:type") == "website"
    graph = _graph(html)
    listing = _of_type(graph, "Blog", "CollectionPage")
    assert listing["url"] == SITE + path
    assert listing["name"]
    if listing["@type"] == "CollectionPage":
        assert listing["isPartOf"]["@type"] == "Blog"
    else:
        assert path == "/"
    assert _crumbs(graph)[0] == SITE + "/"


def test_paginated_listings_link_their_neighbours(demo_site: LiveServer) -> None:
    with demo_site.client() as client:
        first, second = client.get("/").text, client.get("/page/2/").text
    assert (_link(first, "prev"), _link(first, "next")) == (None, "/page/2/")
    assert (_link(second, "prev"), _link(second, "next")) == ("/", None)


def test_the_favicon_and_the_manifest_come_from_the_settings(demo_site: LiveServer) -> None:
    with demo_site.client() as client:
        manifest = client.get("/manifest.webmanifest")
        icon = client.get("/favicon.svg")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    data = manifest.json()
    assert (data["name"], data["start_url"], data["theme_color"]) == ("Masthead", "/", "#1d4fa3")
    assert data["icons"][0]["src"] == "/favicon.svg"
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert 'fill="#1d4fa3"' in icon.text
    assert ">M</text>" in icon.text


# --- llms.txt and the Markdown twins ------------------------------------------------------


def _live_slugs(client: httpx.Client) -> list[str]:
    sitemap = client.get("/sitemap.xml").text
    return sorted(re.findall(rf"{re.escape(SITE)}/posts/([^/<]+)/\s*</loc>", sitemap))


def test_llms_txt_lists_exactly_the_published_posts(demo_site: LiveServer) -> None:
    with demo_site.client() as client:
        text = client.get("/llms.txt").text
        full = client.get("/llms-full.txt").text
        live = _live_slugs(client)
        feed = re.findall(r'href="[^"]*/posts/([^/"]+)/"', client.get("/feed.xml").text)
    assert text.startswith("# Masthead\n\n> ")
    listed = re.findall(rf"^- \[[^\]]+\]\({re.escape(SITE)}/posts/([^)]+)\.md\)", text, re.M)
    assert len(listed) == PUBLISHED_TOTAL
    assert sorted(listed) == live
    assert "how-we-count-reading-time" not in text  # a draft
    in_full = re.findall(rf"^URL: {re.escape(SITE)}/posts/([^/]+)/$", full, re.M)
    assert in_full == listed  # newest first, like llms.txt
    assert in_full == feed[: len(in_full)]
    assert len(full.encode()) < 1_100_000


def _twin_parts(text: str) -> tuple[dict[str, Any], str]:
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(head), body


def test_the_markdown_twin_round_trips_the_body_exactly(sqlite_url: str) -> None:
    body = "Lead with `code`,  two spaces.  \n\n---\n\nA rule, *emphasis* & <b>html</b>.\n\n\tTab"
    engine = open_engine(sqlite_url)
    world = _World(engine)
    slug = world.post("Twin: the body, exactly", body=body, tags=("ops",), authors=("ada", "bot"))
    with reading(engine) as connection:
        page = world.page(connection, "post_markdown", slug)
        stored = markdown_bodies(connection, [world.ids[slug]])[world.ids[slug]]
    assert page.media_type.startswith("text/markdown")
    front, twin_body = _twin_parts(page.body)
    assert twin_body == stored == body
    assert front["title"] == "Twin: the body, exactly"
    assert front["authors"] == ["Ada", "Bot"]
    assert front["agents"] == ["Bot"]
    assert front["tags"] == ["Ops"]
    assert front["canonical"] == f"{SITE}/posts/{slug}/"
    assert front["revision"] == 1
    assert isinstance(front["date"], datetime)
    engine.dispose()


def test_a_post_answers_accept_markdown_with_its_twin(demo_site: LiveServer) -> None:
    twin_path = AGENT_POST.rstrip("/") + ".md"
    with demo_site.client() as client:
        html = client.get(AGENT_POST, headers={"Accept": "text/html,*/*;q=0.8"})
        markdown = client.get(AGENT_POST, headers={"Accept": "text/markdown"})
        twin = client.get(twin_path)
        again = client.get(
            AGENT_POST,
            headers={"Accept": "text/markdown", "If-None-Match": markdown.headers["etag"]},
        )
    assert html.headers["content-type"].startswith("text/html")
    assert html.headers["vary"] == "Accept"
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.headers["vary"] == "Accept"
    assert markdown.content == twin.content
    assert markdown.headers["etag"] == twin.headers["etag"] != html.headers["etag"]
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("accept", "markdown"),
    [
        ("text/markdown", True),
        ("text/markdown, text/html", True),
        ("text/html;q=0.9, text/markdown", True),
        ("text/html,application/xhtml+xml,*/*;q=0.8", False),
        ("text/markdown;q=0, text/html", False),
        ("text/markdown;q=0.5, text/html", False),
        ("text/markdown;q=bogus", False),
        (None, False),
    ],
)
def test_which_requests_get_the_markdown(accept: str | None, markdown: bool) -> None:
    assert wants_markdown(accept) is markdown


# --- related posts, author boxes, neighbours, agents and reviewers --------------------------


class _World:
    """A small site on a fresh database: two people, an agent, tags, a clock."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.settings: Settings = settings_for(str(engine.url))
        self.site = PublicSite(self.settings)
        self.at = datetime(2026, 5, 1, 9, tzinfo=UTC)
        self.ids: dict[str, int] = {}
        with writing(engine) as connection:
            for slug in ("ops", "api", "queue"):
                add_tag(connection, self.call(), Tag(slug, slug.title()))
            for slug, kind in (("ada", StaffKind.PERSON), ("eve", StaffKind.PERSON)):
                add_staff(connection, self.call(), _member(slug, kind))
            add_staff(connection, self.call(), _member("bot", StaffKind.AGENT))

    def call(self) -> Any:
        self.at += timedelta(hours=1)
        return call_as(at=self.at, settings=self.settings)

    def post(
        self,
        title: str,
        *,
        body: str = "Some words for the body.",
        tags: tuple[str, ...] = (),
        authors: tuple[str, ...] = ("ada",),
        reviewer: str | None = None,
    ) -> str:
        fields = PostFields(
            title=title, dek=f"About {title}.", body=body, tags=tags, authors=authors
        )
        with writing(self.engine) as connection:
            post = create_post(connection, self.call(), fields)
            if reviewer is not None:
                member = staff_ids(connection, [reviewer])[reviewer]
                add_approval(connection, post.id, post.revision, member, None, self.call().at)
            publish_post(connection, self.call(), post.id)
        self.ids[post.content.slug] = post.id
        return post.content.slug

    def page(self, connection: Connection, kind: str, slug: str | None = None) -> Page:
        found = self.site.answer(connection, kind, {} if slug is None else {"slug": slug})
        assert isinstance(found, Page)
        return found

    def html(self, path_kind: str, slug: str | None = None) -> HTMLParser:
        with reading(self.engine) as connection:
            return HTMLParser(self.page(connection, path_kind, slug).body)


def _member(slug: str, kind: StaffKind) -> StaffMember:
    return StaffMember(slug, slug.title(), f"{slug.title()} Title", "Desk", kind, f"{slug} bio")


@pytest.fixture
def world(sqlite_url: str) -> Iterator[_World]:
    engine = open_engine(sqlite_url)
    yield _World(engine)
    engine.dispose()


def _related(page: HTMLParser) -> list[str]:
    return [node.attributes["href"] or "" for node in page.css(".related a")]


def test_related_posts_share_tags_first_then_are_the_newest_earlier_ones(world: _World) -> None:
    two_old = world.post("Two tags, old", tags=("ops", "api"))
    one_tag = world.post("One tag", tags=("ops",))
    world.post("Unrelated", tags=("queue",))
    two_new = world.post("Two tags, newer", tags=("api", "ops"))
    one_more = world.post("One more", tags=("api",))
    subject = world.post("The subject", tags=("ops", "api"))
    page = world.html("post", subject)
    assert _related(page) == [f"/posts/{slug}/" for slug in (two_new, two_old, one_more)]
    assert _related(page) == _related(world.html("post", subject))  # the same every time
    assert _related(world.html("post", one_tag)) == [f"/posts/{two_old}/"]
    world.post("Published after", tags=("ops", "api"))
    assert _related(world.html("post", subject)) == _related(page)  # only earlier posts


def test_a_post_links_the_posts_before_and_after_it(world: _World) -> None:
    first, second, third = (world.post(title) for title in ("First", "Second", "Third"))
    middle = world.html("post", second)
    assert middle.css_first('.post-nav a[rel="prev"]').attributes["href"] == f"/posts/{first}/"
    assert middle.css_first('.post-nav a[rel="next"]').attributes["href"] == f"/posts/{third}/"
    assert world.html("post", first).css_first('.post-nav a[rel="prev"]') is None


def test_the_author_box_names_role_department_and_bio(world: _World) -> None:
    slug = world.post("Boxed", authors=("ada", "bot"))
    boxes = world.html("post", slug).css(".author-box")
    assert [box.css_first("a.author").text() for box in boxes] == ["Ada", "Bot"]
    assert boxes[0].css_first(".role").text() == "Ada Title · Desk"
    assert boxes[0].css_first(".bio").text() == "ada bio"
    assert boxes[0].css_first("a.author").attributes["href"] == "/author/ada/"
    assert boxes[0].css_first(".agent-marker") is None
    assert boxes[1].css_first(".agent-marker").text() == "agent"


def test_an_agent_is_marked_on_its_cards_and_posts_and_a_person_reviewer_is_named(
    world: _World,
) -> None:
    by_agent = world.post("Written by the agent", authors=("bot",), reviewer="eve")
    by_person = world.post("Written by a person", authors=("ada",), reviewer="bot")
    page = world.html("post", by_agent)
    byline = page.css_first(".post-header .byline")
    assert byline.css_first(".agent-marker").text() == "agent"
    assert byline.css_first(".reviewer").text() == "Reviewed by Eve"
    article = _of_type(_graph(page.html or ""), "BlogPosting")
    assert article["author"][0]["@type"] == "SoftwareApplication"
    assert article["editor"] == {"@type": "Person", "name": "Eve"}
    other = world.html("post", by_person)
    assert other.css_first(".reviewer") is None  # an agent's approval names no reviewer
    assert other.css_first(".post-header .agent-marker") is None
    cards = {
        card.css_first(".card-title").text(): card.css_first(".byline .agent-marker")
        for card in world.html("index").css("li.card")
    }
    assert cards["Written by the agent"] is not None
    assert cards["Written by a person"] is None


def test_the_agent_marker_can_be_turned_off_but_the_json_ld_still_says_agent(
    world: _World,
) -> None:
    slug = world.post("Quietly by the agent", authors=("bot",))
    with writing(world.engine) as connection:
        update_site_settings(connection, world.call(), {"mark_agents": False})
    page = world.html("post", slug)
    assert page.css(".agent-marker") == []
    assert world.html("index").css(".agent-marker") == []
    article = _of_type(_graph(page.html or ""), "BlogPosting")
    assert article["author"][0]["@type"] == "SoftwareApplication"


def test_a_title_cannot_break_out_of_the_json_ld(world: _World) -> None:
    title = 'Ends </script><script>alert("x")</script> <!-- & more'
    slug = world.post(title, tags=("ops",))
    with reading(world.engine) as connection:
        body = world.page(connection, "post", slug).body
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    assert block is not None
    assert "<" not in block.group(1)
    assert "alert" not in body.split(block.group(0))[1].split("<h1>")[0]
    article = _of_type(json.loads(block.group(1))["@graph"], "BlogPosting")
    assert article["headline"] == title


# --- the tags index and the header navigation -----------------------------------------------


def test_the_tags_index_counts_every_tag_with_a_live_post(demo_site: LiveServer) -> None:
    with demo_site.client() as client:
        page = HTMLParser(client.get("/tags/").text)
        entries = page.css(".tag-index li")
        assert entries
        for entry in entries:
            link = entry.css_first("a")
            count = int(entry.css_first(".tag-count").text().split()[0])
            listing = HTMLParser(client.get(link.attributes["href"] or "").text)
            assert listing.css_first(".count").text().startswith(f"{count} post")
            assert count > 0


def test_the_header_navigation_comes_from_the_settings(world: _World) -> None:
    nav = [link.attributes["href"] for link in world.html("index").css(".site-nav a")]
    assert nav == ["/", "/tags/", "/feed.xml"]
    links = [{"text": "Start", "url": "/"}, {"text": "Elsewhere", "url": "https://example.org/"}]
    with writing(world.engine) as connection:
        update_site_settings(connection, world.call(), {"navigation": links})
    for kind in ("index", "tags_index"):
        page = world.html(kind)
        shown = [(a.text(), a.attributes["href"]) for a in page.css(".site-nav a")]
        assert shown == [("Start", "/"), ("Elsewhere", "https://example.org/")]
    for wrong in ([{"text": "x", "url": "javascript:alert(1)"}], [{"text": "", "url": "/"}], "/"):
        with writing(world.engine) as connection, pytest.raises(InvalidInput):
            update_site_settings(connection, world.call(), {"navigation": wrong})


def test_the_settings_api_changes_the_navigation_marker_and_colour(api: ApiWorld) -> None:
    links = [{"text": "Start", "url": "/"}, {"text": "Models", "url": "/llms.txt"}]
    with api.client("admin") as admin:
        defaults = admin.get("/settings").json()
        changed = admin.patch(
            "/settings", json={"navigation": links, "mark_agents": False, "theme_color": "#0f766e"}
        )
        assert changed.status_code == 200, changed.text
        bad = [
            admin.patch("/settings", json=wrong).status_code
            for wrong in (
                {"navigation": [{"text": "x", "url": "javascript:alert(1)"}]},
                {"navigation": [{"text": "x", "url": "/", "extra": 1}]},
                {"theme_color": "red"},
                {"mark_agents": "yes"},
            )
        ]
        with api.server.client() as public:
            page = HTMLParser(public.get(AGENT_POST).text)
            icon = public.get("/favicon.svg").text
        reset = admin.patch("/settings", json={"navigation": None, "mark_agents": None})
    assert defaults["navigation"] == [
        {"text": "Home", "url": "/"},
        {"text": "Tags", "url": "/tags/"},
        {"text": "Feed", "url": "/feed.xml"},
    ]
    assert (defaults["mark_agents"], defaults["theme_color"]) == (True, "#1d4fa3")
    assert changed.json()["navigation"] == links
    assert bad == [422, 422, 422, 422]
    assert [a.attributes["href"] for a in page.css(".site-nav a")] == ["/", "/llms.txt"]
    assert page.css(".agent-marker") == []
    assert 'fill="#0f766e"' in icon
    assert reset.json()["navigation"] == defaults["navigation"]
    assert reset.json()["mark_agents"] is True
