"""Staff members: rows in, frozen facts out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from masthead.domain.staff import Role, StaffKind, StaffMember
from masthead.store.schema import published_authors, staff

__all__ = [
    "get_staff",
    "list_staff",
    "live_posts_by",
    "save_staff",
    "set_standing",
    "staff_from_row",
    "staff_id",
    "staff_ids",
    "staff_kinds",
]


def staff_from_row(row: Any) -> StaffMember:
    return StaffMember(
        slug=row.slug,
        name=row.name,
        role_title=row.role_title,
        department=row.department,
        kind=StaffKind(row.kind),
        bio=row.bio,
        role=Role(row.role),
        active=bool(row.active),
    )


def list_staff(connection: Connection) -> list[StaffMember]:
    rows = connection.execute(select(staff).order_by(staff.c.slug))
    return [staff_from_row(row) for row in rows]


def get_staff(connection: Connection, slug: str) -> StaffMember | None:
    row = connection.execute(select(staff).where(staff.c.slug == slug)).first()
    return staff_from_row(row) if row else None


def save_staff(connection: Connection, member: StaffMember, now: datetime) -> bool:
    """Insert or update by slug; True when a row was written."""
    values = {
        "name": member.name,
        "role_title": member.role_title,
        "department": member.department,
        "kind": member.kind.value,
        "bio": member.bio,
    }
    current = get_staff(connection, member.slug)
    if current is None:
        connection.execute(
            insert(staff).values(
                slug=member.slug,
                role=member.role.value,
                active=member.active,
                created_at=now,
                updated_at=now,
                **values,
            )
        )
        return True
    if all(getattr(current, key) == value for key, value in values.items()):
        return False
    connection.execute(
        update(staff).where(staff.c.slug == member.slug).values(updated_at=now, **values)
    )
    return True


def live_posts_by(connection: Connection, slug: str) -> list[int]:
    """The live posts this member is an author of."""
    query = (
        select(published_authors.c.post_id)
        .join(staff, staff.c.id == published_authors.c.staff_id)
        .where(staff.c.slug == slug)
    )
    return list(connection.execute(query).scalars())


def staff_ids(connection: Connection, slugs: Iterable[str]) -> dict[str, int]:
    wanted = list(slugs)
    rows = connection.execute(select(staff.c.slug, staff.c.id).where(staff.c.slug.in_(wanted)))
    return {row.slug: row.id for row in rows}


def staff_kinds(connection: Connection, slugs: Iterable[str]) -> dict[str, StaffKind]:
    """Whether each of these members is a person or an agent."""
    rows = connection.execute(
        select(staff.c.slug, staff.c.kind).where(staff.c.slug.in_(list(slugs)))
    )
    return {row.slug: StaffKind(row.kind) for row in rows}


def staff_id(connection: Connection, slug: str) -> int | None:
    found = connection.execute(select(staff.c.id).where(staff.c.slug == slug)).scalar()
    return int(found) if found is not None else None


def set_standing(
    connection: Connection,
    slug: str,
    at: datetime,
    *,
    role: Role | None = None,
    active: bool | None = None,
) -> None:
    """Change a member's role or whether they are active (suspended when not)."""
    values: dict[str, Any] = {"updated_at": at}
    if role is not None:
        values["role"] = role.value
    if active is not None:
        values["active"] = active
    connection.execute(update(staff).where(staff.c.slug == slug).values(**values))
