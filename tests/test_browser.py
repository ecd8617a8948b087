"""The public site in a real browser: layout at desktop and phone widths, axe-core, keyboard.

Runs the system Chromium (Debian's `chromium`, installed by `make browser-deps`) through
Playwright, against a live server over a fresh SQLite demo database. axe-core comes from
npm (tests/browser). Without either, the module skips; with CI=true it fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, FloatRect, Page, ViewportSize, sync_playwright

from masthead.store.approvals import add_approval
from masthead.store.engine import open_engine, writing
from masthead.store.public import find_published
from masthead.store.staff import staff_ids
from tests.conftest import LiveServer, settings_for
from tests.databases import DatabaseFactory

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

VIEWPORTS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 375, "height": 812},
}

INDEX = "/"
TAG = "/tag/operations/"
# A demo post with both fenced code blocks and a table: the widest content on the site.
POST = "/posts/runbooks-are-scripts/"
SEARCH = "/search?q=edge+secret"  # results with marked words, and the header's form
PAGES = {"index": INDEX, "tag": TAG, "post": POST, "search": SEARCH, "tags": "/tags/"}
# A demo post by an agent (Ledger); the site fixture adds a person's approval of it.
AGENT_POST = "/posts/writing-drafts-through-the-api-as-an-agent/"
REVIEWER = "ines-carvalho"
CARDS_PER_PAGE = 9


def _missing(what: str) -> None:
    message = f"{what}; run `make browser-deps` to install it"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message + " (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        _missing(f"no system Chromium at {CHROMIUM}")
    if not AXE.exists():
        _missing(f"no axe-core at {AXE}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(browser: Browser, database_factories: dict[str, DatabaseFactory]) -> Iterator[LiveServer]:
    factory = database_factories["sqlite"]
    url = factory.new("demo")
    _review(url, AGENT_POST.split("/")[2], REVIEWER)
    with LiveServer(settings_for(url)) as server:
        yield server
    factory.drop(url)


def _review(url: str, slug: str, reviewer: str) -> None:
    """Record a person's approval of the live revision of a post, from before it went live."""
    engine = open_engine(url)
    with writing(engine) as connection:
        post = find_published(connection, slug)
        assert post is not None
        member = staff_ids(connection, [reviewer])[reviewer]
        at = post.updated_at - timedelta(minutes=5)
        add_approval(connection, post.id, post.revision, member, None, at)
    engine.dispose()


@contextmanager
def _open(
    browser: Browser, site: LiveServer, path: str, viewport: str, *, bypass_csp: bool = False
) -> Iterator[Page]:
    """A fresh browser context at the named viewport, with `path` loaded.

    The site's own policy holds unless `bypass_csp` (for the test's own script, axe-core).
    """
    context = browser.new_context(viewport=VIEWPORTS[viewport], bypass_csp=bypass_csp)
    try:
        page = context.new_page()
        response = page.goto(site.url + path, wait_until="load")
        assert response is not None
        assert response.status == 200, f"{path} answered {response.status}"
        yield page
    finally:
        context.close()


@pytest.fixture
def desktop_tag(browser: Browser, site: LiveServer) -> Iterator[Page]:
    with _open(browser, site, TAG, "desktop") as page:
        yield page


@pytest.fixture
def phone_tag(browser: Browser, site: LiveServer) -> Iterator[Page]:
    with _open(browser, site, TAG, "phone") as page:
        yield page


def _card_boxes(page: Page) -> list[FloatRect]:
    boxes = []
    for card in page.locator("li.card").all():
        box = card.bounding_box()
        assert box is not None, "a card is not rendered"
        boxes.append(box)
    return boxes


def test_tag_page_is_a_grid_on_desktop(desktop_tag: Page) -> None:
    boxes = _card_boxes(desktop_tag)
    assert len(boxes) == CARDS_PER_PAGE
    first_row = [box for box in boxes if abs(box["y"] - boxes[0]["y"]) < 1]
    assert len(first_row) >= 3, f"only {len(first_row)} card(s) in the first row: {boxes}"
    xs = [box["x"] for box in first_row]
    assert xs == sorted(xs), "the first row is not laid out left to right"


def test_tag_page_is_one_column_on_a_phone(phone_tag: Page) -> None:
    boxes = _card_boxes(phone_tag)
    assert len(boxes) == CARDS_PER_PAGE
    assert {round(box["x"]) for box in boxes} == {round(boxes[0]["x"])}, boxes
    for above, below in pairwise(boxes):
        assert below["y"] >= above["y"] + above["height"], f"cards overlap: {above} {below}"
    width = phone_tag.evaluate("document.documentElement.clientWidth")
    assert boxes[0]["x"] >= 0
    assert boxes[0]["x"] + boxes[0]["width"] <= width


