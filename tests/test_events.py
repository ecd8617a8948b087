"""The lifecycle event point: each change writes exactly its events, in its transaction,
and consumers see every event once, in order, whatever stops and starts meanwhile."""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, func, select

from masthead.actions import staff as staff_actions
from masthead.actions import tags as tag_actions
from masthead.actions.context import WORKER
from masthead.actions.drafts import PostFields, create_post, edit_post
from masthead.actions.events import Consumer, dispatch
from masthead.actions.lifecycle import record_event
from masthead.actions.publishing import archive_post, publish_post, unpublish_post
from masthead.actions.scheduling import publish_when_due, schedule_post, unschedule_post
from masthead.actions.site_settings import update_site_settings
from masthead.actions.tasks import enqueue
from masthead.demo import DEMO_CONTENT
from masthead.domain.events import Event, EventType, NewEvent
from masthead.domain.posts import RevisionSource
from masthead.domain.staff import Role, StaffKind, StaffMember, Tag
from masthead.domain.tasks import NewTask
from masthead.queue import Registry
from masthead.queue.handlers import register_handlers
from masthead.queue.worker import QueueWorker
from masthead.site import urls
from masthead.site.pagetable import expand
from masthead.store import events as event_store
from masthead.store.engine import reading, writing
from masthead.store.schema import audit_log, tasks
from tests.conftest import settings_for
from tests.operators import call_as, import_into
from tests.queue_support import wait_until

SEEN = "test.seen"
"""What the tests' consumers queue for each event they are handed (no worker runs it)."""


def _events(engine: Engine) -> list[Event]:
    with reading(engine) as connection:
        return event_store.events_after(connection, 0, limit=100_000)


