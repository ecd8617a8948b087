"""Scheduled publishing through the API, done by a real worker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from masthead.actions.context import WORKER
from masthead.actions.scheduling import NotDueYet, publish_when_due
from masthead.domain.posts import RevisionSource
from masthead.domain.tasks import SCHEDULED_PUBLISH
from masthead.queue.embedded import start_embedded_worker
from masthead.store.engine import reading, writing
from masthead.store.schema import tasks
from tests.api_support import ApiWorld
from tests.conftest import settings_for
from tests.operators import call_as

QUICK_QUEUE = {
    "queue_poll_seconds": 0.2,
    "queue_lease_seconds": 3,
    "queue_heartbeat_seconds": 1,
    "queue_reaper_seconds": 1,
    "queue_grace_seconds": 1,
}


@contextmanager
def _worker(api: ApiWorld) -> Iterator[None]:
    settings = settings_for(str(api.engine.url.render_as_string(False)), **QUICK_QUEUE)
    handle = start_embedded_worker(settings, api.engine, concurrency=2)
    try:
        yield
    finally:
        handle.stop()


def _schedule(api: ApiWorld, post_id: int, at: datetime) -> dict[str, object]:
    with api.client("editor") as editor:
        etag = editor.get(f"/posts/{post_id}").headers["etag"]
        response = editor.post(
            f"/posts/{post_id}/schedule", json={"at": at.isoformat()}, headers={"If-Match": etag}
        )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _live(api: ApiWorld, slug: str) -> bool:
    with api.server.client() as public:
        return public.get(f"/posts/{slug}/").status_code == 200


def _wait_live(api: ApiWorld, slug: str, seconds: float) -> float:
    deadline = time.monotonic() + seconds
    while not _live(api, slug):
        assert time.monotonic() < deadline, f"{slug} did not go live in {seconds} s"
        time.sleep(0.05)
    return time.monotonic()


def test_a_scheduled_post_goes_live_within_a_poll_interval(api: ApiWorld) -> None:
    post = api.create_post("writer", title="On the hour")
    at = datetime.now(UTC) + timedelta(seconds=1.5)
    scheduled = _schedule(api, int(str(post["id"])), at)
    assert scheduled["status"] == "scheduled"
    with _worker(api):
        assert not _live(api, "on-the-hour")
        _wait_live(api, "on-the-hour", 10)
        went_live = datetime.now(UTC)
    # A poll interval (0.2 s) plus the publish, its gates and a page fetch; the margin is
    # sized for a loaded 2-core machine, where one slow poll can take a second.
    assert went_live - at < timedelta(seconds=3)
    with api.client("editor") as editor:
        live = editor.get(f"/posts/{post['id']}").json()
        assert live["status"] == "published"
        assert live["published_at"].startswith(at.isoformat()[:19])


def test_with_no_worker_at_the_time_it_goes_live_when_one_starts_and_says_how_late(
    api: ApiWorld,
) -> None:
    post = api.create_post("writer", title="Running late")
    _schedule(api, int(str(post["id"])), datetime.now(UTC) + timedelta(seconds=0.3))
    time.sleep(1.5)
    assert not _live(api, "running-late")
    with _worker(api):
        _wait_live(api, "running-late", 10)
    with api.client("admin") as admin:
        entries = admin.get("/audit", params={"target": f"post:{post['id']}"}).json()["items"]
    publish = next(entry for entry in entries if entry["action"] == "post.publish")
    assert publish["actor"] is None
    assert publish["detail"]["source"] == "worker"
    assert publish["detail"]["late_by_seconds"] >= 1.0


def test_unscheduling_removes_the_task_and_nothing_goes_live(api: ApiWorld) -> None:
    post = api.create_post("writer", title="Never mind")
    _schedule(api, int(str(post["id"])), datetime.now(UTC) + timedelta(seconds=1))
    with api.client("editor") as editor:
        etag = editor.get(f"/posts/{post['id']}").headers["etag"]
        back = editor.delete(f"/posts/{post['id']}/schedule", headers={"If-Match": etag})
        assert back.json()["status"] == "draft"
        queued = editor.get("/tasks", params={"state": "queued"}).json()["items"]
        assert all(task["payload"].get("post_id") != post["id"] for task in queued)
    assert _publish_task_states(api) == ["cancelled"]
    with _worker(api):
        time.sleep(1.5)
    assert not _live(api, "never-mind")


def test_rescheduling_keeps_one_pending_task_and_writers_cannot_schedule(api: ApiWorld) -> None:
    post = api.create_post("writer", title="Moved")
    later = datetime.now(UTC) + timedelta(hours=1)
    _schedule(api, int(str(post["id"])), later)
    _schedule(api, int(str(post["id"])), later + timedelta(hours=1))
    assert sorted(_publish_task_states(api)) == ["cancelled", "queued"]
    with api.client("writer") as writer:
        etag = writer.get(f"/posts/{post['id']}").headers["etag"]
        refused = writer.post(
            f"/posts/{post['id']}/schedule",
            json={"at": later.isoformat()},
            headers={"If-Match": etag},
        )
    assert refused.status_code == 403
    with api.client("editor") as editor:
        workers = editor.get("/workers")
        assert workers.status_code == 200
        kinds = {task["kind"] for task in editor.get("/tasks").json()["items"]}
        assert "publish.scheduled" in kinds
    with api.client("writer") as writer:
        assert writer.get("/tasks").status_code == 403


def test_publishing_a_scheduled_post_early_dates_it_now_and_drops_the_task(
    api: ApiWorld,
) -> None:
    post = api.create_post("writer", title="Early bird")
    _schedule(api, int(str(post["id"])), datetime.now(UTC) + timedelta(days=30))
    with api.client("editor") as editor:
        etag = editor.get(f"/posts/{post['id']}").headers["etag"]
        answer = editor.post(f"/posts/{post['id']}/publish", headers={"If-Match": etag})
        live = answer.json()["post"]
    assert datetime.fromisoformat(live["published_at"]) <= datetime.now(UTC)
    assert _publish_task_states(api) == ["cancelled"]


def test_a_scheduled_publish_retried_early_by_hand_does_not_publish(api: ApiWorld) -> None:
    """The task of a schedule that was moved is cancelled; retried, it is refused (the new
    one holds the post's key), and a publish run before its time publishes nothing."""
    post = api.create_post("writer", title="Not yet")
    post_id = int(str(post["id"]))
    _schedule(api, post_id, datetime.now(UTC) + timedelta(days=30))
    _schedule(api, post_id, datetime.now(UTC) + timedelta(days=31))
    with api.client("editor") as editor:
        tasks_now = editor.get("/tasks", params={"kind": SCHEDULED_PUBLISH}).json()["items"]
        old = next(task for task in tasks_now if task["state"] == "cancelled")
        retried = editor.post(f"/tasks/{old['id']}/retry")
    assert retried.status_code == 409
    assert retried.json()["code"] == "unique_key_pending"
    worker = call_as(WORKER, datetime.now(UTC), source=RevisionSource.WORKER)
    with pytest.raises(NotDueYet), writing(api.engine) as connection:
        publish_when_due(connection, worker, post_id)
    assert not _live(api, "not-yet")


def test_a_live_slug_stays_reserved_until_the_rename_goes_live(api: ApiWorld) -> None:
    post = api.create_post("editor", title="Keep me")
    with api.client("editor") as editor:
        editor.post(f"/posts/{post['id']}/publish", headers={"If-Match": '"rev-1"'})
        editor.patch(
            f"/posts/{post['id']}", json={"slug": "kept-elsewhere"}, headers={"If-Match": '"rev-1"'}
        )
        thief = editor.post("/posts", json={"title": "Thief", "slug": "keep-me"})
    assert thief.status_code == 409
    assert thief.json()["code"] == "slug_taken"


def _publish_task_states(api: ApiWorld) -> list[str]:
    """The states of the scheduled-publish tasks (lifecycle events queue dispatchers too)."""
    query = select(tasks.c.state).where(tasks.c.kind == SCHEDULED_PUBLISH).order_by(tasks.c.id)
    with reading(api.engine) as connection:
        return list(connection.execute(query).scalars())


def test_a_scheduled_posts_publish_task_cannot_be_cancelled_on_its_own(api: ApiWorld) -> None:
    """Cancelled by hand it would leave the post `scheduled` with nothing to publish it."""
    post = api.create_post("writer", title="Not by hand")
    _schedule(api, int(str(post["id"])), datetime.now(UTC) + timedelta(days=3))
    with api.client("editor") as editor:
        task = next(
            item
            for item in editor.get("/tasks").json()["items"]
            if item["kind"] == SCHEDULED_PUBLISH
        )
        refused = editor.post(f"/tasks/{task['id']}/cancel")
        assert refused.status_code == 409
        assert refused.json()["post_id"] == post["id"]
        assert "unschedule the post instead" in refused.json()["detail"]
        assert editor.get(f"/posts/{post['id']}").json()["status"] == "scheduled"
        etag = editor.get(f"/posts/{post['id']}").headers["etag"]
        editor.delete(f"/posts/{post['id']}/schedule", headers={"If-Match": etag})
    assert _publish_task_states(api) == ["cancelled"]
