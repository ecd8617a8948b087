"""A miss: any listing page renders with the same few statements, however many posts the
site has and however deep the page is (no statement per card)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event

from masthead.actions import staff as staff_actions
from masthead.actions import tags as tag_actions
from masthead.actions.drafts import PostFields, create_post
from masthead.actions.public_site import PublicSite
from masthead.actions.publishing import publish_post
from masthead.domain.staff import StaffKind, StaffMember, Tag
from masthead.settings import Settings
from masthead.store.engine import open_engine, reading, writing
from tests.conftest import settings_for
from tests.operators import call_as

MOST_STATEMENTS = 8
LISTINGS = {
    "index first": ("index", {}),
    "index deep": ("index_page", {"number": 7}),
    "tag first": ("tag", {"slug": "ops"}),
    "tag last": ("tag_page", {"slug": "ops", "number": 5}),
    "author": ("author_page", {"slug": "ada", "number": 3}),
}


def _add_posts(engine: Engine, settings: Settings, first: int, count: int) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=first)
    with writing(engine) as connection:
        for number in range(first, first + count):
            at += timedelta(hours=5)
            call = call_as(at=at, settings=settings)
            fields = PostFields(
                title=f"Post {number}",
                slug=f"post-{number}",
                body=f"Words of post {number}, enough of them to read. " * 12,
                tags=("ops", "api") if number % 2 else ("ops",),
                authors=("ada", "bo") if number % 3 else ("ada",),
            )
            publish_post(connection, call, create_post(connection, call, fields).id)


@pytest.fixture
def site(database_url: str) -> Iterator[tuple[Engine, Settings]]:
    engine = open_engine(database_url)
    settings = settings_for(database_url, page_size=3)
    with writing(engine) as connection:
        call = call_as(settings=settings)
        for slug in ("ops", "api"):
            tag_actions.add_tag(connection, call, Tag(slug, slug.title(), f"On {slug}"))
        for slug in ("ada", "bo"):
            member = StaffMember(slug, slug.title(), "Engineer", "Platform", StaffKind.PERSON)
            staff_actions.add_staff(connection, call, member)
    _add_posts(engine, settings, 0, 24)
    yield engine, settings
    engine.dispose()


def _statements(engine: Engine, settings: Settings) -> dict[str, int]:
    site = PublicSite(settings)
    counts: dict[str, int] = {}
    for name, (kind, params) in LISTINGS.items():
        seen: list[str] = []

        def count(*args: object, into: list[str] = seen) -> None:
            into.append(str(args[2]))

        with reading(engine) as connection:
            event.listen(engine, "before_cursor_execute", count)
            try:
                site.answer(connection, kind, params)
            finally:
                event.remove(engine, "before_cursor_execute", count)
        counts[name] = len(seen)
    return counts


def test_every_listing_page_takes_the_same_few_statements_at_any_size(
    site: tuple[Engine, Settings],
) -> None:
    engine, settings = site
    small = _statements(engine, settings)
    _add_posts(engine, settings, 100, 24)  # twice the posts: deeper pages, more cards before
    large = _statements(engine, settings)
    assert large == small, (small, large)
    assert max(large.values()) <= MOST_STATEMENTS, large
    assert len(set(large.values())) <= 2, large  # a first page and a later page alike
