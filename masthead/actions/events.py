"""Handing lifecycle events to their consumers, each from its own cursor.

A consumer (a cache, a static rebuild, webhooks …) names itself and what to do with a
batch of events: enqueue its own tasks, in the dispatcher's transaction. The dispatcher
hands each consumer the events after its cursor and moves the cursor in that same
transaction, so a consumer that was down catches up, none gets an event twice, and
none ever sees an event of a change that rolled back (it was never written).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from masthead.actions.lifecycle import DISPATCH
from masthead.actions.tasks import enqueue
from masthead.domain.events import Event, EventType
from masthead.domain.tasks import NewTask
from masthead.store import events as event_store
from masthead.store.tasks import pending_with_key

__all__ = [
    "BATCH",
    "Consumer",
    "dispatch",
    "dispatch_if_behind",
]

BATCH = 500
"""Events handed to one consumer in one transaction at the most."""


@dataclass(frozen=True)
class Consumer:
    name: str
    deliver: Callable[[Connection, Sequence[Event], datetime], None]
    """Queue this consumer's work for these events, in the transaction it is given."""
    types: frozenset[EventType] | None = None
    """The types it wants (None: all); it skips the rest, its cursor moves past them."""
    from_start: bool = False
    """Whether a new consumer starts with the first event ever written, or with the next."""


def dispatch(connection: Connection, consumers: Sequence[Consumer], at: datetime) -> int:
    """Hand every consumer the next batch after its cursor; returns how many were handed."""
    handed = 0
    latest = None
    for consumer in consumers:
        position = event_store.cursor(connection, consumer.name, lock=True)
        if position is None:
            if latest is None:
                latest = event_store.latest_id(connection)
            position = 0 if consumer.from_start else latest
            event_store.open_cursor(connection, consumer.name, position, at)
        batch = event_store.events_after(connection, position, limit=BATCH)
        if not batch:
            continue
        wanted = [
            event for event in batch if consumer.types is None or event.type in consumer.types
        ]
        if wanted:
            consumer.deliver(connection, wanted, at)
        event_store.move_cursor(connection, consumer.name, batch[-1].id, at)
        handed += len(batch)
    return handed


def dispatch_if_behind(connection: Connection, consumers: Sequence[Consumer], at: datetime) -> bool:
    """Queue a dispatcher when a consumer is behind and none is pending (a safety net:
    an event written while the dispatcher was finishing found it still running)."""
    if not consumers or pending_with_key(connection, DISPATCH) is not None:
        return False
    latest = event_store.latest_id(connection)
    behind = any(
        (event_store.cursor(connection, consumer.name) or 0) < latest for consumer in consumers
    )
    if behind:
        enqueue(connection, NewTask(DISPATCH, unique_key=DISPATCH), at=at)
    return behind
