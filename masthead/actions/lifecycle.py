"""The lifecycle event point: every change that alters what the public site shows, or
what staff see of a post, records its event here, in the change's own transaction.

A change that commits always has its events; one that rolls back never does. Each
event names the public pages it affected, found by reading the public state the change
can reach before and after it (`masthead.site.changes`). Consumers hear of events
through the dispatcher (`masthead.actions.events`), which this point wakes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
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

__all__ = [
    "DISPATCH",
    "PublicBatch",
    "PublicChange",
    "live_facts",
    "public_batch",
    "record_event",
    "record_events",
]

DISPATCH = "events.dispatch"
"""The task kind (and unique key) of the dispatcher: at most one is pending."""


def record_event(connection: Connection, call: Call, new: NewEvent) -> None:
    """Write `new` in the caller's transaction, and wake the dispatcher if anyone listens."""
    record_events(connection, call, [new])


def record_events(connection: Connection, call: Call, news: list[NewEvent]) -> None:
    """Write `news` in the caller's transaction, and wake the dispatcher if anyone listens.

    With no consumer yet (none has a cursor), no dispatcher is queued: a worker that has
    consumers queues one itself (its reaper's check), and from then on every event wakes
    it. The dispatcher is asked for first and the event written last, so that on
    PostgreSQL the lock event writers queue for is held only from here to the commit.
    """
    if not news:
        return
    if event_store.any_consumer(connection):
        enqueue(connection, NewTask(DISPATCH, unique_key=DISPATCH), at=call.at)
    event_store.append(
        connection,
        news,
        actor=call.actor.slug,
        source=call.source.value,
        at=call.at,
        request_id=call.request_id,
    )
    for new in news:
        announce_after_commit(connection, new.affected)  # this process's caches, at commit


class PublicChange:
    """A change watched from before to after, to name the public pages it affected.

    Open it before changing anything, then `record` the event once the change is made.
    """

    def __init__(self, connection: Connection, call: Call, scope: Scope) -> None:
        self._connection = connection
        self._call = call
        batch = connection.info.get(_BATCH)
        self._batch: PublicBatch | None = (
            batch if isinstance(batch, PublicBatch) and batch.covers(connection, scope) else None
        )
        if self._batch is not None:
            self._batch.watch(scope)
            self.site, self.before = self._batch.site, self._batch.before
            return
        self.site = current_site(connection, call.settings)
        self.before = public_state(connection, self.site, scope)

    def after(self, site: SiteInfo | None = None) -> PublicState:
        """The state now; within a batch, the state before it (read once, at its end)."""
        if self._batch is not None:
            return self.before
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
        """Record the event with the pages that differ now; returns those pages.

        Within a batch the event is kept until the batch ends (and no pages are known
        yet: an empty set is returned)."""
        if self._batch is not None:
            self._batch.defer(NewEvent(type, subject_type, str(subject_id), revision, facts or {}))
            return AffectedPages()
        affected = affected_pages(self.before, after or self.after())
        new = NewEvent(type, subject_type, str(subject_id), revision, facts or {}, affected)
        record_event(self._connection, self._call, new)
        return affected


_BATCH = "masthead.public_batch"
LIVE_FACTS = ("live_before", "live_after")
"""The facts of a post's event that tell how it stood before and after the change."""


@dataclass(frozen=True)
class _Deferred:
    new: NewEvent
    post_id: int | None


class PublicBatch:
    """Many changes of posts watched as one (an import): the public state of all they can
    reach is read once before the first and once after the last, and their pages are
    named once. Each change still records its event, at the batch's end: its facts of
    how the post stood (`LIVE_FACTS`) are of the batch's two states, and the batch's
    pages are on its last event (consumers take the union of the events' pages)."""

    def __init__(self, connection: Connection, call: Call, scope: Scope) -> None:
        self._connection = connection
        self._call = call
        self.site = current_site(connection, call.settings)
        self.before = public_state(connection, self.site, scope)
        self._post_ids = set(self.before.scope.post_ids or ())
        self._deferred: list[_Deferred] = []

    def covers(self, connection: Connection, scope: Scope) -> bool:
        """Whether a change of this reach is within the batch's (its posts may be new)."""
        watched = self.before.scope
        return (
            connection is self._connection
            and scope.post_ids is not None
            and scope.tags is not None
            and scope.authors is not None
            and watched.tags is not None
            and watched.authors is not None
            and scope.tags <= watched.tags
            and scope.authors <= watched.authors
            and scope.headers is watched.headers
            and all(
                post_id in self._post_ids or post_id not in self.before.posts
                for post_id in scope.post_ids
            )
        )

    def watch(self, scope: Scope) -> None:
        self._post_ids |= scope.post_ids or set()

    def defer(self, new: NewEvent) -> None:
        post_id = int(new.subject_id) if new.subject_type == "post" else None
        self._deferred.append(_Deferred(new, post_id))

    def finish(self) -> AffectedPages:
        """Read the state after, and record every change's event; returns the pages."""
        scope = replace(self.before.scope, post_ids=frozenset(self._post_ids))
        after = public_state(self._connection, self.site, scope)
        affected = affected_pages(self.before, after)
        news = []
        for index, deferred in enumerate(self._deferred):
            new, facts = deferred.new, dict(deferred.new.facts)
            if deferred.post_id is not None and LIVE_FACTS[0] in facts:
                facts[LIVE_FACTS[0]] = live_facts(self.before, deferred.post_id)
                facts[LIVE_FACTS[1]] = live_facts(after, deferred.post_id)
            last = index == len(self._deferred) - 1
            news.append(replace(new, facts=facts, affected=affected if last else AffectedPages()))
        record_events(self._connection, self._call, news)
        self._deferred.clear()
        return affected


@contextmanager
def public_batch(connection: Connection, call: Call, scope: Scope) -> Iterator[PublicBatch]:
    """Watch the changes made within as one `PublicBatch`; its events are recorded when
    the block ends without an error (on an error the caller rolls back anyway)."""
    if _BATCH in connection.info:
        raise RuntimeError("a public batch is already open on this connection")
    batch = PublicBatch(connection, call, scope)
    connection.info[_BATCH] = batch
    try:
        yield batch
    finally:
        del connection.info[_BATCH]
    batch.finish()


def live_facts(state: PublicState, post_id: int) -> dict[str, Any] | None:
    """How a post stood on the public site in `state`: its slug, tags and authors."""
    post: PostState | None = state.posts.get(post_id)
    if post is None:
        return None
    return {"slug": post.slug, "tags": list(post.tags), "authors": list(post.authors)}
