"""Managing staff: admins add members, change their profiles, roles and standing.

Every change of a member is a `staff.changed` event naming the public pages it touched:
a new member's empty listing, a new name on every card and page that shows it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import Connection

from masthead.actions.auth import require_admin
from masthead.actions.context import Call, record_audit
from masthead.actions.lifecycle import PublicChange
from masthead.actions.naming import require_slug_and_name
from masthead.domain.events import EventType
from masthead.domain.staff import Role, StaffKind, StaffMember
from masthead.errors import Conflict, NotFound
from masthead.site.changes import Scope
from masthead.store import staff as staff_store
from masthead.store.surroundings import live_posts_reviewed_by

__all__ = ["StaffChanges", "add_staff", "all_staff", "change_staff", "find_staff", "save_profile"]


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


def all_staff(connection: Connection) -> list[StaffMember]:
    return staff_store.list_staff(connection)


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
    change = PublicChange(connection, call, _reach(connection, member.slug))
    staff_store.save_staff(connection, member, call.at)
    record_audit(connection, call, "staff.add", "staff", member.slug, role=member.role.value)
    change.record(EventType.STAFF_CHANGED, "staff", member.slug, facts=_facts(None, member))
    return member


def change_staff(
    connection: Connection, call: Call, slug: str, changes: StaffChanges
) -> StaffMember:
    """Edit a member's profile, role or standing. A suspension stops their tokens at once."""
    require_admin(call.actor)
    current = find_staff(connection, slug)
    changed = replace(
        current,
        **{name: value for name, value in asdict(changes).items() if value is not None},
    )
    require_slug_and_name(changed.slug, changed.name, "a staff member")
    if changed == current:  # nothing to change: nothing written, no audit entry
        return current
    fields = {name: value for name, value in vars(changes).items() if value is not None}
    change = PublicChange(connection, call, _reach(connection, slug))
    staff_store.save_staff(connection, changed, call.at)
    if changed.role != current.role or changed.active != current.active:
        staff_store.set_standing(
            connection, slug, call.at, role=changed.role, active=changed.active
        )
    record_audit(connection, call, "staff.change", "staff", slug, **fields)
    change.record(EventType.STAFF_CHANGED, "staff", slug, facts=_facts(current, changed))
    return changed


def save_profile(
    connection: Connection,
    call: Call,
    member: StaffMember,
    *,
    role: Role | None = None,
    active: bool | None = None,
) -> bool:
    """Add the member (with their role and standing), or change their profile to match,
    and their role and standing where given (None: keep); True when anything was written
    (import)."""
    current = staff_store.get_staff(connection, member.slug)
    if current is None:
        add_staff(connection, call, member)
        return True
    profile = StaffChanges(
        name=member.name,
        role_title=member.role_title,
        department=member.department,
        kind=member.kind,
        bio=member.bio,
        role=role,
        active=active,
    )
    return change_staff(connection, call, member.slug, profile) != current


def _reach(connection: Connection, slug: str) -> Scope:
    """The member's own listing, every live post they are an author of, and every live
    post whose page names them as its reviewer."""
    posts = {
        *staff_store.live_posts_by(connection, slug),
        *live_posts_reviewed_by(connection, slug),
    }
    return Scope.of(posts, authors=[slug])


def _facts(before: StaffMember | None, after: StaffMember) -> dict[str, Any]:
    def shown(member: StaffMember | None) -> dict[str, Any] | None:
        return None if member is None else {**asdict(member), "byline": member.byline}

    return {"slug": after.slug, "before": shown(before), "after": shown(after)}
