"""Webhooks in the operator's commands: `ops doctor` reports failed deliveries and
private targets allowed in production; `ops prune` prunes delivered attempt logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from masthead.actions.housekeeping import prune_records
from masthead.domain.webhooks import Attempt, DeliveryState
from masthead.store import webhooks as webhook_store
from masthead.store.engine import open_engine, writing
from tests.cli_support import assert_no_traceback, masthead
from tests.operators import call_as
from tests.webhook_support import add_webhook, deliveries, webhook_settings


def _delivery(
    engine: Engine, webhook_id: int, event_id: int, state: DeliveryState, at: datetime
) -> int:
    with writing(engine) as connection:
        delivery_id = webhook_store.insert_delivery(
            connection, webhook_id, event_id, "tag.changed", "{}", at
        )
        attempt = Attempt(at, 200 if state is DeliveryState.DELIVERED else 500, 3, "ok", None)
        webhook_store.add_attempt(connection, delivery_id, attempt)
        webhook_store.end_delivery(connection, delivery_id, state, at)
    return delivery_id


def test_doctor_reports_failed_deliveries_and_private_targets_in_production(
    sqlite_url: str,
) -> None:
    engine = open_engine(sqlite_url)
    settings = webhook_settings(engine)
    webhook_id, _ = add_webhook(engine, settings, "http://127.0.0.1:9/hook", ["tag.changed"])
    _delivery(engine, webhook_id, 1, DeliveryState.FAILED, datetime.now(UTC))
    engine.dispose()
    result = masthead(
        "ops", "doctor", "--json", database_url=sqlite_url,
        MASTHEAD_ENV="production", MASTHEAD_WEBHOOKS_ALLOW_PRIVATE="1",
        MASTHEAD_PUBLIC_URL="http://127.0.0.1:9", MASTHEAD_EDGE_SECRETS="e" * 40,
    )  # fmt: skip
    assert_no_traceback(result)
    assert result.returncode == 1
    findings = {item["code"]: item for item in json.loads(result.stdout)["findings"]}
    assert findings["webhooks_allow_private"]["severity"] == "warning"
    assert findings["webhooks_allow_private"]["command"] == "unset MASTHEAD_WEBHOOKS_ALLOW_PRIVATE"
    assert findings["webhook_key_missing"]["severity"] == "error"
    failed = findings["webhook_deliveries_failed"]
    assert failed["severity"] == "warning"
    assert failed["message"].startswith("1 webhook deliveries failed")
    assert "masthead webhooks show ID" in failed["command"]


def test_prune_deletes_only_the_attempt_logs_of_old_delivered_deliveries(engine: Engine) -> None:
    settings = webhook_settings(engine)
    webhook_id, _ = add_webhook(engine, settings, "http://127.0.0.1:9/hook", ["tag.changed"])
    old = datetime.now(UTC) - timedelta(days=40)
    _delivery(engine, webhook_id, 1, DeliveryState.DELIVERED, old)
    _delivery(engine, webhook_id, 2, DeliveryState.FAILED, old)
    _delivery(engine, webhook_id, 3, DeliveryState.DELIVERED, datetime.now(UTC))
    with writing(engine) as connection:
        pruned = prune_records(connection, call_as(settings=settings), timedelta(days=30))
    assert pruned.webhook_attempts == 1
    logs = {delivery.event_id: len(delivery.log) for delivery in deliveries(engine, webhook_id)}
    assert logs == {1: 0, 2: 1, 3: 1}
    with writing(engine) as connection:
        again = prune_records(connection, call_as(settings=settings), timedelta(days=30))
    assert again.webhook_attempts == 0


def test_production_refuses_to_serve_or_work_without_a_webhook_key(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    engine.dispose()
    production = {"MASTHEAD_ENV": "production", "MASTHEAD_EDGE_SECRETS": "e" * 40}
    for command in (("serve", "--port", "1"), ("worker",)):
        refused = masthead(*command, database_url=sqlite_url, **production)
        assert_no_traceback(refused)
        assert refused.returncode == 2, refused.stderr
        assert "without a webhook key: set MASTHEAD_WEBHOOK_KEY" in refused.stderr
