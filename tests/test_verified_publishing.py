"""Verified publishing: gates before, a receipt after, and the live site checked over HTTP
by a real worker until the receipt is verified, or its window runs out."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from masthead.actions.approvals import approve_post
from masthead.actions.context import WORKER, Call
from masthead.actions.drafts import PostFields, create_post, edit_post
from masthead.actions.gates import GATES_SETTING, GatesFailed
from masthead.actions.publishing import publish_post, unpublish_post
from masthead.actions.scheduling import publish_when_due, schedule_post
from masthead.actions.site_settings import update_site_settings
from masthead.actions.staff import add_staff
from masthead.actions.verification import VERIFY
from masthead.domain.permissions import Actor
from masthead.domain.posts import PostStatus, RevisionSource
from masthead.domain.receipts import Receipt, ReceiptState
from masthead.domain.staff import Role, StaffKind, StaffMember
from masthead.queue.registry import load_registry
from masthead.queue.worker import QueueWorker
from masthead.settings import Settings
from masthead.store import receipts as receipt_store
from masthead.store.engine import open_engine, reading, writing
from masthead.store.posts import get_post
from masthead.store.schema import events, tasks
from tests.conftest import LiveServer, settings_for
from tests.edge_proxy import EdgeProxy
from tests.operators import call_as
from tests.queue_support import (
    LEASE_SECONDS,
    PATIENCE,
    all_runs,
    open_run_pids,
    wait_until,
    worker_processes,
)

BODY = " ".join(
    f"Sentence {number} of a post that says what it means and has enough words to pass."
    for number in range(8)
)
PUBLIC_URL = "https://blog.example.test"  # the live server's public URL (settings_for)
QUICK = {
    "queue_lease_seconds": 6,
    "queue_heartbeat_seconds": 0.5,
    "queue_reaper_seconds": 0.5,
    "queue_poll_seconds": 0.1,
    "queue_grace_seconds": 5,
    "verify_retry_seconds": 0.2,
}


@dataclass
class Site:
    engine: Engine
    server: LiveServer
    settings: Settings
    editor: Actor

    def call(self, actor: Actor | None = None, **options: object) -> Call:
        return call_as(actor or self.editor, settings=self.settings, **options)  # type: ignore[arg-type]


@pytest.fixture
def site(demo_database_url: str) -> Iterator[Site]:
    engine = open_engine(demo_database_url)
    server_settings = settings_for(demo_database_url)
    with writing(engine) as connection:
        member = StaffMember("eve", "Eve Editor", "Editor", "Editorial", StaffKind.PERSON)
        add_staff(connection, call_as(), StaffMember(**{**member.__dict__, "role": Role.EDITOR}))
        staff_id = connection.exec_driver_sql("SELECT id FROM staff WHERE slug = 'eve'").scalar()
    with LiveServer(server_settings) as server:
        yield Site(engine, server, server_settings, Actor(int(staff_id), "eve", Role.EDITOR))
    engine.dispose()


@contextmanager
def _worker(site: Site, verify_url: str, **settings: object) -> Iterator[None]:
    values = {**QUICK, "verify_url": verify_url, **settings}
    worker_settings = settings_for(site.engine.url.render_as_string(hide_password=False), **values)
    worker = QueueWorker(
        settings=worker_settings, engine=site.engine, registry=load_registry(worker_settings)
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        worker.request_stop()
        thread.join(30)


def _draft(site: Site, title: str, **fields: object) -> int:
    values = {"dek": "What it says.", "body": BODY, "tags": ("operations",), "authors": ("ledger",)}
    with writing(site.engine) as connection:
        post = create_post(
            connection,
            call_as(),
            PostFields(title=title, **{**values, **fields}),  # type: ignore[arg-type]
        )
    return post.id


def _receipt(site: Site, receipt_id: int) -> Receipt:
    with reading(site.engine) as connection:
        found = receipt_store.get_receipt(connection, receipt_id)
    assert found is not None
    return found


def _until_ended(site: Site, receipt_id: int, seconds: float = 60) -> Receipt:
    deadline = time.monotonic() + seconds
    while (receipt := _receipt(site, receipt_id)).state is ReceiptState.PENDING:
        assert time.monotonic() < deadline, f"receipt {receipt_id} still pending: {receipt}"
        time.sleep(0.1)
    return receipt


def _publish(site: Site, post_id: int) -> Receipt:
    with writing(site.engine) as connection:
        done = publish_post(connection, site.call(), post_id)
    assert done.receipt is not None
    return done.receipt


def test_a_publish_is_verified_on_the_live_site_check_by_check(site: Site) -> None:
    post_id = _draft(site, "Checked live")
    receipt = _publish(site, post_id)
    assert receipt.state is ReceiptState.PENDING
    assert "/posts/checked-live/" in receipt.pages
    with _worker(site, site.server.url):
        ended = _until_ended(site, receipt.id)
    assert ended.state is ReceiptState.VERIFIED, ended.checks
    names = [check.name for check in ended.checks]
    assert names == [
        "status", "title", "canonical", "revision",
        "author:ledger", "index", "tag:operations", "feed", "sitemap",
    ]  # fmt: skip
    assert all(check.ok and check.duration_ms >= 0 for check in ended.checks)
    assert ended.seconds_to_verified is not None
    assert ended.actor == "eve"
    assert ended.actor_kind == "person"
    with reading(site.engine) as connection:
        types = connection.execute(select(events.c.type).order_by(events.c.id)).scalars().all()
    assert types[-2:] == ["post.published", "publish.verified"]


def test_a_lagging_edge_is_retried_until_the_receipt_is_verified(site: Site) -> None:
    post_id = _draft(site, "Lagging edge")
    proxy = EdgeProxy(site.server.url, stale_for=3)
    with proxy.running():
        proxy.warm(["/posts/lagging-edge/", "/", "/feed.xml", "/sitemap.xml"])
        receipt = _publish(site, post_id)
        with _worker(site, proxy.url):
            ended = _until_ended(site, receipt.id)
    assert ended.state is ReceiptState.VERIFIED
    assert len(ended.attempts) >= 2
    first = ended.attempts[0]
    assert not first.ok
    assert {check.name for check in first.checks if not check.ok} >= {"status", "index"}


def test_an_edge_that_keeps_the_old_site_leaves_the_receipt_unverified(site: Site) -> None:
    post_id = _draft(site, "Never there")
    proxy = EdgeProxy(site.server.url, stale_for=None)
    with proxy.running():
        proxy.warm(["/posts/never-there/", "/", "/feed.xml", "/sitemap.xml"])
        receipt = _publish(site, post_id)
        with _worker(site, proxy.url, verify_window_seconds=2):
            ended = _until_ended(site, receipt.id)
    assert ended.state is ReceiptState.UNVERIFIED
    assert len(ended.attempts) >= 2
    assert not ended.checks[0].ok
    with reading(site.engine) as connection:
        last = connection.execute(select(events.c.type).order_by(events.c.id.desc())).first()
    assert last is not None
    assert last.type == "publish.unverified"


def test_an_unpublish_is_verified_gone_from_the_page_and_every_listing(site: Site) -> None:
    post_id = _draft(site, "Here then gone")
    with _worker(site, site.server.url):
        assert _until_ended(site, _publish(site, post_id).id).state is ReceiptState.VERIFIED
        with writing(site.engine) as connection:
            down = unpublish_post(connection, site.call(), post_id)
        assert down.receipt is not None
        ended = _until_ended(site, down.receipt.id)
    assert ended.state is ReceiptState.VERIFIED, ended.checks
    assert ended.checks[0].status == 404
    with site.server.client() as client:
        assert client.get("/posts/here-then-gone/").status_code == 404


def test_a_blocking_gate_refuses_the_publish_and_changes_nothing(site: Site) -> None:
    post_id = _draft(site, "Not ready", body=f"{BODY}\n\nTODO: the ending.")
    with reading(site.engine) as connection:
        before = connection.execute(select(events.c.id)).scalars().all()
    with pytest.raises(GatesFailed) as refused, writing(site.engine) as connection:
        publish_post(connection, site.call(), post_id)
    assert "placeholder_text" in str(refused.value)
    with reading(site.engine) as connection:
        assert connection.execute(select(events.c.id)).scalars().all() == before
        post = get_post(connection, post_id)
    assert post is not None
    assert post.status is PostStatus.DRAFT


def test_what_agents_write_can_be_made_to_wait_for_a_person_s_approval(site: Site) -> None:
    post_id = _draft(site, "Agent wrote this")  # by ledger, an agent
    with writing(site.engine) as connection:
        update_site_settings(connection, call_as(), {GATES_SETTING: {"not_approved": "block"}})
    with pytest.raises(GatesFailed), writing(site.engine) as connection:
        publish_post(connection, site.call(), post_id)
    with writing(site.engine) as connection:
        approve_post(connection, site.call(), post_id)
        edit_post(connection, call_as(), post_id, PostFields(dek="Edited after approval."))
    with pytest.raises(GatesFailed), writing(site.engine) as connection:
        publish_post(connection, site.call(), post_id)  # the approval was of revision 1
    with writing(site.engine) as connection:
        approve_post(connection, site.call(), post_id)
        done = publish_post(connection, site.call(), post_id)
    assert done.receipt is not None
    assert done.receipt.approval is not None
    assert (done.receipt.approval["staff"], done.receipt.approval["revision"]) == ("eve", 2)


def test_a_scheduled_post_the_gates_stop_at_its_time_goes_back_to_a_draft(site: Site) -> None:
    post_id = _draft(site, "Stopped at the door")
    due = datetime.now(UTC) + timedelta(minutes=5)
    with writing(site.engine) as connection:
        schedule_post(connection, site.call(), post_id, due)
        edit_post(connection, call_as(), post_id, PostFields(body=f"{BODY} Lorem ipsum."))
    worker = call_as(WORKER, due + timedelta(seconds=1), source=RevisionSource.WORKER)
    with writing(site.engine) as connection:
        assert publish_when_due(connection, worker, post_id) is None
    with reading(site.engine) as connection:
        post = get_post(connection, post_id)
        (receipt,) = receipt_store.list_receipts(connection, post_id=post_id)
        last = connection.execute(select(events.c.type).order_by(events.c.id.desc())).first()
    assert post is not None
    assert post.status is PostStatus.DRAFT
    assert receipt.state is ReceiptState.BLOCKED
    assert [gate["code"] for gate in receipt.gates if gate["severity"] == "block"] == [
        "placeholder_text"
    ]
    assert last is not None
    assert last.type == "post.unscheduled"


def test_a_worker_killed_during_a_verification_run_loses_the_run_never_the_check(
    site: Site, tmp_path: Path
) -> None:
    """SIGKILL while the run is fetching pages (a slow edge keeps it busy): its lease runs
    out, another worker runs the verification again, and the receipt ends verified."""
    receipt = _publish(site, _draft(site, "Checked after a crash"))
    url = site.engine.url.render_as_string(hide_password=False)
    slow_edge = EdgeProxy(site.server.url, delay=2.0)
    with slow_edge.running(), worker_processes(url, tmp_path) as group:
        group.env |= {"MASTHEAD_VERIFY_URL": slow_edge.url, "MASTHEAD_PUBLIC_URL": PUBLIC_URL}
        doomed = group.start()
        wait_until(lambda: doomed.pid in open_run_pids(site.engine), PATIENCE, "a verify run")
        wait_until(lambda: slow_edge.requests > 0, PATIENCE, "the run's first fetch")
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(30)
    assert _receipt(site, receipt.id).state is ReceiptState.PENDING
    with _worker(site, site.server.url, queue_lease_seconds=LEASE_SECONDS):
        ended = _until_ended(site, receipt.id, PATIENCE)
    assert ended.state is ReceiptState.VERIFIED, ended.checks
    assert len(ended.attempts) == 1, "the killed run recorded nothing"
    verify_runs = [run for run in all_runs(site.engine) if run.task_id in _verify_tasks(site)]
    assert [run.outcome for run in verify_runs] == ["lost", "succeeded"]


def _verify_tasks(site: Site) -> set[int]:
    with reading(site.engine) as connection:
        return set(connection.scalars(select(tasks.c.id).where(tasks.c.kind == VERIFY)))