@pytest.mark.parametrize("name", PAGES)
def test_no_horizontal_scrolling_on_a_phone(browser: Browser, site: LiveServer, name: str) -> None:
    with _open(browser, site, PAGES[name], "phone") as page:
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll <= client, f"{PAGES[name]} scrolls sideways: {scroll}px in {client}px"


@pytest.mark.parametrize("name", PAGES)
def test_the_security_policy_blocks_nothing_the_page_needs(
    browser: Browser, site: LiveServer, name: str
) -> None:
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    try:
        page = context.new_page()
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text))
        failed: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        response = page.goto(site.url + PAGES[name], wait_until="load")
        assert response is not None
        assert "script-src 'none'" in response.headers["content-security-policy"]
        sheets = page.evaluate("document.styleSheets.length")
        styled = page.evaluate("getComputedStyle(document.body).margin")
    finally:
        context.close()
    assert not [text for text in refused if "Content Security Policy" in text], refused
    assert not failed, failed
    assert sheets >= 1
    assert styled != "8px", "the stylesheet did not apply (8px is the browser's default)"


def _serious(violations: list[dict[str, Any]]) -> list[str]:
    return [
        f"{violation['id']} ({violation['impact']}): "
        + ", ".join(str(node["target"]) for node in violation["nodes"])
        for violation in violations
        if violation["impact"] in {"serious", "critical"}
    ]


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_nothing_serious(
    browser: Browser, site: LiveServer, name: str, viewport: str, artifacts_dir: Path
) -> None:
    with _open(browser, site, PAGES[name], viewport, bypass_csp=True) as page:
        page.screenshot(path=artifacts_dir / f"browser-{name}-{viewport}.png", full_page=True)
        page.add_script_tag(path=AXE)
        results = page.evaluate("async () => await axe.run()")
        found = _serious(results["violations"])
        assert not found, f"axe on {PAGES[name]} at {viewport} width:\n" + "\n".join(found)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_first_tab_focuses_a_visible_skip_link(
    browser: Browser, site: LiveServer, viewport: str
) -> None:
    with _open(browser, site, INDEX, viewport) as page:
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        assert focused.get_attribute("class") == "skip-link"
        assert focused.get_attribute("href") == "#site-main"
        box = focused.bounding_box()
        assert box is not None, "the focused skip link is not rendered"
        size = VIEWPORTS[viewport]
        assert box["x"] >= 0
        assert box["y"] >= 0
        assert box["x"] + box["width"] <= size["width"], box
        assert box["y"] + box["height"] <= size["height"], box


def _visible_inside(page: Page, selector: str, container: str) -> None:
    node = page.locator(selector).first
    assert node.count() == 1, f"no {selector}"
    assert node.is_visible(), f"{selector} is hidden"
    box, outer = node.bounding_box(), page.locator(container).first.bounding_box()
    assert box is not None
    assert outer is not None
    assert box["width"] > 0
    assert box["height"] > 0
    inside = page.evaluate(
        "([inner, outer]) => document.querySelector(outer).contains(document.querySelector(inner))",
        [selector, container],
    )
    assert inside, f"{selector} is not inside {container}"
    assert outer["x"] <= box["x"]
    assert box["x"] + box["width"] <= outer["x"] + outer["width"] + 1


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_agent_marker_and_the_reviewer_show_in_the_byline(
    browser: Browser, site: LiveServer, viewport: str
) -> None:
    with _open(browser, site, AGENT_POST, viewport) as page:
        byline = ".post-header .byline"
        _visible_inside(page, f"{byline} .agent-marker", byline)
        _visible_inside(page, f"{byline} .reviewer", byline)
        assert page.locator(f"{byline} .agent-marker").inner_text() == "agent"
        assert page.locator(f"{byline} .reviewer").inner_text() == "Reviewed by Inês Carvalho"
    with _open(browser, site, "/author/ledger/", viewport) as page:
        card = page.locator("li.card", has=page.locator(f'a[href="{AGENT_POST}"]'))
        marker = card.locator(".byline .agent-marker")
        assert marker.is_visible()
        assert marker.inner_text() == "agent"


def test_the_post_axe_checks_has_related_posts(browser: Browser, site: LiveServer) -> None:
    with _open(browser, site, POST, "desktop") as page:
        assert page.locator(".related li").count() >= 1
        assert page.locator(".author-box").count() >= 1
        assert page.locator(".post-nav a").count() >= 1


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("path", ["/tags/", POST, AGENT_POST])
def test_axe_finds_no_violation_on_the_tags_index_and_posts_with_related(
    browser: Browser, site: LiveServer, path: str, viewport: str
) -> None:
    with _open(browser, site, path, viewport, bypass_csp=True) as page:
        page.add_script_tag(path=AXE)
        results = page.evaluate("async () => await axe.run()")
    found = [
        f"{violation['id']} ({violation['impact']}): "
        + ", ".join(str(node["target"]) for node in violation["nodes"])
        for violation in results["violations"]
    ]
    assert not found, f"axe on {path} at {viewport} width:\n" + "\n".join(found)
