"""Idempotency keys: what to do with a write that names a key, given what the key holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["Decision", "KeyRecord", "KeyState", "StoredResponse", "decide"]


class KeyState(StrEnum):
    IN_FLIGHT = "in_flight"
    DONE = "done"


@dataclass(frozen=True)
class KeyRecord:
    request_digest: str
    state: KeyState
    locked_until: datetime
    expires_at: datetime


class Decision(StrEnum):
    PROCEED = "proceed"
    """New key, an expired one, or one whose first call died: do the work (once)."""
    REPLAY = "replay"
    """The first call finished: answer with its response."""
    MISMATCH = "mismatch"
    """The key was used for a different request."""
    IN_FLIGHT = "in_flight"
    """The first call is still running."""


def decide(existing: KeyRecord | None, request_digest: str, now: datetime) -> Decision:
    if existing is None or existing.expires_at <= now:
        return Decision.PROCEED
    if existing.request_digest != request_digest:
        return Decision.MISMATCH
    if existing.state is KeyState.DONE:
        return Decision.REPLAY
    if existing.locked_until <= now:
        return Decision.PROCEED
    return Decision.IN_FLIGHT


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    headers: list[tuple[str, str]]
    body: bytes
