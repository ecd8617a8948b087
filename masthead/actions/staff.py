"""Managing staff: admins add members, change their roles, suspend and resume them."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Connection

from masthead.actions.auth import require_admin
from masthead.actions.context import Call, record_audit
from masthead.actions.naming import require_slug_and_name
from masthead.domain.staff import Role, StaffKind, StaffMember
from masthead.errors import Conflict, NotFound
from masthead.store import staff as staff_store

__all__ = ["StaffChanges", "add_staff", "change_staff", "find_staff"]


@dataclass(frozen=True)
class StaffChanges:
    """Fields to change; None means "keep"."""

    name: str | None = None
    role_title: str | None = None
    department: str | None = None
    kind: StaffKind | None = None
    bio: str | None = None
    role: Role | None = None
    active: bool | None = None


def find_staff(connection: Connection, slug: str) -> StaffMember:
    member = staff_store.get_staff(connection, slug)
    if member is None:
        raise NotFound(f"no staff member {slug!r}")
    return member


def add_staff(connection: Connection, call: Call, member: StaffMember) -> StaffMember:
    require_admin(call.actor)
    require_slug_and_name(member.slug, member.name, "a staff member")
    if staff_store.get_staff(connection, member.slug) is not None:
        raise Conflict(f"the slug {member.slug!r} is taken", code="slug_taken")
    staff_store.save_staff(connection, member, call.at)
    record_audit(connection, call, "staff.add", "staff", member.slug, role=member.role.value)
    return find_staff(connection, member.slug)


def change_staff(
    connection: Connection, call: Call, slug: str, changes: StaffChanges
) -> StaffMember:
    """Edit a member's profile, role or standing. A suspension stops their tokens at once."""
    require_admin(call.actor)
    current = find_staff(connection, slug)
    profile = replace(
        current,
        name=current.name if changes.name is None else changes.name,
        role_title=current.role_title if changes.role_title is None else changes.role_title,
        department=current.department if changes.department is None else changes.department,
        kind=current.kind if changes.kind is None else changes.kind,
        bio=current.bio if changes.bio is None else changes.bio,
    )
    require_slug_and_name(profile.slug, profile.name, "a staff member")
    staff_store.save_staff(connection, profile, call.at)
    if changes.role is not None or changes.active is not None:
        staff_store.set_standing(
            connection, slug, call.at, role=changes.role, active=changes.active
        )
    fields = {name: value for name, value in vars(changes).items() if value is not None}
    record_audit(connection, call, "staff.change", "staff", slug, **fields)
    return find_staff(connection, slug)
