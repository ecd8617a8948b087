"""Approvals bound to a revision: an editor says "this revision may go live".

An approval names the revision it was given for; an edit makes a newer revision, which
the approval does not cover. The receipt of a publish records the approval it went out
with: who took responsibility for what went live.
"""

from __future__ import annotations

from sqlalchemy import Connection

from masthead.actions.context import Call, record_audit
from masthead.actions.drafts import find_post, require_current
from masthead.domain.gates import Approval
from masthead.domain.permissions import is_editor
from masthead.domain.posts import PostStatus
from masthead.errors import Forbidden, InvalidTransition
from masthead.store.approvals import add_approval
from masthead.store.staff import staff_kinds

__all__ = ["approve_post"]


def approve_post(connection: Connection, call: Call, post_id: int) -> Approval:
    """Approve the post's current revision (editors and admins who are staff members)."""
    actor = call.actor
    if not is_editor(actor) or actor.staff_id is None:
        raise Forbidden("an approval is given by an editor or an admin of the staff")
    post = find_post(connection, actor, post_id, lock=True)
    require_current(connection, call, post)
    if post.status is PostStatus.ARCHIVED:
        raise InvalidTransition("an archived post cannot be approved", current_status="archived")
    add_approval(connection, post_id, post.revision, actor.staff_id, actor.token_id, call.at)
    record_audit(connection, call, "post.approve", "post", post_id, revision=post.revision)
    kind = staff_kinds(connection, [actor.slug])[actor.slug]
    return Approval(actor.slug, kind, post.revision, call.at)
