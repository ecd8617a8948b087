"""Dates as the site shows them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

__all__ = ["as_utc", "card_date", "parse_moment", "parse_publish_date"]

ZONE_EXAMPLE = "2026-01-01T00:00:00Z"


def as_utc(moment: datetime) -> datetime:
    """A timezone-aware UTC datetime; naive values are taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def card_date(moment: datetime, zone: ZoneInfo) -> str:
    """`Mon D, YYYY` in the site's time zone, e.g. `Mar 7, 2026`."""
    local = as_utc(moment).astimezone(zone)
    return f"{local:%b} {local.day}, {local.year}"


def parse_publish_date(value: object) -> datetime:
    """A front-matter date: a date (midnight UTC) or an ISO 8601 datetime."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return parse_publish_date(date.fromisoformat(text))
            return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass
    raise ValueError(f"not a date or ISO 8601 datetime: {value!r}")


def parse_moment(text: str) -> datetime:
    """A moment an operator types: a date (midnight UTC), or an ISO 8601 time that names
    its zone (`Z` or an offset). A time without a zone is refused, as the API refuses it."""
    value = text.strip()
    try:
        if len(value) == 10:
            return parse_publish_date(date.fromisoformat(value))
        moment = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date or an ISO 8601 time, e.g. 2026-01-01 or {ZONE_EXAMPLE}"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone: give one, e.g. {ZONE_EXAMPLE}")
    return moment.astimezone(UTC)
