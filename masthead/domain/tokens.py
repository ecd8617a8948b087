"""Staff tokens as the rest of the system sees them: never the secret, only its facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from masthead.domain.staff import Role

__all__ = ["TokenRecord", "TokenScope"]


class TokenScope(StrEnum):
    """What a token may be used for: everything its owner's role allows, or only metrics.

    A `metrics` token is what a Prometheus scraper keeps: if it leaks, it reads figures
    and nothing else, whoever its owner is.
    """

    STAFF = "staff"
    METRICS = "metrics"


@dataclass(frozen=True)
class TokenRecord:
    id: int
    name: str
    hint: str
    staff_id: int
    staff_slug: str
    staff_role: Role
    staff_active: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    scope: TokenScope = TokenScope.STAFF
