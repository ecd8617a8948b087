"""The lifecycle event point: every change that alters what the public site shows, or
what staff see of a post, records its event here, in the change's own transaction.

A change that commits always has its events; one that rolls back never does. Each
event names the public pages it affected, found by reading the public state the change
can reach before and after it (`masthead.site.changes`). Consumers hear of events
through the dispatcher (`masthead.actions.events`), which this point wakes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from masthead.actions.context import Call
from masthead.actions.invalidation import announce_after_commit
from masthead.actions.site_info import current_site
from masthead.actions.tasks import enqueue
from masthead.domain.events import AffectedPages, EventType, NewEvent
from masthead.domain.tasks import NewTask
from masthead.site.changes import PostState, PublicState, Scope, affected_pages, public_state
from masthead.site.pages import SiteInfo
from masthead.store import events as event_store

__all__ = ["DISPATCH", "PublicChange", "live_facts", "record_event"]

DISPATCH = "events.dispatch"
"""The task kind (and unique key) of the dispatcher: at most one is pending."""


def record_event(connection: Connection, call: Call, new: NewEvent) -> None:
    """Write `new` in the caller's transaction, and wake the dispatcher if anyone listens.

    With no consumer yet (none has a cursor), no dispatcher is queued: a worker that has
    consumers queues one itself (its reaper's check), and from then on every event wakes
    it. The dispatcher is asked for first and the event written last, so that on
    PostgreSQL the lock event writers queue for is held only from here to the commit.
    """
    if event_store.any_consumer(connection):
        enqueue(connection, NewTask(DISPATCH, unique_key=DISPATCH), at=call.at)
    event_store.append(
        connection,
        [new],
        actor=call.actor.slug,
        source=call.source.value,
        at=call.at,
        request_id=call.request_id,
    )
    announce_after_commit(connection, new.affected)  # this process's caches, at commit


class PublicChange:
    """A change watched from before to after, to name the public pages it affected.

    Open it before changing anything, then `record` the event once the change is made.
    """

    def __init__(self, connection: Connection, call: Call, scope: Scope) -> None:
        self._connection = connection
        self._call = call
        self.site = current_site(connection, call.settings)
        self.before = public_state(connection, self.site, scope)

    def after(self, site: SiteInfo | None = None) -> PublicState:
        return public_state(self._connection, site or self.site, self.before.scope)

    def record(
        self,
        type: EventType,
        subject_type: str,
        subject_id: object,
        *,
        revision: int | None = None,
        facts: Mapping[str, Any] | None = None,
        after: PublicState | None = None,
    ) -> AffectedPages:
        """Record the event with the pages that differ now; returns those pages."""
        affected = affected_pages(self.before, after or self.after())
        new = NewEvent(type, subject_type, str(subject_id), revision, facts or {}, affected)
        record_event(self._connection, self._call, new)
        return affected


def live_facts(state: PublicState, post_id: int) -> dict[str, Any] | None:
    """How a post stood on the public site in `state`: its slug, tags and authors."""
    post: PostState | None = state.posts.get(post_id)
    if post is None:
        return None
    return {"slug": post.slug, "tags": list(post.tags), "authors": list(post.authors)}
