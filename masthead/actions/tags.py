"""Managing tags: anyone on the staff reads them; admins add, rename and delete."""

from __future__ import annotations

from sqlalchemy import Connection

from masthead.actions.auth import require_admin
from masthead.actions.context import Call, record_audit
from masthead.actions.naming import require_slug_and_name
from masthead.domain.staff import Tag
from masthead.errors import Conflict, NotFound
from masthead.store import tags as tag_store

__all__ = ["add_tag", "change_tag", "delete_tag", "find_tag"]


def find_tag(connection: Connection, slug: str) -> Tag:
    tag = tag_store.get_tag(connection, slug)
    if tag is None:
        raise NotFound(f"no tag {slug!r}")
    return tag


def _check(tag: Tag) -> None:
    require_slug_and_name(tag.slug, tag.name, "a tag")


def add_tag(connection: Connection, call: Call, tag: Tag) -> Tag:
    require_admin(call.actor)
    _check(tag)
    if tag_store.get_tag(connection, tag.slug) is not None:
        raise Conflict(f"the tag {tag.slug!r} exists", code="slug_taken")
    tag_store.save_tag(connection, tag, call.at)
    record_audit(connection, call, "tag.add", "tag", tag.slug)
    return find_tag(connection, tag.slug)


def change_tag(
    connection: Connection, call: Call, slug: str, name: str | None, description: str | None
) -> Tag:
    require_admin(call.actor)
    current = find_tag(connection, slug)
    changed = Tag(
        slug=slug,
        name=current.name if name is None else name,
        description=current.description if description is None else description,
    )
    _check(changed)
    tag_store.save_tag(connection, changed, call.at)
    record_audit(connection, call, "tag.change", "tag", slug)
    return changed


def delete_tag(connection: Connection, call: Call, slug: str) -> None:
    require_admin(call.actor)
    find_tag(connection, slug)
    if tag_store.tag_in_use(connection, slug):
        raise Conflict(f"the tag {slug!r} is still on posts", code="tag_in_use")
    tag_store.delete_tag(connection, slug)
    record_audit(connection, call, "tag.delete", "tag", slug)
