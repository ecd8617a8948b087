"""Who may do what: roles, post ownership and the post lifecycle, as pure rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from masthead.domain.posts import PostStatus
from masthead.domain.staff import Role
from masthead.domain.tokens import TokenScope

__all__ = [
    "Actor",
    "PostAction",
    "allowed_on_post",
    "is_admin",
    "is_editor",
    "may_read_metrics",
    "next_status",
    "sees_post",
]


@dataclass(frozen=True)
class Actor:
    """Whoever makes a call: a staff member, through one of their tokens (or the CLI)."""

    staff_id: int | None
    slug: str
    role: Role
    token_id: int | None = None
    scope: TokenScope = TokenScope.STAFF


class PostAction(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    PUBLISH = "publish"
    UNPUBLISH = "unpublish"
    ARCHIVE = "archive"
    SCHEDULE = "schedule"


_EDITOR_ONLY = {PostAction.PUBLISH, PostAction.UNPUBLISH, PostAction.ARCHIVE, PostAction.SCHEDULE}
_WRITER_EDITABLE = {PostStatus.DRAFT, PostStatus.IN_REVIEW}

_TRANSITIONS: dict[PostAction, tuple[frozenset[PostStatus], PostStatus | None]] = {
    PostAction.EDIT: (frozenset(PostStatus) - {PostStatus.ARCHIVED}, None),
    PostAction.SUBMIT: (frozenset({PostStatus.DRAFT}), PostStatus.IN_REVIEW),
    PostAction.PUBLISH: (
        frozenset(
            {
                PostStatus.DRAFT,
                PostStatus.IN_REVIEW,
                PostStatus.SCHEDULED,
                PostStatus.PUBLISHED,
                PostStatus.UNPUBLISHED,
            }
        ),
        PostStatus.PUBLISHED,
    ),
    PostAction.UNPUBLISH: (frozenset({PostStatus.PUBLISHED}), PostStatus.UNPUBLISHED),
    PostAction.ARCHIVE: (frozenset(PostStatus) - {PostStatus.ARCHIVED}, PostStatus.ARCHIVED),
    PostAction.SCHEDULE: (
        frozenset({PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.SCHEDULED}),
        PostStatus.SCHEDULED,
    ),
}


def is_admin(actor: Actor) -> bool:
    return actor.role is Role.ADMIN


def may_read_metrics(actor: Actor) -> bool:
    """Admins read the metrics, and so does any token made for scraping them."""
    return is_admin(actor) or actor.scope is TokenScope.METRICS


def is_editor(actor: Actor) -> bool:
    return actor.role in {Role.EDITOR, Role.ADMIN}


def sees_post(actor: Actor, authors: tuple[str, ...]) -> bool:
    """Writers see only their own posts; editors and admins see every post."""
    return is_editor(actor) or actor.slug in authors


def allowed_on_post(
    actor: Actor, action: PostAction, authors: tuple[str, ...], status: PostStatus
) -> bool:
    """May `actor` take `action` on a post by `authors` in `status`? (Ignores the lifecycle.)"""
    if is_editor(actor):
        return True
    if action in _EDITOR_ONLY or actor.slug not in authors:
        return False
    return action is PostAction.SUBMIT or status in _WRITER_EDITABLE


def next_status(action: PostAction, current: PostStatus) -> PostStatus | None:
    """The state `action` leads to from `current`; None when the lifecycle forbids it.

    An edit keeps the state (it returns `current`).
    """
    sources, target = _TRANSITIONS[action]
    if current not in sources:
        return None
    return target or current
