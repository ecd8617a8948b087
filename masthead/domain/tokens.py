"""Staff tokens as the rest of the system sees them: never the secret, only its facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from masthead.domain.staff import Role

__all__ = ["TokenRecord"]


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
