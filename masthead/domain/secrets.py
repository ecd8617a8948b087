"""Secrets and tokens: made random, kept as digests, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

__all__ = ["TOKEN_PREFIX", "StoredSecret", "digest", "matches_any", "new_token"]

TOKEN_PREFIX = "mh_"  # noqa: S105 - a public prefix, not a secret
TOKEN_BYTES = 32  # 256 bits of randomness


@dataclass(frozen=True)
class StoredSecret:
    """An edge secret kept in the database: only its digest, a label and when it came."""

    digest: str
    label: str
    created_at: datetime


def digest(secret: str) -> str:
    """SHA-256 hex digest: fixed length, so comparisons never depend on the input's length."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def matches_any(presented: str, digests: Iterable[str]) -> bool:
    """Compare with every known digest, always all of them, each in constant time."""
    candidate = digest(presented)
    found = False
    for known in digests:
        found |= hmac.compare_digest(candidate, known)
    return found


def new_token(random_text: Callable[[int], str]) -> str:
    """A bearer token; `random_text(n)` is e.g. `secrets.token_urlsafe`."""
    return TOKEN_PREFIX + random_text(TOKEN_BYTES)
