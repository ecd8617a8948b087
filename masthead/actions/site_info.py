"""The site as configured: defaults from the settings, changes an admin stored in the database.

The stored value wins, and every server process reads it per request, so a change shows
everywhere without a restart.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from masthead.settings import Settings
from masthead.site.pages import NavLink, SiteInfo
from masthead.site.presentation import PRESENTATION_DEFAULTS, presentation_defaults
from masthead.store.site_settings import load_overrides

__all__ = ["SITE_KEYS", "configured_site", "current_site", "default_values", "site_values"]

SITE_KEYS = (
    "title",
    "kicker",
    "headline",
    "intro",
    "page_size",
    "timezone",
    *PRESENTATION_DEFAULTS,
)
_SETTING_NAMES = {"page_size": "page_size", "timezone": "timezone"}


def default_values(settings: Settings) -> dict[str, Any]:
    """The site settings as configured, before any stored change."""
    configured = {
        key: getattr(settings, _SETTING_NAMES.get(key, f"site_{key}"))
        for key in SITE_KEYS
        if key not in PRESENTATION_DEFAULTS
    }
    return {**configured, **presentation_defaults()}


def site_values(connection: Connection, settings: Settings) -> dict[str, Any]:
    """Every site setting: the stored value if there is one, else the configured default."""
    stored = {key: value for key, value in load_overrides(connection).items() if key in SITE_KEYS}
    return {**default_values(settings), **stored}


def current_site(connection: Connection, settings: Settings) -> SiteInfo:
    return site_info(site_values(connection, settings), settings)


def configured_site(settings: Settings) -> SiteInfo:
    """The site as configured, before any stored change (for when the database is away)."""
    return site_info(default_values(settings), settings)


def site_info(values: dict[str, Any], settings: Settings) -> SiteInfo:
    return SiteInfo(
        title=values["title"],
        kicker=values["kicker"],
        headline=values["headline"],
        intro=values["intro"],
        public_url=settings.public_url,
        zone=ZoneInfo(values["timezone"]),
        page_size=values["page_size"],
        navigation=tuple(NavLink(item["text"], item["url"]) for item in values["navigation"]),
        mark_agents=bool(values["mark_agents"]),
        theme_color=values["theme_color"],
    )
