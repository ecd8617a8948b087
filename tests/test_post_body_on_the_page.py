"""A body cannot take over the page around it: its ids and elements, as a reader gets them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from selectolax.lexbor import LexborHTMLParser

from masthead.store.engine import open_engine
from tests.conftest import LiveServer, settings_for
from tests.databases import DatabaseFactory
from tests.operators import import_into

BODY = """\
# Site main

## site-main

<h2 id="site-main">A raw heading</h2>

<p id="site-main">A raw paragraph with the page's id.</p>

- [x] rotated
- [ ] verified

<input type="text" name="q"> <input type="checkbox" checked> <input type="hidden" name="t">
"""


@pytest.fixture(scope="module")
def post_page(
    database_factories: dict[str, DatabaseFactory], tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The public page of a post holding BODY, on the demo site (SQLite)."""
    factory = database_factories["sqlite"]
    url = factory.new("demo")
    folder = tmp_path_factory.mktemp("post")
    (folder / "ids.md").write_text(
        "---\ntitle: Ids\nslug: ids\ntags: [operations]\nauthor: ledger\n"
        f"date: 2026-11-25T08:00:00Z\n---\n\n{BODY}",
        encoding="utf-8",
    )
    engine = open_engine(url)
    try:
        import_into(engine, folder, at=datetime(2026, 11, 25, 8, tzinfo=UTC))
        with LiveServer(settings_for(url)) as server, server.client() as client:
            response = client.get("/posts/ids/")
    finally:
        engine.dispose()
        factory.drop(url)
    assert response.status_code == 200
    return response.text


def test_the_skip_link_target_stays_the_pages_own(post_page: str) -> None:
    tree = LexborHTMLParser(post_page)
    ids = Counter(node.attributes.get("id") for node in tree.css("[id]"))
    assert [node.tag for node in tree.css("#site-main")] == ["main"]
    assert max(ids.values()) == 1, f"an id is used twice: {ids}"
    headings = [node.attributes.get("id") for node in tree.css(".post-body h1, .post-body h2")]
    assert headings == ["h-site-main", "h-site-main-2", "h-a-raw-heading"]


def test_no_input_reaches_the_page_and_tasks_still_show(post_page: str) -> None:
    tree = LexborHTMLParser(post_page)
    assert tree.css(".post-body input") == []
    fields = [node.attributes.get("id") for node in tree.css("input")]
    assert fields == ["site-search-q"]  # the header's search form, the page's own
    markers = [node.attributes.get("aria-label") for node in tree.css(".post-body span.task")]
    assert markers == ["done", "not done"]
