"""The public URLs, in one place: every page links through these."""

from __future__ import annotations

__all__ = [
    "author_feed_url",
    "author_url",
    "index_url",
    "post_url",
    "tag_feed_url",
    "tag_url",
]


def _paged(base: str, page: int) -> str:
    return base if page == 1 else f"{base}page/{page}/"


def index_url(page: int = 1) -> str:
    return _paged("/", page)


def tag_url(slug: str, page: int = 1) -> str:
    return _paged(f"/tag/{slug}/", page)


def author_url(slug: str, page: int = 1) -> str:
    return _paged(f"/author/{slug}/", page)


def post_url(slug: str) -> str:
    return f"/posts/{slug}/"


def tag_feed_url(slug: str) -> str:
    return f"/tag/{slug}/feed.xml"


def author_feed_url(slug: str) -> str:
    return f"/author/{slug}/feed.xml"
