"""A worker SIGKILLed in the middle of a delivery: the delivery still happens.

The receiver holds the first request open; the worker that sent it is killed; another
worker takes the task over once the lease has run out and delivers again. The receiver
may see the event twice (it de-duplicates on the event id): one distinct id arrives.
"""

from __future__ import annotations

import threading
from pathlib import Path

from masthead.actions.tags import add_tag
from masthead.domain.staff import Tag
from masthead.domain.webhooks import DeliveryState
from masthead.store.engine import open_engine, writing
from tests.operators import call_as
from tests.queue_support import PATIENCE, open_run_pids, wait_until, worker_processes
from tests.webhook_support import Receiver, add_webhook, deliveries, serving, webhook_settings

WEBHOOK_ENV = {
    "MASTHEAD_WEBHOOKS_ALLOW_PRIVATE": "1",
    "MASTHEAD_WEBHOOK_BACKOFF_BASE_SECONDS": "0.05",
    "MASTHEAD_WEBHOOK_BACKOFF_CAP_SECONDS": "0.2",
}


def test_a_worker_killed_mid_delivery_still_delivers_one_distinct_event(
    database_url: str, tmp_path: Path
) -> None:
    engine = open_engine(database_url)
    settings = webhook_settings(engine)
    receiver = Receiver(hold=threading.Event())
    with serving(receiver) as url, worker_processes(database_url, tmp_path) as group:
        group.env.update(WEBHOOK_ENV)
        webhook_id, receiver.secret = add_webhook(engine, settings, url, ["tag.changed"])
        first = group.start()
        with writing(engine) as connection:
            add_tag(connection, call_as(settings=settings), Tag("killed", "Killed"))
        wait_until(lambda: receiver.arrived >= 1, PATIENCE, "the first attempt to arrive")
        assert open_run_pids(engine).get(first.pid)  # it is mid-delivery, holding the run
        first.kill()
        first.wait(10)
        receiver.hold.set()  # type: ignore[union-attr]
        group.start()
        wait_until(
            lambda: [d.state for d in deliveries(engine, webhook_id)] == [DeliveryState.DELIVERED],
            PATIENCE,
            f"the delivery after the kill:\n{group.logs()[-4000:]}",
        )
    assert receiver.bad_signatures == 0
    assert len(set(receiver.event_ids())) == 1
    assert receiver.arrived >= 2
    engine.dispose()
