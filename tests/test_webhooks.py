"""Webhooks end to end: real receivers on loopback, a real worker, both databases.

Every receiver checks every signature (a bad one is answered 401 and counted).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from masthead.actions.drafts import PostFields, edit_post
from masthead.actions.publishing import archive_post, publish_post, unpublish_post
from masthead.actions.scheduling import schedule_post
from masthead.actions.tags import add_tag
from masthead.actions.tasks import enqueue
from masthead.actions.webhooks import WebhookChanges, change_webhook
from masthead.domain.events import Event
from masthead.domain.staff import Tag
from masthead.domain.tasks import SCHEDULED_PUBLISH, NewTask
from masthead.domain.webhooks import DeliveryState
from masthead.settings import Settings
from masthead.store import events as event_store
from masthead.store.engine import reading, writing
from masthead.store.schema import audit_log, task_runs
from masthead.store.webhooks import get_webhook
from tests.operators import call_as
from tests.queue_support import PATIENCE, wait_until
from tests.webhook_support import (
    Receiver,
    add_webhook,
    deliveries,
    delivering_worker,
    draft,
    serving,
    signature_holds,
    webhook_settings,
)

EVERY_TYPE = [
    "post.published",
    "post.updated",
    "post.unpublished",
    "post.archived",
    "post.scheduled",
    "publish.unverified",
    "task.failed",
]


def test_each_event_type_is_delivered_once_per_change_signed_with_its_body(
    demo_engine: Engine,
) -> None:
    settings = webhook_settings(demo_engine)
    receiver = Receiver()
    with serving(receiver) as url, delivering_worker(demo_engine, settings):
        webhook_id, receiver.secret = add_webhook(demo_engine, settings, url, EVERY_TYPE)
        call = call_as(settings=settings)
        with writing(demo_engine) as connection:
            post = draft(connection, "Hooked", settings)
            publish_post(connection, call, post)
        with writing(demo_engine) as connection:
            edit_post(connection, call, post, PostFields(title="Hooked, again"))
            publish_post(connection, call_as(settings=settings), post)  # a newer revision
        with writing(demo_engine) as connection:
            unpublish_post(connection, call_as(settings=settings), post)
            archive_post(connection, call_as(settings=settings), post)
            later = draft(connection, "Later", settings)
            schedule_post(connection, call_as(settings=settings), later, _soon(3600))
            broken = NewTask(SCHEDULED_PUBLISH, {"nothing": True})
            enqueue(connection, broken, at=datetime.now(UTC))
        wanted = {
            "post.published",
            "post.updated",
            "post.unpublished",
            "post.archived",
            "post.scheduled",
        }
        wanted |= {"publish.unverified", "task.failed"}
        wait_until(
            lambda: wanted <= {item.document["type"] for item in receiver.received},
            PATIENCE,
            "every event type at the receiver",
        )
    assert receiver.bad_signatures == 0
    events = _events_by_id(demo_engine)
    got = Counter(item.headers["masthead-event-id"] for item in receiver.received)
    assert all(count == 1 for count in got.values()), got
    for item in receiver.received:
        document = item.document
        event = events[document["sequence"]]
        assert document["id"] == item.headers["masthead-event-id"] == f"evt_{event.id}"
        assert document["type"] == event.type.value == item.headers["masthead-event-type"]
        assert document["resource"]["type"] == event.subject_type
        assert document["resource"]["id"] == event.subject_id
    published = [
        item.document for item in receiver.received if item.document["type"] == "post.published"
    ]
    assert published[0]["resource"]["facts"]["live_after"]["slug"] == "hooked"
    states = Counter(delivery.state for delivery in deliveries(demo_engine, webhook_id))
    assert states[DeliveryState.DELIVERED] == len(receiver.received)


def test_a_receiver_that_fails_n_times_then_answers_gets_the_event_once(engine: Engine) -> None:
    failures = 3
    settings = webhook_settings(engine)
    receiver = Receiver(statuses=[500] * failures)
    with serving(receiver) as url, delivering_worker(engine, settings):
        webhook_id, receiver.secret = add_webhook(engine, settings, url, ["tag.changed"])
        _tag_event(engine, settings, "retried")
        wait_until(
            lambda: _states(engine, webhook_id) == [DeliveryState.DELIVERED],
            PATIENCE,
            "the delivery after its retries",
        )
    (delivery,) = deliveries(engine, webhook_id)
    assert [attempt.status for attempt in delivery.log] == [500] * failures + [200]
    assert delivery.log[0].answer == "ok"
    assert delivery.log[0].latency_ms >= 0
    assert len(receiver.received) == failures + 1
    assert len(set(receiver.event_ids())) == 1
    runs = _runs(engine, delivery.task_id)
    assert runs.count("errored") == failures
    assert runs.count("succeeded") == 1


def test_a_receiver_down_past_the_budget_fails_the_delivery_visibly(engine: Engine) -> None:
    settings = webhook_settings(engine, webhook_retry_budget_seconds=1.5)
    receiver = Receiver()
    with serving(receiver) as url:
        pass  # the port is closed again: nothing listens there now
    with delivering_worker(engine, settings):
        webhook_id, _ = add_webhook(engine, settings, url, ["tag.changed"])
        _tag_event(engine, settings, "unheard")
        wait_until(
            lambda: _states(engine, webhook_id) == [DeliveryState.FAILED],
            PATIENCE,
            "the delivery to fail",
        )
        wait_until(lambda: _failed_events(engine) != [], PATIENCE, "its task.failed event")
    (delivery,) = deliveries(engine, webhook_id)
    assert len(delivery.log) >= 2
    assert all(attempt.status is None and attempt.error for attempt in delivery.log)
    with reading(engine) as connection:
        actions = list(connection.execute(select(audit_log.c.action, audit_log.c.detail)))
    failed = [
        json.loads(detail) for action, detail in actions if action == "webhook.delivery_failed"
    ]
    assert len(failed) == 1
    assert failed[0]["delivery_id"] == delivery.id
    assert failed[0]["error_code"] == "webhook_budget_spent"
    (event,) = _failed_events(engine)
    assert event.facts["kind"] == "webhook.deliver"
    # the failure's own event is never delivered to webhooks: no delivery was made for it
    assert [item.event_id for item in deliveries(engine, webhook_id)] == [delivery.event_id]


def test_a_410_pauses_the_webhook_and_fails_the_delivery(engine: Engine) -> None:
    settings = webhook_settings(engine)
    receiver = Receiver(statuses=[410])
    with serving(receiver) as url, delivering_worker(engine, settings):
        webhook_id, receiver.secret = add_webhook(engine, settings, url, ["tag.changed"])
        _tag_event(engine, settings, "gone")
        wait_until(
            lambda: _states(engine, webhook_id) == [DeliveryState.FAILED], PATIENCE, "a failure"
        )
        _tag_event(engine, settings, "after-the-pause")
        wait_until(lambda: _dispatched(engine), PATIENCE, "the dispatcher to catch up")
    assert len(receiver.received) == 1
    assert len(deliveries(engine, webhook_id)) == 1
    with reading(engine) as connection:
        webhook = get_webhook(connection, webhook_id)
    assert webhook is not None
    assert not webhook.active
    assert webhook.paused_reason == "the receiver answered 410 Gone"


def test_a_change_that_rolls_back_sends_nothing_and_100_publishes_send_100_in_order(
    demo_engine: Engine,
) -> None:
    settings = webhook_settings(demo_engine)
    receiver = Receiver()
    with serving(receiver) as url:
        webhook_id, receiver.secret = add_webhook(demo_engine, settings, url, ["post.published"])
        with pytest.raises(RuntimeError, match="roll it back"):
            _publish_and_roll_back(demo_engine, settings)
        started = time.monotonic()
        for number in range(100):
            with writing(demo_engine) as connection:
                post = draft(connection, f"Post {number}", settings)
                publish_post(connection, call_as(settings=settings), post)
        print(f"100 publishes: {time.monotonic() - started:.1f} s")
        with delivering_worker(demo_engine, settings, only_webhooks=True):
            wait_until(lambda: len(receiver.received) >= 100, PATIENCE, "100 deliveries")
    assert receiver.bad_signatures == 0
    sequences = [item.document["sequence"] for item in receiver.received]
    assert len(set(sequences)) == 100
    titles = [
        item.document["resource"]["facts"]["live_after"]["slug"]
        for item in sorted(receiver.received, key=lambda item: item.document["sequence"])
    ]
    assert titles == [f"post-{number}" for number in range(100)]
    assert "no" not in titles
    assert len(deliveries(demo_engine, webhook_id)) == 100


def test_a_rotated_secret_signs_beside_the_old_one_for_the_grace_period(engine: Engine) -> None:
    settings = webhook_settings(engine)
    old, new = Receiver(), Receiver()
    with serving(old) as url, delivering_worker(engine, settings):
        webhook_id, old.secret = add_webhook(engine, settings, url, ["tag.changed"])
        with writing(engine) as connection:
            rotated = change_webhook(
                connection,
                call_as(settings=settings),
                webhook_id,
                WebhookChanges(rotate_secret=True),
            )
        assert rotated.secret is not None
        assert rotated.secret != old.secret
        new.secret = rotated.secret
        _tag_event(engine, settings, "rotated")
        wait_until(lambda: len(old.received) == 1, PATIENCE, "the delivery")
    (request,) = old.received
    assert len(request.headers["masthead-signature"].split()) == 2
    assert signature_holds(new.secret, request)
    verify = _documented_verify()
    body = request.body.encode()
    assert verify(new.secret, request.headers, body)
    assert verify(old.secret, request.headers, body)
    assert not verify("whsec_wrong", request.headers, body)
    assert not verify(new.secret, request.headers, body + b" ")
    stale = {**request.headers, "masthead-timestamp": str(int(time.time()) - 301)}
    assert not verify(new.secret, stale, body)


def _documented_verify() -> Callable[[str, dict[str, str], bytes], bool]:
    """The receiver's snippet in docs/webhooks.md, run as written."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "webhooks.md").read_text()
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)
    verify: Callable[[str, dict[str, str], bytes], bool] = namespace["verify"]
    return verify


