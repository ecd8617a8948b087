"""URL slugs: lowercase ASCII words joined by hyphens."""

from __future__ import annotations

import re
from collections.abc import Container

from anyascii import anyascii

__all__ = ["MAX_SLUG_LENGTH", "is_valid_slug", "slugify", "unique_slug"]

MAX_SLUG_LENGTH = 80
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_VALID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(text: str, fallback: str = "post") -> str:
    """Transliterate `text` to ASCII and keep its words, lowercased and hyphenated."""
    words = _NOT_WORD.sub("-", anyascii(text).lower()).strip("-")
    if len(words) > MAX_SLUG_LENGTH:
        words = words[:MAX_SLUG_LENGTH].rsplit("-", 1)[0] or words[:MAX_SLUG_LENGTH]
    return words.strip("-") or fallback


def unique_slug(base: str, taken: Container[str]) -> str:
    """`base`, or `base-2`, `base-3` … : the first one not in `taken`."""
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


def is_valid_slug(value: str) -> bool:
    return len(value) <= MAX_SLUG_LENGTH and bool(_VALID.match(value))
