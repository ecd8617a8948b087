"""Staff members and tags, as plain facts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Role", "StaffKind", "StaffMember", "Tag"]


class StaffKind(StrEnum):
    PERSON = "person"
    AGENT = "agent"


class Role(StrEnum):
    WRITER = "writer"
    EDITOR = "editor"
    ADMIN = "admin"


@dataclass(frozen=True)
class StaffMember:
    slug: str
    name: str
    role_title: str
    department: str
    kind: StaffKind
    bio: str = ""
    role: Role = Role.WRITER
    active: bool = True

    @property
    def byline(self) -> str:
        """`ROLE TITLE · DEPARTMENT`, as every card shows it."""
        return " · ".join(part for part in (self.role_title, self.department) if part)


@dataclass(frozen=True)
class Tag:
    slug: str
    name: str
    description: str = ""
