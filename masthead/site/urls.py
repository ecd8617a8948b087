"""The public URLs, spelled once: the page table routes these patterns, pages link with
these functions, and the change map names pages with them."""

from __future__ import annotations

import re
from urllib.parse import urlencode

__all__ = [
    "AUTHOR",
    "AUTHOR_FEED",
    "AUTHOR_PAGE",
    "FAVICON",
    "FEED",
    "INDEX",
    "INDEX_PAGE",
    "LLMS",
    "LLMS_FULL",
    "MANIFEST",
    "NOT_FOUND",
    "PAGED",
    "POST",
    "POST_MARKDOWN",
    "ROBOTS",
    "SEARCH",
    "SITEMAP",
    "STYLESHEET",
    "TAG",
    "TAGS",
    "TAG_FEED",
    "TAG_PAGE",
    "author_feed_url",
    "author_url",
    "fill",
    "index_url",
    "listing_page_url",
    "post_markdown_url",
    "post_url",
    "search_url",
    "tag_feed_url",
    "tag_url",
]

PAGED = "page/{number:int}/"  # page N (from 2) of a listing, under its first page's URL
INDEX = "/"
INDEX_PAGE = INDEX + PAGED
TAG = "/tag/{slug}/"
TAG_PAGE = TAG + PAGED
TAG_FEED = "/tag/{slug}/feed.xml"
AUTHOR = "/author/{slug}/"
AUTHOR_PAGE = AUTHOR + PAGED
AUTHOR_FEED = "/author/{slug}/feed.xml"
POST = "/posts/{slug}/"
FEED = "/feed.xml"
SITEMAP = "/sitemap.xml"
ROBOTS = "/robots.txt"
NOT_FOUND = "/404.html"
STYLESHEET = "/static/site.css"
SEARCH = "/search"  # dynamic: `?q=WORDS`, and `&page=N` from page 2
# Found by readers, crawlers and models (issue 16).
TAGS = "/tags/"
POST_MARKDOWN = "/posts/{slug}.md"
LLMS = "/llms.txt"
LLMS_FULL = "/llms-full.txt"
MANIFEST = "/manifest.webmanifest"
FAVICON = "/favicon.svg"

_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


def fill(pattern: str, **values: object) -> str:
    """The path `pattern` names for these values: `fill(TAG, slug="ops")` is `/tag/ops/`."""
    return _PARAMETER.sub(lambda match: str(values[match.group(1)]), pattern)


def listing_page_url(first_page: str, number: int) -> str:
    """Page `number` of the listing whose first page is at `first_page`."""
    return first_page if number == 1 else fill(first_page + PAGED, number=number)


def index_url(page: int = 1) -> str:
    return listing_page_url(INDEX, page)


def tag_url(slug: str, page: int = 1) -> str:
    return listing_page_url(fill(TAG, slug=slug), page)


def author_url(slug: str, page: int = 1) -> str:
    return listing_page_url(fill(AUTHOR, slug=slug), page)


def post_url(slug: str) -> str:
    return fill(POST, slug=slug)


def post_markdown_url(slug: str) -> str:
    return fill(POST_MARKDOWN, slug=slug)


def tag_feed_url(slug: str) -> str:
    return fill(TAG_FEED, slug=slug)


def author_feed_url(slug: str) -> str:
    return fill(AUTHOR_FEED, slug=slug)


def search_url(text: str, page: int = 1) -> str:
    """Page `page` of the search for `text`."""
    query = {"q": text} if page == 1 else {"q": text, "page": page}
    return f"{SEARCH}?{urlencode(query)}"
