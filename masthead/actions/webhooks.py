"""Webhooks' use cases, for admins: register, list, change, rotate, remove, redeliver.

A webhook's secret is made here and answered once (at creation, and at each
rotation); it is kept encrypted. A target is checked by the SSRF guard when it is
registered or changed, and again before every delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection

from masthead.actions.context import Call, record_audit
from masthead.actions.tasks import enqueue
from masthead.actions.webhook_delivery import CONSUMER
from masthead.actions.webhook_secrets import encrypt, new_secret
from masthead.actions.webhook_targets import TargetRefused, check_target
from masthead.domain.events import EventType
from masthead.domain.permissions import Actor, is_admin
from masthead.domain.tasks import NewTask
from masthead.domain.webhooks import DELIVER, Delivery, DeliveryState, Webhook, parse_events
from masthead.errors import FieldProblem, Forbidden, InvalidInput, NotFound, TargetNotAllowed
from masthead.settings import Settings
from masthead.store import events as event_store
from masthead.store import webhooks as store

__all__ = [
    "MAX_PAGE",
    "WebhookChanges",
    "WithSecret",
    "add_webhook",
    "change_webhook",
    "list_deliveries",
    "list_webhooks",
    "redeliver",
    "remove_webhook",
    "show_webhook",
]

MAX_PAGE = 200


@dataclass(frozen=True)
class WithSecret:
    """A webhook and, this once, its new secret."""

    webhook: Webhook
    secret: str | None


@dataclass(frozen=True)
class WebhookChanges:
    url: str | None = None
    events: Sequence[str] | None = None
    active: bool | None = None
    rotate_secret: bool = False


def add_webhook(connection: Connection, call: Call, url: str, events: Sequence[str]) -> WithSecret:
    """Register a target for some event types; it hears of events written from now on."""
    _require_admin(call.actor)
    chosen = _events(events)
    _check(call.settings, url)
    secret = new_secret()
    new = store.NewWebhook(
        url=url,
        events=chosen,
        secret=encrypt(call.settings, secret),
        since_event=event_store.latest_id(connection),
        created_by=call.actor.slug,
        at=call.at,
    )
    webhook_id = store.insert_webhook(connection, new)
    # From now on every event wakes the dispatcher (it would start on a worker's next
    # reaper round otherwise): the webhooks' cursor stands where this webhook starts.
    event_store.ensure_cursor(connection, CONSUMER, new.since_event, call.at)
    record_audit(
        connection, call, "webhook.create", "webhook", webhook_id, url=url, events=list(events)
    )
    return WithSecret(_existing(connection, webhook_id), secret)


def list_webhooks(connection: Connection, actor: Actor) -> list[Webhook]:
    _require_admin(actor)
    return store.list_webhooks(connection)


def show_webhook(connection: Connection, actor: Actor, webhook_id: int) -> Webhook:
    _require_admin(actor)
    return _existing(connection, webhook_id)


def change_webhook(
    connection: Connection, call: Call, webhook_id: int, changes: WebhookChanges
) -> WithSecret:
    """Change the target, the events or the standing; rotating answers the new secret.

    After a rotation, deliveries carry a signature with the old secret too for
    `MASTHEAD_WEBHOOK_SECRET_GRACE_HOURS`. Resuming a paused webhook clears its reason.
    """
    _require_admin(call.actor)
    _existing(connection, webhook_id, lock=True)
    values: dict[str, object] = {}
    if changes.url is not None:
        _check(call.settings, changes.url)
        values["url"] = changes.url
    if changes.events is not None:
        values["events"] = _events(changes.events)
    if changes.active is not None:
        values["active"] = changes.active
        values["paused_reason"] = None if changes.active else "paused by " + call.actor.slug
    secret = new_secret() if changes.rotate_secret else None
    if secret is not None:
        values.update(_rotation(connection, call, webhook_id, secret))
    store.update_webhook(connection, webhook_id, call.at, **values)
    audited = {name: value for name, value in values.items() if "secret" not in name}
    detail = {**audited, "rotated": secret is not None}
    record_audit(connection, call, "webhook.change", "webhook", webhook_id, **detail)
    return WithSecret(_existing(connection, webhook_id), secret)


def _rotation(
    connection: Connection, call: Call, webhook_id: int, secret: str
) -> dict[str, object]:
    stored = store.secrets_of(connection, webhook_id)
    assert stored is not None, "the webhook was locked in this transaction"
    grace = timedelta(hours=call.settings.webhook_secret_grace_hours)
    return {
        "secret": encrypt(call.settings, secret),
        "previous_secret": stored.current,
        "previous_until": call.at + grace,
    }


def remove_webhook(connection: Connection, call: Call, webhook_id: int) -> Webhook:
    """Delete the webhook with its deliveries; their pending tasks then do nothing."""
    _require_admin(call.actor)
    webhook = _existing(connection, webhook_id, lock=True)
    store.delete_webhook(connection, webhook_id)
    record_audit(connection, call, "webhook.delete", "webhook", webhook_id, url=webhook.url)
    return webhook


def list_deliveries(
    connection: Connection,
    actor: Actor,
    webhook_id: int,
    *,
    state: DeliveryState | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Delivery]:
    """Newest first, each with every attempt (time, status, latency, first bytes)."""
    _require_admin(actor)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput([FieldProblem("limit", f"must be between 1 and {MAX_PAGE}")])
    _existing(connection, webhook_id)
    return store.list_deliveries(
        connection, webhook_id, state=state, before_id=before_id, limit=limit
    )


def redeliver(connection: Connection, call: Call, webhook_id: int, delivery_id: int) -> Delivery:
    """Send a delivery again (delivered or failed ones too): pending, with a new task."""
    _require_admin(call.actor)
    _existing(connection, webhook_id)
    delivery = store.get_delivery(connection, delivery_id, lock=True)
    if delivery is None or delivery.webhook_id != webhook_id:
        raise NotFound(f"delivery {delivery_id} of webhook {webhook_id}")
    task = enqueue(connection, NewTask(DELIVER, {"delivery_id": delivery_id}), at=call.at)
    store.reopen_delivery(connection, delivery_id, task.task_id)
    record_audit(
        connection, call, "webhook.redeliver", "webhook", webhook_id, delivery_id=delivery_id
    )
    found = store.get_delivery(connection, delivery_id, with_log=True)
    assert found is not None
    return found


def _check(settings: Settings, url: str) -> None:
    try:
        check_target(settings, url)
    except TargetRefused as refused:
        raise TargetNotAllowed(f"url: {refused}", url=url) from refused


def _events(names: Sequence[str]) -> tuple[EventType, ...]:
    try:
        return parse_events(names)
    except ValueError as error:
        raise InvalidInput([FieldProblem("events", str(error))]) from error


def _require_admin(actor: Actor) -> None:
    if not is_admin(actor):
        raise Forbidden("webhooks are for admins")


def _existing(connection: Connection, webhook_id: int, *, lock: bool = False) -> Webhook:
    found = store.get_webhook(connection, webhook_id, lock=lock)
    if found is None:
        raise NotFound(f"webhook {webhook_id}")
    return found
