"""The audit log's entries: who changed what, when, through which token and request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["AuditEntry"]


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    action: str
    target_type: str
    target_id: str
    staff_id: int | None = None
    token_id: int | None = None
    request_id: str | None = None
    idempotency_key: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    staff_slug: str | None = None
