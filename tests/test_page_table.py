"""The page table: every URL of the site, served live; and the map from a change to the
pages it affects, checked page by page against the rendered site before and after."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine

from masthead.actions import staff as staff_actions
from masthead.actions import tags as tag_actions
from masthead.actions.context import Call
from masthead.actions.drafts import PostFields, create_post, edit_post
from masthead.actions.public_site import PublicSite
from masthead.actions.publishing import archive_post, publish_post, unpublish_post
from masthead.actions.site_settings import update_site_settings
from masthead.domain.events import AffectedPages
from masthead.domain.pages import Page
from masthead.domain.posts import PostStatus
from masthead.domain.staff import StaffKind, StaffMember, Tag
from masthead.errors import NotFound
from masthead.settings import Settings
from masthead.site import urls
from masthead.site.changes import ListingState, PostState, PublicState, affected_pages
from masthead.site.pagetable import expand
from masthead.store import events as event_store
from masthead.store.approvals import add_approval
from masthead.store.engine import reading, writing
from masthead.store.posts import list_posts
from masthead.store.staff import staff_ids
from tests.conftest import LiveServer, settings_for
from tests.operators import call_as

# --- the pure map, on crafted states ---------------------------------------------------


def _post(slug: str, positions: dict[tuple[str, str], int], **facts: Any) -> PostState:
    return PostState(
        slug=slug,
        tags=facts.get("tags", ()),
        authors=facts.get("authors", ()),
        page=facts.get("page", (slug,)),
        card=facts.get("card", (slug,)),  # type: ignore[arg-type]
        entry=facts.get("entry", (slug,)),
        sitemap=facts.get("sitemap", (slug,)),
        positions=positions,
    )


def _state(
    totals: dict[tuple[str, str], int], posts: dict[int, PostState], page_size: int = 9
) -> PublicState:
    listings = {key: ListingState(total, (), ()) for key, total in totals.items()}
    return PublicState(("Site",), page_size, listings, posts, {})


INDEX = ("index", "")


def test_a_new_post_on_top_touches_every_page_of_its_listings_and_their_feeds() -> None:
    before = _state({INDEX: 30, ("tag", "ops"): 4}, {})
    after = _state(
        {INDEX: 31, ("tag", "ops"): 5},
        {7: _post("new", {INDEX: 0, ("tag", "ops"): 0}, tags=("ops",))},
    )
    affected = affected_pages(before, after)
    assert affected.ranges == AffectedPages.of([], {"/": range(1, 5), "/tag/ops/": [1]}).ranges
    assert set(affected.paths) == {
        "/posts/new/",
        "/posts/new.md",
        "/feed.xml",
        "/tag/ops/feed.xml",
        "/sitemap.xml",
        "/llms.txt",
        "/llms-full.txt",
        "/tags/",  # the count of `ops` moved
    }


def test_a_post_published_far_down_a_listing_leaves_its_feed_alone() -> None:
    before = _state({INDEX: 40}, {})
    after = _state({INDEX: 41}, {3: _post("old-news", {INDEX: 35})})
    affected = affected_pages(before, after)
    assert urls.FEED not in affected.paths  # the feed shows the newest 20 only
    assert affected.ranges == AffectedPages.of([], {"/": range(1, 6)}).ranges  # the count moved


def test_an_edit_in_place_touches_the_one_page_that_shows_the_card() -> None:
    was = _post("same", {INDEX: 13, ("tag", "a"): 2}, card=("old",), page=("old",))
    now = replace(was, card=("new",), page=("new",))
    before = _state({INDEX: 40, ("tag", "a"): 3}, {1: was})
    after = _state({INDEX: 40, ("tag", "a"): 3}, {1: now})
    affected = affected_pages(before, after)
    assert expand(affected) == ["/page/2/", "/posts/same/", "/tag/a/"]


def test_a_post_moving_down_touches_the_pages_between_its_old_and_new_places() -> None:
    was = _post("mover", {INDEX: 2})
    now = replace(was, positions={INDEX: 20}, entry=("moved",), sitemap=("moved",))
    affected = affected_pages(_state({INDEX: 40}, {1: was}), _state({INDEX: 40}, {1: now}))
    assert [url for url in expand(affected) if "page" in url or url == "/"] == [
        "/",
        "/page/2/",
        "/page/3/",
    ]
    assert {urls.FEED, urls.SITEMAP} <= set(affected.paths)


def test_a_post_whose_tags_changed_touches_the_old_and_the_new_tags() -> None:
    was = _post("retagged", {INDEX: 0, ("tag", "a"): 0}, tags=("a",), card=("a",))
    now = replace(was, tags=("b",), card=("b",), positions={INDEX: 0, ("tag", "b"): 0})
    before = _state({INDEX: 5, ("tag", "a"): 2, ("tag", "b"): 1}, {1: was})
    after = _state({INDEX: 5, ("tag", "a"): 1, ("tag", "b"): 2}, {1: now})
    touched = expand(affected_pages(before, after))
    assert {"/tag/a/", "/tag/b/", "/tag/a/feed.xml", "/tag/b/feed.xml", "/"} <= set(touched)


# --- the page table, served ---------------------------------------------------------------


def test_every_listed_url_answers_from_the_live_server(demo_database_url: str) -> None:
    settings = settings_for(demo_database_url, page_size=3)
    site = PublicSite(settings)
    engine = _engine(demo_database_url)
    with reading(engine) as connection:
        listed = site.every_url(connection)
        moved = site.redirects(connection)
    assert {"/", "/page/2/", "/feed.xml", "/sitemap.xml", "/robots.txt"} <= set(listed)
    assert "/tag/operations/page/4/" in listed  # 12 posts, 3 a page
    assert "/author/demo-admin/" not in listed  # not in the demo
    with LiveServer(settings) as server, server.client() as client:
        for url in listed:
            assert client.get(url).status_code == 200, url
        for old, new in moved.items():
            answer = client.get(old)
            assert (answer.status_code, answer.headers["location"]) == (301, new)
        missing = client.get(urls.NOT_FOUND)
        assert missing.status_code == 404
        assert missing.text == client.get("/no/such/page/").text


# --- the map, checked against the whole site -------------------------------------------

PATTERNS = [
    (name, re.compile("^" + re.sub(r"\{(\w+)(:int)?\}", r"(?P<\1>[^/]+)", pattern) + "$"))
    for name, pattern in PublicSite(Settings()).routes  # type: ignore[call-arg]
]


def _answer(site: PublicSite, connection: Connection, url: str) -> object:
    """What `url` answers: the page's bytes, a redirect, or nothing."""
    if url == urls.NOT_FOUND:
        return ("404", site.not_found(connection).body)
    for name, pattern in PATTERNS:
        if match := pattern.match(url):
            params = {k: int(v) if k == "number" else v for k, v in match.groupdict().items()}
            try:
                found = site.answer(connection, name, params)
            except NotFound:
                return None
            return ("page", found.body) if isinstance(found, Page) else ("to", found.location)
    return None


