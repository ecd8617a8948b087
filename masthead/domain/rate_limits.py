"""Rate limits as token buckets: a bucket holds up to a minute's allowance and refills
steadily; each call takes one unit. Pure: the time is a parameter (seconds, any clock
that never goes back)."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Allowance", "Bucket", "Rate", "peek", "take"]


@dataclass(frozen=True)
class Rate:
    per_minute: int

    @property
    def per_second(self) -> float:
        return self.per_minute / 60


@dataclass(frozen=True)
class Bucket:
    level: float
    """Units left when last measured."""
    at: float
    """When it was measured."""


@dataclass(frozen=True)
class Allowance:
    """What a caller is told: the limit, what is left, and when to come back."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    """Seconds until the bucket is full again."""
    retry_after: int
    """Seconds until the next unit (0 while some are left)."""


def _level(bucket: Bucket | None, rate: Rate, now: float) -> float:
    if bucket is None:
        return float(rate.per_minute)
    refilled = bucket.level + max(0.0, now - bucket.at) * rate.per_second
    return min(float(rate.per_minute), refilled)


def _allowance(level: float, rate: Rate, *, allowed: bool) -> Allowance:
    missing = rate.per_minute - level
    wait = 0 if level >= 1 else max(1, math.ceil((1 - level) / rate.per_second))
    return Allowance(
        allowed=allowed,
        limit=rate.per_minute,
        remaining=math.floor(level),
        reset=math.ceil(missing / rate.per_second) if missing > 0 else 0,
        retry_after=wait,
    )


def peek(bucket: Bucket | None, rate: Rate, now: float) -> Allowance:
    """Whether a unit is left, taking none."""
    level = _level(bucket, rate, now)
    return _allowance(level, rate, allowed=level >= 1)


def take(bucket: Bucket | None, rate: Rate, now: float) -> tuple[Bucket, Allowance]:
    """Take one unit if one is left: the bucket after, and the allowance to report."""
    level = _level(bucket, rate, now)
    if level < 1:
        return Bucket(level, now), _allowance(level, rate, allowed=False)
    return Bucket(level - 1, now), _allowance(level - 1, rate, allowed=True)
