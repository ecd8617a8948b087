"""Delivering events to webhooks: fan-out, one attempt, its record, and giving up.

The webhooks consumer (`fan_out`) turns each event into one delivery per webhook that
wants it, each with its task, in the dispatcher's transaction. A delivery task makes
one attempt per run: it checks the target again (`check_target`), posts the signed
body to the checked address (no second lookup, no redirect followed: a 3xx is a
failed attempt), and records the attempt. A 2xx delivers; a 410 pauses the webhook
and fails the delivery; anything else, or no answer, errors the run and the queue
retries it with backoff, until the retry budget is spent.
"""

from __future__ import annotations

import http.client
import json
import secrets
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection

from masthead.actions.context import Call, record_audit
from masthead.actions.tasks import enqueue
from masthead.actions.webhook_secrets import decrypt
from masthead.actions.webhook_targets import CheckedTarget, TargetRefused, check_target
from masthead.domain.events import Event
from masthead.domain.permissions import is_admin
from masthead.domain.tasks import NewTask, Task
from masthead.domain.webhooks import (
    ANSWER_LIMIT,
    DELIVER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Attempt,
    DeliveryState,
    body_of,
    event_id_of,
    is_own_failure,
    signature_header,
)
from masthead.errors import Forbidden, NotFound
from masthead.settings import Settings
from masthead.store import webhooks as store

__all__ = [
    "CONSUMER",
    "PING",
    "Outcome",
    "Outgoing",
    "Verdict",
    "delivery_failed",
    "fan_out",
    "outgoing",
    "ping",
    "post",
    "record",
]

PING = "webhook.test"
"""The type of the ping `masthead webhooks test` sends (never an event of the site)."""
CONSUMER = "webhooks"
"""The name of the webhooks' event consumer (its cursor)."""
USER_AGENT = "Masthead-Webhooks/1"


def fan_out(connection: Connection, events: Sequence[Event], at: datetime) -> None:
    """One delivery, with its task, per event and webhook that wants it."""
    webhooks = store.active_webhooks(connection)
    if not webhooks:
        return
    for event in events:
        if is_own_failure(event):
            continue
        body = body_of(event)
        for webhook in webhooks:
            if not webhook.wants(event):
                continue
            delivery_id = store.insert_delivery(
                connection, webhook.id, event.id, event.type.value, body, at
            )
            task = enqueue(connection, NewTask(DELIVER, {"delivery_id": delivery_id}), at=at)
            store.set_delivery_task(connection, delivery_id, task.task_id)


@dataclass(frozen=True)
class Outgoing:
    """What one attempt sends, read before it (outside any transaction)."""

    delivery_id: int
    webhook_id: int
    url: str
    event_id: str
    event_type: str
    body: str
    secrets: tuple[str, ...]  # newest first
    created_at: datetime


def outgoing(
    connection: Connection, settings: Settings, delivery_id: int, at: datetime
) -> Outgoing | None:
    """The delivery to attempt; None if it is no longer pending or its webhook is gone."""
    delivery = store.get_delivery(connection, delivery_id)
    if delivery is None or delivery.state is not DeliveryState.PENDING:
        return None
    webhook = store.get_webhook(connection, delivery.webhook_id)
    stored = store.secrets_of(connection, delivery.webhook_id)
    if webhook is None or stored is None:
        return None
    secrets = [decrypt(settings, stored.current)]
    if stored.previous and stored.previous_until and stored.previous_until > at:
        secrets.append(decrypt(settings, stored.previous))
    return Outgoing(
        delivery.id,
        webhook.id,
        webhook.url,
        event_id_of(delivery.event_id),
        delivery.event_type,
        delivery.body,
        tuple(secrets),
        delivery.created_at,
    )


def ping(connection: Connection, call: Call, webhook_id: int) -> Outgoing:
    """A `webhook.test` ping for a webhook, signed like a delivery, kept nowhere."""
    if not is_admin(call.actor):
        raise Forbidden("webhooks are for admins")
    webhook = store.get_webhook(connection, webhook_id)
    stored = store.secrets_of(connection, webhook_id)
    if webhook is None or stored is None:
        raise NotFound(f"webhook {webhook_id}")
    ping_id = f"evt_test_{secrets.token_hex(8)}"
    document: dict[str, object] = {
        "id": ping_id,
        "type": PING,
        "time": call.at.isoformat().replace("+00:00", "Z"),
        "sequence": None,
        "resource": {"type": "webhook", "id": str(webhook_id), "revision": None, "facts": {}},
    }
    body = json.dumps(document, separators=(",", ":"))
    keys = (decrypt(call.settings, stored.current),)
    return Outgoing(0, webhook_id, webhook.url, ping_id, PING, body, keys, call.at)


