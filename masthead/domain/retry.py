"""How long a task waits before its next try: exponential backoff with jitter.

The random source is a parameter, so a test can pin it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

__all__ = ["Backoff"]


@dataclass(frozen=True)
class Backoff:
    """`base · factor^(n-1)` seconds after the n-th error, capped, then jittered.

    Half of the delay is fixed and half is random ("equal jitter"): retries of many
    tasks that failed together spread out, and none comes back at once.
    """

    base: float
    cap: float
    factor: float = 2.0

    def __post_init__(self) -> None:
        if self.base <= 0 or self.cap <= 0 or self.factor < 1:
            raise ValueError("backoff needs a positive base and cap and a factor of at least 1")

    def ceiling(self, errors: int) -> float:
        """The longest delay after `errors` errors (1 for the first), in seconds."""
        exponent = max(errors, 1) - 1
        # Past the cap the exponent no longer matters; stop before the float overflows.
        if self.factor > 1 and exponent > 64:
            return self.cap
        return min(self.cap, self.base * self.factor**exponent)

    def delay(self, errors: int, random: Callable[[], float]) -> timedelta:
        """The delay after `errors` errors; `random()` returns a float in [0, 1)."""
        ceiling = self.ceiling(errors)
        return timedelta(seconds=ceiling / 2 + random() * ceiling / 2)
