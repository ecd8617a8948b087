"""Rate limits on the internal side, shared by every face (the API now, the MCP server later).

Two allowances, each a token bucket (`masthead.domain.rate_limits`):

* per token: every call that presents a bearer token takes one unit from that token's
  bucket (`rate_limit_per_minute`), valid or not;
* per client address: every failed authentication takes one unit from the address's
  bucket (`rate_limit_address_per_minute`); once it is empty, every call from that
  address is refused until it refills, whatever token it carries.

The buckets live in this process's memory: each server process counts on its own, and
a restart forgets them. Tokens are known by their digest, never kept in clear. A limit
of 0 turns its allowance off.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from masthead.domain.rate_limits import Allowance, Bucket, Rate, peek, take
from masthead.domain.secrets import digest
from masthead.settings import Settings

__all__ = ["MAX_BUCKETS", "RateLimiter"]

MAX_BUCKETS = 100_000
"""Past this many, buckets that have refilled (and so say nothing) are forgotten."""


@dataclass(frozen=True)
class _Allowances:
    token: Rate | None
    address: Rate | None


class RateLimiter:
    """The buckets of one process; safe to use from several threads."""

    def __init__(self, settings: Settings) -> None:
        self.rates = _Allowances(
            token=_rate(settings.rate_limit_per_minute),
            address=_rate(settings.rate_limit_address_per_minute),
        )
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._lock = threading.Lock()

    def admit(self, *, token: str | None, address: str, now: float) -> Allowance | None:
        """May this call go on? Its allowance (refused or not), or None when unlimited."""
        address_rate = self.rates.address
        if address_rate is not None:
            standing = peek(self._buckets.get(("address", address)), address_rate, now)
            if not standing.allowed:
                return standing
        if token is None or self.rates.token is None:
            return None
        return self._take(("token", digest(token)), self.rates.token, now)

    def failed_authentication(self, address: str, now: float) -> Allowance | None:
        """A call from this address presented no valid token: count it."""
        if self.rates.address is None:
            return None
        return self._take(("address", address), self.rates.address, now)

    def __len__(self) -> int:
        """How many buckets are held now."""
        return len(self._buckets)

    def _take(self, key: tuple[str, str], rate: Rate, now: float) -> Allowance:
        with self._lock:
            bucket, allowance = take(self._buckets.get(key), rate, now)
            self._buckets[key] = bucket
            if len(self._buckets) > MAX_BUCKETS:
                self._forget_full(now)
            return allowance

    def _forget_full(self, now: float) -> None:
        """Forget the buckets that have refilled; if that is not a tenth, the oldest half."""
        for key, bucket in list(self._buckets.items()):
            rate = self.rates.token if key[0] == "token" else self.rates.address
            if rate is None or peek(bucket, rate, now).reset == 0:
                del self._buckets[key]
        if len(self._buckets) > MAX_BUCKETS * 0.9:  # many callers at once: keep room
            by_age = sorted(self._buckets, key=lambda key: self._buckets[key].at)
            for key in by_age[: len(by_age) // 2]:
                del self._buckets[key]


def _rate(per_minute: int) -> Rate | None:
    return Rate(per_minute) if per_minute > 0 else None