class _Watch:
    """The events each step adds."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen = len(_events(engine))

    def new(self) -> list[Event]:
        found = _events(self.engine)
        added, self.seen = found[self.seen :], len(found)
        return added

    def types(self) -> list[str]:
        return [event.type.value for event in self.new()]


def _draft(connection: Connection, title: str, **fields: object) -> int:
    values = {"body": "A few words.", "tags": ("operations",), "authors": ("marcus-bell",)}
    return create_post(connection, call_as(), PostFields(title=title, **{**values, **fields})).id  # type: ignore[arg-type]


def test_each_kind_of_post_change_writes_exactly_its_events(demo_engine: Engine) -> None:
    watch = _Watch(demo_engine)

    def step(change: object) -> list[str]:
        with writing(demo_engine) as connection:
            change(connection)  # type: ignore[operator]
        return watch.types()

    made: dict[str, int] = {}
    assert step(lambda c: made.update(id=_draft(c, "Watched"))) == []
    post = made["id"]
    assert step(lambda c: edit_post(c, call_as(), post, PostFields(dek="Edited."))) == []
    assert step(lambda c: publish_post(c, call_as(), post)) == ["post.published"]
    assert step(lambda c: edit_post(c, call_as(), post, PostFields(title="Watched, again"))) == []
    assert step(lambda c: publish_post(c, call_as(), post)) == ["post.updated"]
    assert step(lambda c: unpublish_post(c, call_as(), post)) == ["post.unpublished"]
    assert step(lambda c: archive_post(c, call_as(), post)) == ["post.archived"]
    assert step(lambda c: made.update(id=_draft(c, "Later"))) == []
    later, due = made["id"], datetime.now(UTC) + timedelta(seconds=1)
    assert step(lambda c: schedule_post(c, call_as(), later, due)) == ["post.scheduled"]
    assert step(lambda c: unschedule_post(c, call_as(), later)) == ["post.unscheduled"]
    assert step(lambda c: schedule_post(c, call_as(), later, due)) == ["post.scheduled"]
    worker = call_as(WORKER, due + timedelta(seconds=1), source=RevisionSource.WORKER)
    assert step(lambda c: publish_when_due(c, worker, later)) == ["post.published"]


def test_tags_staff_and_settings_write_an_event_only_when_something_changed(
    demo_engine: Engine,
) -> None:
    watch = _Watch(demo_engine)
    member = StaffMember("new-hand", "New Hand", "Writer", "Editorial", StaffKind.AGENT)
    steps = [
        (lambda c: tag_actions.add_tag(c, call_as(), Tag("fresh", "Fresh")), ["tag.changed"]),
        (lambda c: tag_actions.change_tag(c, call_as(), "fresh", "Fresher", None), ["tag.changed"]),
        (lambda c: tag_actions.change_tag(c, call_as(), "fresh", "Fresher", None), []),
        (lambda c: tag_actions.delete_tag(c, call_as(), "fresh"), ["tag.changed"]),
        (lambda c: staff_actions.add_staff(c, call_as(), member), ["staff.changed"]),
        (
            lambda c: staff_actions.change_staff(
                c, call_as(), "new-hand", staff_actions.StaffChanges(role=Role.EDITOR)
            ),
            ["staff.changed"],
        ),
        (
            lambda c: staff_actions.change_staff(
                c, call_as(), "new-hand", staff_actions.StaffChanges(role=Role.EDITOR)
            ),
            [],
        ),
        (lambda c: update_site_settings(c, call_as(), {"title": "Renamed"}), ["settings.changed"]),
        (lambda c: update_site_settings(c, call_as(), {"title": "Renamed"}), []),
    ]
    for change, expected in steps:
        with writing(demo_engine) as connection:
            change(connection)
        assert watch.types() == expected


def test_an_event_carries_what_the_change_erased_and_the_pages_it_touched(
    demo_engine: Engine,
) -> None:
    with writing(demo_engine) as connection:
        post = _draft(connection, "Moving house")
        publish_post(connection, call_as(), post)
    watch = _Watch(demo_engine)
    with writing(demo_engine) as connection:
        edit_post(connection, call_as(), post, PostFields(slug="new-house", tags=("security",)))
        publish_post(connection, call_as(), post)
    (event,) = watch.new()
    assert (event.type, event.subject_id, event.actor, event.source) == (
        EventType.POST_UPDATED,
        str(post),
        "operator",
        "cli",
    )
    assert event.facts["live_before"] == {
        "slug": "moving-house",
        "tags": ["operations"],
        "authors": ["marcus-bell"],
    }
    assert event.facts["live_after"]["slug"] == "new-house"
    touched = expand(event.affected)
    for page in ("/posts/moving-house/", "/posts/new-house/", "/tag/operations/", "/tag/security/"):
        assert page in touched
    assert {urls.FEED, urls.SITEMAP, "/tag/operations/feed.xml", "/tag/security/feed.xml"} <= set(
        touched
    )


def _task_count(engine: Engine) -> int:
    with reading(engine) as connection:
        return int(connection.execute(select(func.count()).select_from(tasks)).scalar_one())


def test_a_change_that_fails_after_writing_leaves_no_event(engine: Engine) -> None:
    with writing(engine) as connection:
        tag_actions.add_tag(connection, call_as(), Tag("operations", "Operations"))
        staff_actions.add_staff(
            connection,
            call_as(),
            StaffMember("marcus-bell", "Marcus Bell", "", "", StaffKind.PERSON),
        )
        post = _draft(connection, "Doomed")
    before, queued = len(_events(engine)), _task_count(engine)

    def publish_then_fail() -> None:
        with writing(engine) as connection:
            publish_post(connection, call_as(), post)
            raise RuntimeError("the transaction dies after the event was written")

    with pytest.raises(RuntimeError):
        publish_then_fail()
    assert len(_events(engine)) == before
    assert _task_count(engine) == queued  # nor the dispatcher the event asked for


def test_a_thousand_publishes_give_a_thousand_ordered_events(demo_engine: Engine) -> None:
    with writing(demo_engine) as connection:
        posts = [_draft(connection, f"Round {number}") for number in range(10)]
    first = len(_events(demo_engine))
    published = []
    for number in range(1000):
        post = posts[number % len(posts)]
        with writing(demo_engine) as connection:
            publish_post(connection, call_as(), post)
        published.append(str(post))
    found = _events(demo_engine)[first:]
    assert len(found) == 1000
    assert [event.subject_id for event in found] == published
    assert all(earlier.id < later.id for earlier, later in itertools.pairwise(found))
    assert [event.type for event in found[:10]] == [EventType.POST_PUBLISHED] * 10
    assert {event.type for event in found[10:]} == {EventType.POST_UPDATED}


# --- consumers -------------------------------------------------------------------------


def _seeing(name: str) -> Consumer:
    def deliver(connection: Connection, batch: Sequence[Event], at: datetime) -> None:
        for event in batch:
            enqueue(connection, NewTask(SEEN, {"consumer": name, "event": event.id}), at=at)

    return Consumer(name, deliver, from_start=True)


def _seen(engine: Engine) -> Counter[tuple[str, int]]:
    with reading(engine) as connection:
        payloads = connection.execute(select(tasks.c.payload).where(tasks.c.kind == SEEN))
        return Counter(
            (found["consumer"], found["event"]) for found in map(json.loads, payloads.scalars())
        )


QUICK = {
    "queue_lease_seconds": 4,
    "queue_heartbeat_seconds": 0.5,
    "queue_reaper_seconds": 0.5,
    "queue_poll_seconds": 0.1,
    "queue_grace_seconds": 5,
}


@contextmanager
def _worker(engine: Engine, consumers: Sequence[Consumer]) -> Iterator[None]:
    settings = settings_for(engine.url.render_as_string(hide_password=False), **QUICK)
    registry = Registry.from_settings(settings)
    register_handlers(registry)
    for consumer in consumers:
        registry.consume(consumer)
    worker = QueueWorker(settings=settings, engine=engine, registry=registry)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        worker.request_stop()
        thread.join(30)
        assert not thread.is_alive()


def _caught_up(engine: Engine, names: Sequence[str]) -> bool:
    with reading(engine) as connection:
        latest = event_store.latest_id(connection)
        return all(event_store.cursor(connection, name) == latest for name in names)


def _record_some(engine: Engine, count: int, label: str) -> None:
    for number in range(count):
        with writing(engine) as connection:
            new = NewEvent(EventType.TAG_CHANGED, "tag", f"{label}-{number}")
            record_event(connection, call_as(), new)


def test_two_consumers_each_see_every_event_once_across_a_restart(engine: Engine) -> None:
    consumers = [_seeing("left"), _seeing("right")]
    with _worker(engine, consumers):
        _record_some(engine, 25, "first")
        wait_until(lambda: _caught_up(engine, ["left", "right"]), 60, "the first events")
    _record_some(engine, 25, "while-stopped")  # nobody dispatches: they wait in the outbox
    with _worker(engine, consumers):
        wait_until(lambda: _caught_up(engine, ["left", "right"]), 60, "the events it missed")
        _record_some(engine, 10, "after")
        wait_until(lambda: _caught_up(engine, ["left", "right"]), 60, "the last events")
    ids = [event.id for event in _events(engine)]
    assert len(ids) == 60
    seen = _seen(engine)
    assert seen == Counter({(name, event): 1 for name in ("left", "right") for event in ids})


def test_concurrent_writers_skip_no_event_for_a_reader_on_the_way(engine: Engine) -> None:
    """Writers hold their transactions open a little after writing their event, so that
    ids are drawn in one order and committed in another; a dispatcher reads all along."""
    consumer = _seeing("reader")
    done = threading.Event()
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            for number in range(25):
                with writing(engine) as connection:
                    new = NewEvent(EventType.TAG_CHANGED, "tag", f"w{writer}-{number}")
                    record_event(connection, call_as(), new)
                    time.sleep(random.uniform(0, 0.015))
        except BaseException as error:
            failures.append(error)

    def read() -> None:
        while not done.is_set() or not _caught_up(engine, ["reader"]):
            with writing(engine) as connection:
                dispatch(connection, [consumer], datetime.now(UTC))
            time.sleep(0.002)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    reader = threading.Thread(target=read)
    reader.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    reader.join(60)
    assert failures == []
    ids = [event.id for event in _events(engine)]
    assert len(ids) == 100
    assert _seen(engine) == Counter({("reader", event): 1 for event in ids})


def test_import_writes_audit_entries_and_events_and_a_reimport_writes_none(
    engine: Engine,
) -> None:
    def counts() -> tuple[int, Counter[str]]:
        with reading(engine) as connection:
            audited = connection.execute(select(func.count()).select_from(audit_log))
            return audited.scalar_one(), Counter(e.type.value for e in _events(engine))

    import_into(engine, DEMO_CONTENT)
    audited, typed = counts()
    assert typed == {"post.published": 14, "tag.changed": 7, "staff.changed": 5}
    assert audited == 16 + 14 + 7 + 5  # posts created, published; tags and staff added
    with reading(engine) as connection:
        sources = connection.execute(select(audit_log.c.detail)).scalars().all()
    assert all('"source": "import"' in detail for detail in sources)
    import_into(engine, DEMO_CONTENT)
    assert counts() == (audited, typed)
