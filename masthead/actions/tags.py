"""Managing tags: anyone on the staff reads them; admins add, rename and delete.

Every change of a tag is a `tag.changed` event naming the public pages it touched: a
new tag's empty listing, a renamed tag's chips on every card and page that shows it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from masthead.actions.auth import require_admin
from masthead.actions.context import Call, record_audit
from masthead.actions.lifecycle import PublicChange
from masthead.actions.naming import require_slug_and_name
from masthead.domain.events import EventType
from masthead.domain.staff import Tag
from masthead.errors import Conflict, NotFound
from masthead.site.changes import Scope
from masthead.store import tags as tag_store

__all__ = ["add_tag", "all_tags", "change_tag", "delete_tag", "find_tag", "save_tag"]


def all_tags(connection: Connection) -> list[Tag]:
    return tag_store.list_tags(connection)


def find_tag(connection: Connection, slug: str) -> Tag:
    tag = tag_store.get_tag(connection, slug)
    if tag is None:
        raise NotFound(f"no tag {slug!r}")
    return tag


def add_tag(connection: Connection, call: Call, tag: Tag) -> Tag:
    require_admin(call.actor)
    require_slug_and_name(tag.slug, tag.name, "a tag")
    if tag_store.get_tag(connection, tag.slug) is not None:
        raise Conflict(f"the tag {tag.slug!r} exists", code="slug_taken")
    _write(connection, call, None, tag, "tag.add")
    return tag


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
    require_slug_and_name(changed.slug, changed.name, "a tag")
    _write(connection, call, current, changed, "tag.change")
    return changed


def save_tag(connection: Connection, call: Call, tag: Tag) -> bool:
    """Add the tag, or change it to match; True when anything was written (import)."""
    current = tag_store.get_tag(connection, tag.slug)
    if current == tag:
        return False
    if current is None:
        add_tag(connection, call, tag)
    else:
        change_tag(connection, call, tag.slug, tag.name, tag.description)
    return True


def delete_tag(connection: Connection, call: Call, slug: str) -> None:
    require_admin(call.actor)
    current = find_tag(connection, slug)
    if tag_store.tag_in_use(connection, slug):
        raise Conflict(f"the tag {slug!r} is still on posts", code="tag_in_use")
    change = PublicChange(connection, call, _reach(connection, slug))
    tag_store.delete_tag(connection, slug)
    record_audit(connection, call, "tag.delete", "tag", slug)
    change.record(EventType.TAG_CHANGED, "tag", slug, facts=_facts(slug, current, None))


def _write(connection: Connection, call: Call, current: Tag | None, tag: Tag, action: str) -> None:
    """Save the tag with its audit entry and its event; a change to nothing writes none."""
    if current == tag:
        return
    change = PublicChange(connection, call, _reach(connection, tag.slug))
    tag_store.save_tag(connection, tag, call.at)
    record_audit(connection, call, action, "tag", tag.slug)
    change.record(EventType.TAG_CHANGED, "tag", tag.slug, facts=_facts(tag.slug, current, tag))


def _reach(connection: Connection, slug: str) -> Scope:
    """The tag's own listing, and every live post that carries it (their cards and pages)."""
    return Scope.of(tag_store.live_posts_with_tag(connection, slug), tags=[slug])


def _facts(slug: str, before: Tag | None, after: Tag | None) -> dict[str, Any]:
    def shown(tag: Tag | None) -> dict[str, str] | None:
        return None if tag is None else {"name": tag.name, "description": tag.description}

    return {"slug": slug, "before": shown(before), "after": shown(after)}