def _publish_and_roll_back(engine: Engine, settings: Settings) -> None:
    with writing(engine) as connection:
        publish_post(connection, call_as(settings=settings), draft(connection, "No", settings))
        raise RuntimeError("roll it back")


def _soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def _tag_event(engine: Engine, settings: Settings, label: str) -> None:
    with writing(engine) as connection:
        add_tag(connection, call_as(settings=settings), Tag(label, label.title()))


def _states(engine: Engine, webhook_id: int) -> list[DeliveryState]:
    return [delivery.state for delivery in deliveries(engine, webhook_id)]


def _events_by_id(engine: Engine) -> dict[int, Event]:
    with reading(engine) as connection:
        found = event_store.events_after(connection, 0, limit=100_000)
    return {event.id: event for event in found}


def _failed_events(engine: Engine) -> list[Event]:
    with reading(engine) as connection:
        found = event_store.events_after(connection, 0, limit=100_000)
    return [event for event in found if event.type.value == "task.failed"]


def _dispatched(engine: Engine) -> bool:
    with reading(engine) as connection:
        return event_store.cursor(connection, "webhooks") == event_store.latest_id(connection)


def _runs(engine: Engine, task_id: int | None) -> list[str]:
    with reading(engine) as connection:
        query = select(task_runs.c.outcome).where(task_runs.c.task_id == task_id)
        return [row.outcome for row in connection.execute(query.order_by(task_runs.c.attempt))]
