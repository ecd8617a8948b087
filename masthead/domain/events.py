"""Lifecycle events: what changed on the site, written in the same transaction as the change.

Each event names its subject, who did it and when, the facts a consumer needs that the
change itself erases (the old slug, the tags before …), and the public pages it
affected. Consumers (caches, static builds, webhooks) read them in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "AffectedPages",
    "Event",
    "EventType",
    "NewEvent",
    "PageRange",
]


class EventType(StrEnum):
    """The closed list of event types, named as webhooks will name them."""

    POST_PUBLISHED = "post.published"
    POST_UPDATED = "post.updated"  # a newer revision of a live post went live
    POST_UNPUBLISHED = "post.unpublished"
    POST_ARCHIVED = "post.archived"
    POST_SCHEDULED = "post.scheduled"
    POST_UNSCHEDULED = "post.unscheduled"
    TAG_CHANGED = "tag.changed"
    STAFF_CHANGED = "staff.changed"
    SETTINGS_CHANGED = "settings.changed"
    PUBLISH_VERIFIED = "publish.verified"  # written by verified publishing (still to come)
    PUBLISH_UNVERIFIED = "publish.unverified"  # likewise
    TASK_FAILED = "task.failed"


@dataclass(frozen=True, order=True)
class PageRange:
    """Pages `first`…`last` of one listing, named by the URL of its first page."""

    listing: str
    first: int
    last: int


@dataclass(frozen=True)
class AffectedPages:
    """The public pages a change affected: single paths, and runs of listing pages.

    A new post shifts every page of the index; runs keep that to one entry however
    many pages the listing has. `masthead.site.pagetable.expand` lists the URLs.
    """

    paths: tuple[str, ...] = ()
    ranges: tuple[PageRange, ...] = ()

    @classmethod
    def of(cls, paths: Iterable[str], pages: Mapping[str, Iterable[int]]) -> AffectedPages:
        """From single paths, and page numbers per listing (folded into runs)."""
        ranges = [
            PageRange(listing, first, last)
            for listing, numbers in pages.items()
            for first, last in _runs(sorted(set(numbers)))
        ]
        return cls(tuple(sorted(set(paths))), tuple(sorted(ranges)))

    def __bool__(self) -> bool:
        return bool(self.paths or self.ranges)

    @classmethod
    def union(cls, changes: Iterable[AffectedPages]) -> AffectedPages:
        """The pages of all these changes; overlapping or touching runs of one listing
        become one run (however many changes shifted every page of the index)."""
        paths: set[str] = set()
        runs: dict[str, list[tuple[int, int]]] = {}
        for change in changes:
            paths.update(change.paths)
            for run in change.ranges:
                runs.setdefault(run.listing, []).append((run.first, run.last))
        ranges = [
            PageRange(listing, first, last)
            for listing, found in runs.items()
            for first, last in _merged(found)
        ]
        return cls(tuple(sorted(paths)), tuple(sorted(ranges)))

    def as_json(self) -> dict[str, Any]:
        return {
            "paths": list(self.paths),
            "pages": [
                {"listing": run.listing, "first": run.first, "last": run.last}
                for run in self.ranges
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AffectedPages:
        return cls(
            tuple(data.get("paths", ())),
            tuple(
                PageRange(item["listing"], item["first"], item["last"])
                for item in data.get("pages", ())
            ),
        )


def _runs(numbers: list[int]) -> Iterable[tuple[int, int]]:
    start = previous = None
    for number in numbers:
        if start is None:
            start = previous = number
        elif previous is not None and number == previous + 1:
            previous = number
        else:
            assert previous is not None
            yield start, previous
            start = previous = number
    if start is not None and previous is not None:
        yield start, previous


def _merged(runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Runs that overlap or touch, joined into one."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(runs):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class NewEvent:
    """An event as a use case records it; the event point adds who, when and the id."""

    type: EventType
    subject_type: str  # "post", "tag", "staff", "settings", "task"
    subject_id: str
    revision: int | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    affected: AffectedPages = AffectedPages()


@dataclass(frozen=True)
class Event:
    id: int
    type: EventType
    subject_type: str
    subject_id: str
    revision: int | None
    actor: str
    source: str
    at: datetime
    request_id: str | None
    facts: Mapping[str, Any]
    affected: AffectedPages

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type.value,
            "subject": {"type": self.subject_type, "id": self.subject_id},
            "revision": self.revision,
            "actor": self.actor,
            "source": self.source,
            "at": self.at.isoformat(),
            "request_id": self.request_id,
            "facts": dict(self.facts),
            "affected": self.affected.as_json(),
        }
