"""Static builds driven by lifecycle events (`MASTHEAD_STATIC_DIR` set).

The consumer `static.build` queues a build task when events that affect public pages
arrive. The task builds incrementally — the events since the live release name the
pages to render — and builds again while newer such events exist, so a burst of
publishes makes one or two builds. An event never goes unbuilt: a release records the
last event it includes, and the next build starts from there, whatever the consumer's
cursor says. While a build runs, one more task may wait behind it (a second key), for
the events that arrive after its last look.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine

from masthead.actions.events import Consumer
from masthead.actions.releases import OutputFolder
from masthead.actions.static_build import BuildOptions, BuildSummary, build_site
from masthead.actions.tasks import enqueue
from masthead.domain.events import Event, EventType
from masthead.domain.tasks import NewTask
from masthead.settings import Settings
from masthead.store import events as event_store
from masthead.store.engine import reading
from masthead.store.tasks import pending_with_key

__all__ = ["STATIC_BUILD", "build_while_behind", "static_consumer"]

STATIC_BUILD = "static.build"
KEYS = (STATIC_BUILD, f"{STATIC_BUILD}.again")
MAX_ROUNDS = 20
"""Builds one task makes at most before it leaves the rest to the next task."""
SETTLE_SECONDS = 0.5
"""A build waits until no event has come for this long (a burst is built once) …"""
SETTLE_MOST_SECONDS = 3.0
"""… but not longer than this."""


def _affects_site(event: Event) -> bool:
    """Whether a build must follow: the event names public pages, or changed the site's
    settings (which every page shows)."""
    return bool(event.affected) or event.type is EventType.SETTINGS_CHANGED


def _queue_build(connection: Connection, batch: Sequence[Event], at: datetime) -> None:
    if not any(_affects_site(event) for event in batch):
        return
    for key in KEYS:
        if pending_with_key(connection, key) is None:
            enqueue(connection, NewTask(STATIC_BUILD, unique_key=key), at=at)
            return


def static_consumer() -> Consumer:
    return Consumer(STATIC_BUILD, _queue_build, from_start=True)


def _behind(connection: Connection, position: int) -> bool:
    """Whether an event after `position` affected a public page."""
    while batch := event_store.events_after(connection, position, limit=500):
        if any(_affects_site(event) for event in batch):
            return True
        position = batch[-1].id
    return False


def _settle(engine: Engine, pause: Callable[[float], None]) -> None:
    """Wait while events keep coming, within bounds (a burst of publishes, one build)."""
    step, quiet, waited, last = SETTLE_SECONDS / 3, 0.0, 0.0, None
    while quiet < SETTLE_SECONDS and waited < SETTLE_MOST_SECONDS:
        with reading(engine) as connection:
            latest = event_store.latest_id(connection)
        quiet = quiet + step if latest == last else 0.0
        last = latest
        pause(step)
        waited += step


def _live_through(folder: OutputFolder) -> int | None:
    live = folder.live()
    manifest = folder.manifest(live) if live else None
    return None if manifest is None else manifest.events_through


def build_while_behind(
    engine: Engine,
    settings: Settings,
    clock: Callable[[], datetime],
    pause: Callable[[float], None] | None = None,
) -> list[BuildSummary]:
    """Build `settings.static_dir` incrementally until no newer event affects a page.

    With `pause` (`time.sleep`), each build first waits for a burst of events to end."""
    folder = OutputFolder(Path(settings.static_dir))
    options = BuildOptions(out=folder.root, incremental=True)
    built: list[BuildSummary] = []
    through = _live_through(folder)
    for _round in range(MAX_ROUNDS):
        if through is not None:
            with reading(engine) as connection:
                if not _behind(connection, through):
                    break
        if pause is not None:
            _settle(engine, pause)
        summary = build_site(engine, settings, options, clock())
        built.append(summary)
        through = summary.events_through
    return built
