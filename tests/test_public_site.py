"""Every public URL, over real HTTP, on SQLite and on PostgreSQL, with the demo content."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import feedparser
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from tests.conftest import LiveServer

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