def post(settings: Settings, sending: Outgoing, at: datetime) -> Attempt:
    """One attempt: check the target again, then post to the checked address."""
    started = time.monotonic()
    try:
        checked = check_target(settings, sending.url)
    except TargetRefused as refused:
        return Attempt(at, None, 0, "", f"refused: {refused}")
    timestamp = int(at.timestamp())
    headers = {
        "Host": checked.target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_ID_HEADER: sending.event_id,
        EVENT_TYPE_HEADER: sending.event_type,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature_header(sending.secrets, timestamp, sending.body),
    }
    try:
        status, answer = _send(checked, headers, sending.body, settings.webhook_timeout_seconds)
    except (OSError, http.client.HTTPException) as failure:
        elapsed = _milliseconds(started)
        return Attempt(at, None, elapsed, "", f"{type(failure).__name__}: {failure}"[:500])
    problem = None if 200 <= status < 300 else _status_error(status)
    return Attempt(at, status, _milliseconds(started), answer, problem)


def _status_error(status: int) -> str:
    if 300 <= status < 400:
        return f"answered {status}: redirects are not followed"
    return f"answered {status}"


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # the run errors; the queue tries again after a backoff
    GONE = "gone"  # 410: the webhook is paused, the delivery fails now
    REFUSED = "refused"  # the SSRF guard refused the target: fails now
    SPENT = "spent"  # the retry budget is spent: fails now


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    reason: str


def record(connection: Connection, call: Call, sending: Outgoing, attempt: Attempt) -> Outcome:
    """Keep the attempt in the log and say what becomes of the delivery."""
    store.add_attempt(connection, sending.delivery_id, attempt)
    if attempt.error is None:
        store.end_delivery(connection, sending.delivery_id, DeliveryState.DELIVERED, call.at)
        return Outcome(Verdict.DELIVERED, f"answered {attempt.status}")
    if attempt.status == 410:
        reason = "the receiver answered 410 Gone"
        store.update_webhook(
            connection, sending.webhook_id, call.at, active=False, paused_reason=reason
        )
        record_audit(
            connection, call, "webhook.pause", "webhook", sending.webhook_id, reason=reason
        )
        return Outcome(Verdict.GONE, reason)
    if attempt.status is None and attempt.error.startswith("refused: "):
        return Outcome(Verdict.REFUSED, attempt.error)
    budget = timedelta(seconds=call.settings.webhook_retry_budget_seconds)
    if call.at - sending.created_at >= budget:
        return Outcome(Verdict.SPENT, f"retry budget spent; last attempt: {attempt.error}")
    return Outcome(Verdict.RETRY, attempt.error)


def delivery_failed(connection: Connection, call: Call, task: Task) -> None:
    """A delivery task failed for good: the delivery is `failed`, with an audit entry.

    Called where the queue records the task's failure, in that transaction (which also
    writes the `task.failed` event that webhooks never receive).
    """
    delivery_id = task.payload.get("delivery_id")
    if not isinstance(delivery_id, int):
        return
    delivery = store.get_delivery(connection, delivery_id)
    if delivery is None or delivery.task_id != task.id:
        return
    if store.end_delivery(connection, delivery_id, DeliveryState.FAILED, call.at):
        record_audit(
            connection,
            call,
            "webhook.delivery_failed",
            "webhook",
            delivery.webhook_id,
            delivery_id=delivery_id,
            event_id=event_id_of(delivery.event_id),
            attempts=delivery.attempts,
            error_code=task.last_error_code,
            last_error=delivery.last_error,
        )


def _send(
    checked: CheckedTarget, headers: dict[str, str], body: str, timeout: float
) -> tuple[int, str]:
    target = checked.target
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPS(checked.address, target.host, target.port, timeout)
    else:
        connection = _PinnedHTTP(checked.address, target.host, target.port, timeout)
    try:
        connection.request("POST", target.path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        answer = response.read(ANSWER_LIMIT * 4).decode("utf-8", "replace")[:ANSWER_LIMIT]
        return response.status, answer
    finally:
        connection.close()


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the checked address; the Host header names the target's host."""

    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """Connects to the checked address; TLS checks the certificate for the host (SNI)."""

    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _milliseconds(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
