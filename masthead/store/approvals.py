"""Approvals: who approved which revision of a post, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from masthead.domain.gates import Approval
from masthead.domain.staff import StaffKind
from masthead.store.schema import approvals, staff

__all__ = ["add_approval", "latest_approval"]


def add_approval(
    connection: Connection,
    post_id: int,
    revision: int,
    staff_id: int,
    token_id: int | None,
    at: datetime,
) -> None:
    connection.execute(
        insert(approvals).values(
            post_id=post_id, revision=revision, staff_id=staff_id, token_id=token_id, at=at
        )
    )


def latest_approval(
    connection: Connection, post_id: int, revision: int | None = None
) -> Approval | None:
    """The newest approval of the post (of `revision`, when given), preferring a person's."""
    query = (
        select(approvals.c.revision, approvals.c.at, staff.c.slug, staff.c.kind)
        .join(staff, staff.c.id == approvals.c.staff_id)
        .where(approvals.c.post_id == post_id)
        .order_by(approvals.c.id.desc())
    )
    if revision is not None:
        query = query.where(approvals.c.revision == revision)
    rows = list(connection.execute(query))
    if not rows:
        return None
    people = [row for row in rows if row.kind == StaffKind.PERSON.value]
    row = (people or rows)[0]
    return Approval(row.slug, StaffKind(row.kind), row.revision, row.at)
