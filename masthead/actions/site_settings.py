"""Site settings: defaults from the configuration, changes by an admin stored in the database.

The stored value wins, and every server process reads it per request, so a change shows
everywhere without a restart.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection

from masthead.actions.auth import require_admin
from masthead.actions.context import Call, record_audit
from masthead.errors import FieldProblem, InvalidInput
from masthead.settings import Settings
from masthead.site.pages import SiteInfo
from masthead.store.site_settings import load_overrides, save_overrides

__all__ = [
    "SITE_KEYS",
    "configured_site",
    "current_site",
    "site_values",
    "update_site_settings",
]

SITE_KEYS = ("title", "kicker", "headline", "intro", "page_size", "timezone")
MAX_TEXT = 300
_SETTING_NAMES = {"page_size": "page_size", "timezone": "timezone"}


def site_values(connection: Connection, settings: Settings) -> dict[str, Any]:
    """Every site setting: the stored value if there is one, else the configured default."""
    stored = {key: value for key, value in load_overrides(connection).items() if key in SITE_KEYS}
    return {**_defaults(settings), **stored}


def _defaults(settings: Settings) -> dict[str, Any]:
    return {key: getattr(settings, _SETTING_NAMES.get(key, f"site_{key}")) for key in SITE_KEYS}


def current_site(connection: Connection, settings: Settings) -> SiteInfo:
    return _site_info(site_values(connection, settings), settings)


def configured_site(settings: Settings) -> SiteInfo:
    """The site as configured, before any stored change (for when the database is away)."""
    return _site_info(_defaults(settings), settings)


def _site_info(values: dict[str, Any], settings: Settings) -> SiteInfo:
    return SiteInfo(
        title=values["title"],
        kicker=values["kicker"],
        headline=values["headline"],
        intro=values["intro"],
        public_url=settings.public_url,
        zone=ZoneInfo(values["timezone"]),
        page_size=values["page_size"],
    )


def _problems(changes: dict[str, Any]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for key, value in changes.items():
        if key not in SITE_KEYS:
            problems.append(FieldProblem(key, "not a site setting", "unknown_field"))
        elif key == "page_size":
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
                problems.append(FieldProblem(key, "a whole number from 1 to 100", "out_of_range"))
        elif not isinstance(value, str) or len(value) > MAX_TEXT:
            problems.append(FieldProblem(key, f"text of at most {MAX_TEXT} characters", "invalid"))
        elif key == "timezone" and not _known_zone(value):
            problems.append(FieldProblem(key, f"unknown time zone {value!r}", "invalid"))
        elif key == "title" and not value.strip():
            problems.append(FieldProblem(key, "the site needs a title", "required"))
    return problems


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def update_site_settings(
    connection: Connection, call: Call, settings: Settings, changes: dict[str, Any]
) -> dict[str, Any]:
    require_admin(call.actor)
    problems = _problems(changes)
    if problems:
        raise InvalidInput(problems)
    save_overrides(connection, changes, call.at)
    record_audit(connection, call, "settings.change", "settings", "site", **changes)
    return site_values(connection, settings)
