"""The events outbox and its consumers' cursors.

Readers take events in id order after their cursor, so an event must never become
visible after one with a higher id. SQLite has one writer at a time, so ids commit in
order. On PostgreSQL an id is taken at insert but visible at commit; two writers could
commit out of order and a reader would skip the late one. So every transaction that
writes events first takes one transaction-scoped advisory lock: writers of events
queue for it (from their first event to their commit, which the use cases keep short
by recording events last), ids are drawn in lock order, and each commit is visible
before the lock passes on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from masthead.domain.events import AffectedPages, Event, EventType, NewEvent
from masthead.store.schema import event_cursors, events

__all__ = [
    "EVENTS_LOCK",
    "affected_after",
    "any_consumer",
    "append",
    "cursor",
    "ensure_cursor",
    "events_after",
    "latest_id",
    "move_cursor",
    "open_cursor",
]

EVENTS_LOCK = 0x6D617374  # the advisory lock key of event writers on PostgreSQL ("mast")


def append(
    connection: Connection,
    new: Sequence[NewEvent],
    *,
    actor: str,
    source: str,
    at: datetime,
    request_id: str | None,
) -> None:
    if not new:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EVENTS_LOCK})
    connection.execute(
        insert(events),
        [
            {
                "type": event.type.value,
                "subject_type": event.subject_type,
                "subject_id": event.subject_id,
                "revision": event.revision,
                "actor": actor,
                "source": source,
                "at": at,
                "request_id": request_id,
                "facts": json.dumps(dict(event.facts), default=str, separators=(",", ":")),
                "affected": json.dumps(event.affected.as_json(), separators=(",", ":")),
            }
            for event in new
        ],
    )


def events_after(connection: Connection, position: int, *, limit: int) -> list[Event]:
    query = select(events).where(events.c.id > position).order_by(events.c.id).limit(limit)
    return [_event_from_row(row) for row in connection.execute(query)]


def latest_id(connection: Connection) -> int:
    return int(connection.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())


def any_consumer(connection: Connection) -> bool:
    """Whether any consumer has ever been handed events (it has a cursor)."""
    return connection.execute(select(event_cursors.c.consumer).limit(1)).first() is not None


def cursor(connection: Connection, consumer: str, *, lock: bool = False) -> int | None:
    """Where `consumer` stands: the id of the last event handed to it (None: never ran)."""
    query = select(event_cursors.c.position).where(event_cursors.c.consumer == consumer)
    found = connection.execute(query.with_for_update() if lock else query).scalar()
    return None if found is None else int(found)


def open_cursor(connection: Connection, consumer: str, position: int, at: datetime) -> None:
    connection.execute(
        insert(event_cursors).values(consumer=consumer, position=position, updated_at=at)
    )


def ensure_cursor(connection: Connection, consumer: str, position: int, at: datetime) -> None:
    """Open `consumer`'s cursor at `position` unless it has one (then nothing changes)."""
    values = {"consumer": consumer, "position": position, "updated_at": at}
    if connection.dialect.name == "postgresql":
        statement: Any = postgresql_insert(event_cursors).values(**values)
    else:
        statement = sqlite_insert(event_cursors).values(**values)
    connection.execute(statement.on_conflict_do_nothing(index_elements=["consumer"]))


def move_cursor(connection: Connection, consumer: str, position: int, at: datetime) -> None:
    connection.execute(
        update(event_cursors)
        .where(event_cursors.c.consumer == consumer)
        .values(position=position, updated_at=at)
    )


def _event_from_row(row: Any) -> Event:
    return Event(
        id=row.id,
        type=EventType(row.type),
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        revision=row.revision,
        actor=row.actor,
        source=row.source,
        at=row.at,
        request_id=row.request_id,
        facts=json.loads(row.facts),
        affected=AffectedPages.from_json(json.loads(row.affected)),
    )


def affected_after(
    connection: Connection, position: int, *, limit: int
) -> list[tuple[int, AffectedPages]]:
    """The pages each event after `position` affected, in id order (at most `limit`)."""
    query = (
        select(events.c.id, events.c.affected)
        .where(events.c.id > position)
        .order_by(events.c.id)
        .limit(limit)
    )
    return [
        (int(row.id), AffectedPages.from_json(json.loads(row.affected)))
        for row in connection.execute(query)
    ]