def _render_all(site: PublicSite, engine: Engine, extra: Iterable[str]) -> dict[str, object]:
    with reading(engine) as connection:
        every = {*site.every_url(connection), *site.redirects(connection), urls.NOT_FOUND, *extra}
        return {url: _answer(site, connection, url) for url in sorted(every)}


@dataclass
class _World:
    """A small site and a clock; each change goes through the real use cases."""

    engine: Engine
    settings: Settings
    rng: random.Random
    at: datetime = datetime(2026, 3, 1, 8, tzinfo=UTC)
    serial: int = 0

    def call(self) -> Call:
        self.at += timedelta(hours=7, minutes=self.rng.randrange(60))
        return call_as(at=self.at, settings=self.settings)

    def posts(self, connection: Connection, *statuses: PostStatus) -> list[Any]:
        return [post for post in list_posts(connection) if post.status in statuses]

    def pick(self, items: list[Any]) -> Any:
        return self.rng.choice(items) if items else None


TAGS = ["ops", "api", "queue", "design", "notes"]
STAFF = ["ada", "bo", "cy", "dee"]
AGENTS = {"dee"}


def _maybe_approve(world: _World, connection: Connection, post: Any) -> None:
    """Sometimes a member approves the revision about to go live (a person's approval
    puts "Reviewed by NAME" on its page)."""
    if world.rng.random() < 0.4:
        reviewer = world.pick(STAFF)
        ids = staff_ids(connection, [reviewer])
        add_approval(connection, post.id, post.revision, ids[reviewer], None, world.call().at)


def _setup(world: _World) -> None:
    with writing(world.engine) as connection:
        for slug in TAGS:
            tag_actions.add_tag(connection, world.call(), Tag(slug, slug.title(), f"About {slug}"))
        for number, slug in enumerate(STAFF):
            kind = StaffKind.AGENT if slug in AGENTS else StaffKind.PERSON
            member = StaffMember(slug, slug.title(), f"Role {number}", "Dept", kind)
            staff_actions.add_staff(connection, world.call(), member)
        for _ in range(14):
            _new_post(world, connection, publish=world.rng.random() < 0.8)


def _new_post(world: _World, connection: Connection, *, publish: bool = True) -> None:
    world.serial += 1
    fields = PostFields(
        title=f"Post number {world.serial}",
        dek=f"About post {world.serial}.",
        body=f"Body of post {world.serial}. " * world.rng.randrange(10, 400),
        tags=tuple(world.rng.sample(TAGS, world.rng.randrange(0, 3))),
        authors=tuple(world.rng.sample(STAFF, world.rng.randrange(1, 3))),
    )
    post = create_post(connection, world.call(), fields)
    if publish:
        _maybe_approve(world, connection, post)
        publish_post(connection, world.call(), post.id)


