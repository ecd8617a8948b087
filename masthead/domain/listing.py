"""Listing pages: which slice of posts a page shows, and the line that counts them."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "PageOutOfRange",
    "PageWindow",
    "author_count_line",
    "paginate",
    "search_count_line",
    "tag_count_line",
]


class PageOutOfRange(ValueError):
    """A page number below one or past the last page."""


@dataclass(frozen=True)
class PageWindow:
    number: int
    total_pages: int
    total_items: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.total_pages


def paginate(total_items: int, number: int, per_page: int) -> PageWindow:
    """The window of page `number`; an empty listing still has its page one."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    total_pages = max(1, -(-total_items // per_page))
    if not 1 <= number <= total_pages:
        raise PageOutOfRange(number)
    return PageWindow(number, total_pages, total_items, per_page)


def _posts(count: int) -> str:
    return f"{count} post" if count == 1 else f"{count} posts"


def tag_count_line(count: int, tag_name: str) -> str:
    return f"{_posts(count)} found in {tag_name}"


def author_count_line(count: int, author_name: str) -> str:
    return f"{_posts(count)} by {author_name}"


def search_count_line(count: int, query_text: str) -> str:
    return f"{_posts(count)} found for “{query_text}”"
