"""Telling the render caches which public pages a change made stale.

Two roads, both from the event point. In this process, `record_event` asks for the
event's pages to be announced once its transaction commits (`store.engine.after_commit`):
every listener (each app's render cache) hears of them before the next request can be
read from it. Changes made by other processes (more server processes, a separate worker,
the CLI) are read from the events table: `latest_event_id` is the cheap question a
cache asks every short interval, `affected_since` the pages of the events it has not
seen yet.
"""

from __future__ import annotations

import threading
import weakref
from typing import Protocol

from sqlalchemy import Connection

from masthead.domain.events import AffectedPages
from masthead.site.pagetable import expand
from masthead.store import events as event_store
from masthead.store.engine import after_commit

__all__ = [
    "EVENTS_PER_READ",
    "Listener",
    "affected_since",
    "announce_after_commit",
    "latest_event_id",
    "listen",
    "stale_paths",
]

EVENTS_PER_READ = 500


class Listener(Protocol):
    def invalidate(self, paths: list[str]) -> None: ...


_listeners: weakref.WeakSet[Listener] = weakref.WeakSet()
_lock = threading.Lock()


def listen(listener: Listener) -> None:
    """Hear of every change committed in this process (held weakly: a dropped cache goes)."""
    with _lock:
        _listeners.add(listener)


def stale_paths(affected: AffectedPages) -> list[str]:
    """The URL paths a change made stale."""
    return expand(affected)


def announce_after_commit(connection: Connection, affected: AffectedPages) -> None:
    """Once the transaction on `connection` commits, tell every listener its pages: the
    pages of all its changes together, listed once at the commit (an import of many
    batches, each shifting every page of the index, holds runs of pages until then,
    not the URLs of each batch)."""
    if affected:
        after_commit(connection, _Announcement()).changes.append(affected)


class _Announcement:
    """The changes of one transaction, announced at its commit. One a transaction: any
    two are equal, so `after_commit` gives back the one registered already."""

    def __init__(self) -> None:
        self.changes: list[AffectedPages] = []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Announcement)

    __hash__ = None  # type: ignore[assignment]

    def __call__(self) -> None:
        paths = stale_paths(AffectedPages.union(self.changes))
        with _lock:
            listeners = list(_listeners)
        for listener in listeners:
            listener.invalidate(paths)


def latest_event_id(connection: Connection) -> int:
    return event_store.latest_id(connection)


def affected_since(connection: Connection, position: int) -> tuple[int, list[str]]:
    """The newest event id after `position`, and every page those events made stale."""
    paths: set[str] = set()
    while True:
        found = event_store.affected_after(connection, position, limit=EVENTS_PER_READ)
        for event_id, affected in found:
            position = event_id
            paths.update(stale_paths(affected))
        if len(found) < EVENTS_PER_READ:
            return position, sorted(paths)