def _edit_and_publish(world: _World, connection: Connection) -> None:
    post = world.pick(world.posts(connection, PostStatus.PUBLISHED, PostStatus.UNPUBLISHED))
    if post is None:
        return
    choice = world.rng.randrange(5)
    fields = [
        PostFields(title=f"{post.content.title} (revised)"),
        PostFields(tags=tuple(world.rng.sample(TAGS, world.rng.randrange(0, 4)))),
        PostFields(authors=tuple(world.rng.sample(STAFF, world.rng.randrange(1, 3)))),
        PostFields(slug=f"{post.content.slug}-moved"[:60]),
        PostFields(dek=""),
    ][choice]
    edited = edit_post(connection, world.call(), post.id, fields)
    _maybe_approve(world, connection, edited)
    dated = world.at - timedelta(days=world.rng.randrange(200)) if choice == 4 else None
    publish_post(connection, world.call(), post.id, published_at=dated)


def _take_down(world: _World, connection: Connection) -> None:
    post = world.pick(world.posts(connection, PostStatus.PUBLISHED))
    if post is not None:
        change = archive_post if world.rng.random() < 0.3 else unpublish_post
        change(connection, world.call(), post.id)


def _touch_tag(world: _World, connection: Connection) -> None:
    slug = world.pick(TAGS)
    if world.rng.random() < 0.5:
        tag_actions.change_tag(connection, world.call(), slug, f"{slug} {world.serial}", None)
    else:
        tag_actions.change_tag(connection, world.call(), slug, None, f"Now {world.serial}")
    world.serial += 1


def _touch_staff(world: _World, connection: Connection) -> None:
    slug = world.pick(STAFF)
    world.serial += 1
    changes = [
        staff_actions.StaffChanges(name=f"{slug.title()} {world.serial}"),
        staff_actions.StaffChanges(role_title=f"Title {world.serial}"),
        staff_actions.StaffChanges(bio=f"Bio {world.serial}"),
        staff_actions.StaffChanges(active=world.rng.random() < 0.5),
        staff_actions.StaffChanges(kind=world.rng.choice(list(StaffKind))),
    ]
    staff_actions.change_staff(connection, world.call(), slug, world.pick(changes))


def _touch_settings(world: _World, connection: Connection) -> None:
    world.serial += 1
    changes = [
        {"title": f"Site {world.serial}"},
        {"kicker": f"Kicker {world.serial}"},
        {"intro": f"Intro {world.serial}"},
        {"page_size": world.rng.choice([2, 3, 4])},
        {"timezone": world.rng.choice(["UTC", "Pacific/Kiritimati", "America/Adak"])},
        {"headline": None},
        {"mark_agents": world.rng.random() < 0.5},
        {"theme_color": world.rng.choice(["#1d4fa3", "#0f766e"])},
        {
            "navigation": [
                {"text": "Home", "url": "/"},
                {"text": f"N{world.serial}", "url": "/tags/"},
            ]
        },
    ]
    update_site_settings(connection, world.call(), world.pick(changes))


CHANGES: list[tuple[float, Callable[[_World, Connection], None]]] = [
    (3, lambda world, connection: _new_post(world, connection)),
    (4, _edit_and_publish),
    (2, _take_down),
    (1, _touch_tag),
    (1, _touch_staff),
    (1, _touch_settings),
]


def _engine(url: str) -> Engine:
    from masthead.store.engine import open_engine

    return open_engine(url)


@pytest.mark.parametrize("seed", [20261203])
def test_the_pages_a_change_names_are_exactly_the_pages_whose_bytes_changed(
    database_url: str, database_kind: str, seed: int
) -> None:
    settings = settings_for(database_url, page_size=3)
    world = _World(_engine(database_url), settings, random.Random(seed))
    _setup(world)
    site = PublicSite(settings)
    changes = 60 if database_kind == "sqlite" else 50
    before = _render_all(site, world.engine, [])
    weights, actions = zip(*CHANGES, strict=True)
    for number in range(changes):
        with reading(world.engine) as connection:
            mark = event_store.latest_id(connection)
        action = world.rng.choices(actions, weights)[0]
        with writing(world.engine) as connection:
            action(world, connection)
        with reading(world.engine) as connection:
            new = event_store.events_after(connection, mark, limit=100)
        named = {url for event in new for url in expand(event.affected)}
        after = _render_all(site, world.engine, named | set(before))
        changed = {url for url in after if before.get(url) != after[url]}
        assert named == changed, (
            f"change {number} ({action.__name__}): named but unchanged "
            f"{sorted(named - changed)}, changed but not named {sorted(changed - named)}"
        )
        before = {url: answer for url, answer in after.items() if answer is not None}
    world.engine.dispose()
