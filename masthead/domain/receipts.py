"""Publish receipts: what a publish (or unpublish, or archive) did, and what the live site
showed when it was checked, attempt by attempt, until it was verified or the window ran out.

A receipt is `pending` from the moment the row flipped, then `verified` (every check of
one attempt passed), `unverified` (the window ended with a check still failing), or
`blocked` (a scheduled publish whose gates blocked at its time: nothing went live).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from masthead.domain.retry import Backoff

__all__ = [
    "Attempt",
    "Check",
    "NewReceipt",
    "Receipt",
    "ReceiptAction",
    "ReceiptState",
    "next_attempt",
]


class ReceiptAction(StrEnum):
    PUBLISH = "publish"
    UNPUBLISH = "unpublish"
    ARCHIVE = "archive"


class ReceiptState(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    UNVERIFIED = "unverified"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Check:
    """One thing verified on the live site: `name` is `status`, `title`, `canonical`,
    `revision`, `index`, `tag:SLUG`, `author:SLUG`, `feed` or `sitemap`."""

    name: str
    ok: bool
    url: str
    status: int | None  # the HTTP status seen; None when nothing answered
    duration_ms: float
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "url": self.url,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 1),
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Check:
        return cls(
            data["name"],
            data["ok"],
            data["url"],
            data["status"],
            data["duration_ms"],
            data["detail"],
        )


@dataclass(frozen=True)
class Attempt:
    number: int
    at: datetime
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "at": self.at.isoformat(),
            "ok": self.ok,
            "checks": [check.as_dict() for check in self.checks],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attempt:
        return cls(
            data["number"],
            datetime.fromisoformat(data["at"]),
            tuple(Check.from_dict(item) for item in data["checks"]),
        )


@dataclass(frozen=True)
class NewReceipt:
    """A receipt as the publish transaction writes it."""

    post_id: int
    revision: int
    action: ReceiptAction
    state: ReceiptState
    actor: str
    actor_kind: str  # "person", "agent", or "operator" / "worker"
    token_id: int | None
    approval: Mapping[str, Any] | None
    gates: Sequence[Mapping[str, Any]]
    flipped_at: datetime
    pages: Sequence[str]
    expect: Mapping[str, Any]
    """What verification looks for: the slug, title, revision, and where the post stands
    (or stood) in each listing."""


@dataclass(frozen=True)
class Receipt:
    id: int
    post_id: int
    revision: int
    action: ReceiptAction
    state: ReceiptState
    actor: str
    actor_kind: str
    token_id: int | None
    approval: Mapping[str, Any] | None
    gates: tuple[Mapping[str, Any], ...]
    flipped_at: datetime
    pages: tuple[str, ...]
    expect: Mapping[str, Any]
    attempts: tuple[Attempt, ...] = field(default=())
    verified_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def checks(self) -> tuple[Check, ...]:
        """The latest attempt's checks."""
        return self.attempts[-1].checks if self.attempts else ()

    @property
    def seconds_to_verified(self) -> float | None:
        if self.verified_at is None:
            return None
        return round((self.verified_at - self.flipped_at).total_seconds(), 3)


def next_attempt(
    flipped_at: datetime, attempts: int, now: datetime, *, window: timedelta, backoff: Backoff
) -> datetime | None:
    """When to check again after `attempts` failed attempts; None once the window is over.

    The last attempt falls at the window's end. No jitter: the lag of a CDN or a static
    build is not a crowd to spread out.
    """
    deadline = flipped_at + window
    if now >= deadline:
        return None
    return min(now + timedelta(seconds=backoff.ceiling(attempts)), deadline)
