"""Old paths: the address part of a URL an imported site used to answer at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

__all__ = ["MAX_OLD_PATH", "PathRedirect", "old_path"]


@dataclass(frozen=True)
class PathRedirect:
    """An old path, the post it leads to, and that post's URL."""

    old_path: str
    slug: str
    location: str
    created_at: datetime


MAX_OLD_PATH = 500


def old_path(text: str) -> str:
    """The path of an old address, as it was written (capitals kept, percent escapes
    decoded, as a request's path is): `/2013/05/x/`, `x.html` → `/x.html`,
    `https://old.example/a/b` → `/a/b`. Raises ValueError."""
    value = text.strip()
    if not value:
        raise ValueError("an old path must not be empty")
    if "://" in value or value.startswith("//"):
        value = urlsplit(value).path or "/"
    value = unquote(value.split("#", 1)[0].split("?", 1)[0])
    if not value.startswith("/"):
        value = "/" + value
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise ValueError(f"an old path must not hold control characters: {text!r}")
    if len(value) > MAX_OLD_PATH:
        raise ValueError(f"an old path is longer than {MAX_OLD_PATH} characters")
    if value == "/":
        raise ValueError("the home page '/' cannot be an old path")
    return value
