"""The site settings that shape every page's frame, with no infrastructure default.

`navigation` is the header's short list of links, `mark_agents` whether an author of
kind agent carries the visible "agent" marker, `theme_color` the colour of the favicon
and the web manifest. Their defaults are built in; an admin changes them like any
other site setting.
"""

from __future__ import annotations

import re
from typing import Any

from masthead.site import urls

__all__ = [
    "MAX_NAV_LINKS",
    "PRESENTATION_DEFAULTS",
    "presentation_defaults",
    "presentation_problem",
]

MAX_NAV_LINKS = 8
MAX_NAV_TEXT = 40
MAX_NAV_URL = 300

PRESENTATION_DEFAULTS: dict[str, Any] = {
    "navigation": (
        {"text": "Home", "url": urls.INDEX},
        {"text": "Tags", "url": urls.TAGS},
        {"text": "Feed", "url": urls.FEED},
    ),
    "mark_agents": True,
    "theme_color": "#1d4fa3",
}

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ADDRESS = re.compile(r"^(/(?!/)|https?://)[^\s<>\"']*$")


def presentation_defaults() -> dict[str, Any]:
    """A fresh copy of the defaults (lists, as JSON gives them back)."""
    return {
        "navigation": [dict(link) for link in PRESENTATION_DEFAULTS["navigation"]],
        "mark_agents": PRESENTATION_DEFAULTS["mark_agents"],
        "theme_color": PRESENTATION_DEFAULTS["theme_color"],
    }


def presentation_problem(key: str, value: Any) -> str | None:
    """Why `value` cannot be stored for `key` (one of PRESENTATION_DEFAULTS), or None."""
    if key == "mark_agents":
        return None if isinstance(value, bool) else "true or false"
    if key == "theme_color":
        ok = isinstance(value, str) and _COLOR.match(value)
        return None if ok else "a colour as #rrggbb"
    return _navigation_problem(value)


def _navigation_problem(value: Any) -> str | None:
    wanted = (
        f"a list of at most {MAX_NAV_LINKS} links, each {{text, url}}: text of at most "
        f"{MAX_NAV_TEXT} characters, a path from / or an http(s) URL"
    )
    if not isinstance(value, list) or len(value) > MAX_NAV_LINKS:
        return wanted
    return None if all(_good_link(item) for item in value) else wanted


def _good_link(item: Any) -> bool:
    if not isinstance(item, dict) or set(item) != {"text", "url"}:
        return False
    text, url = item["text"], item["url"]
    return (
        isinstance(text, str)
        and 0 < len(text.strip()) <= MAX_NAV_TEXT
        and isinstance(url, str)
        and len(url) <= MAX_NAV_URL
        and _ADDRESS.match(url) is not None
    )
