"""A public page as the faces serve it: the bytes of a page, or a redirect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Page", "Redirect"]


@dataclass(frozen=True)
class Page:
    body: str
    media_type: str
    last_modified: datetime | None = None
    found: bool = True
    """False for the "not found" page: served for any unknown address."""
    immutable: bool = False
    """Its address changes whenever its content does (the stylesheet's `?v=`)."""


@dataclass(frozen=True)
class Redirect:
    """The page lives at `location` (for good: a 301)."""

    location: str
