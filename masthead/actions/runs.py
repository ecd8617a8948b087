"""A worker's use cases: register, claim and settle runs, renew leases, reap lost runs.

Each takes the connection of a write transaction the worker opened. A task that fails
for good (its retry budget spent, a permanent error, a crash loop) records a
`task.failed` event in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from masthead.actions.context import Call
from masthead.actions.lifecycle import DISPATCH, record_event
from masthead.actions.webhook_delivery import delivery_failed
from masthead.domain.events import EventType, NewEvent
from masthead.domain.tasks import Claim, TaskState, Worker, after_lost
from masthead.domain.webhooks import DELIVER
from masthead.store import tasks as task_store
from masthead.store import workers as worker_store
from masthead.store.tasks import BadEnd, RunKey

__all__ = [
    "BadEnd",
    "RunKey",
    "Settlement",
    "deregister_worker",
    "hear_of_local_tasks",
    "heartbeat",
    "interrupt_runs",
    "listen_for_tasks",
    "reap",
    "register_worker",
    "run_is_current",
    "settle_and_claim",
]


@dataclass(frozen=True)
class Settlement:
    """What one `settle_and_claim` did."""

    claims: list[Claim]
    refused: list[RunKey] = field(default_factory=list)  # superseded runs: writes refused


def register_worker(connection: Connection, worker: Worker) -> None:
    worker_store.register(connection, worker)


def deregister_worker(connection: Connection, worker_id: str) -> None:
    worker_store.deregister(connection, worker_id)


def settle_and_claim(
    connection: Connection,
    call: Call,
    worker_id: str,
    *,
    succeeded: Collection[RunKey],
    bad: Sequence[BadEnd],
    kinds: Collection[str],
    free: int,
    lease: timedelta,
) -> Settlement:
    """Record the runs that ended, then claim up to `free` due tasks."""
    accepted = task_store.succeed(connection, succeeded, call.at)
    refused = [key for key in succeeded if key not in accepted]
    for end in bad:
        if not task_store.settle_bad_run(connection, end, call.at):
            refused.append(end.key)
        elif end.verdict.state is TaskState.FAILED:
            _record_failure(connection, call, end.key[0])
    claims = task_store.claim(
        connection, worker_id=worker_id, kinds=kinds, limit=free, now=call.at, lease=lease
    )
    return Settlement(claims, refused)


def interrupt_runs(connection: Connection, keys: Collection[RunKey], at: datetime) -> set[RunKey]:
    """Hand runs back: their tasks are queued again at once, with nothing spent."""
    return task_store.interrupt(connection, keys, at)


def heartbeat(
    connection: Connection,
    worker: Worker,
    held: Collection[RunKey],
    *,
    at: datetime,
    lease: timedelta,
) -> set[RunKey]:
    """Renew the leases of `held` and say the worker is alive; returns runs still held."""
    worker_store.touch(connection, worker, at)
    return task_store.renew(connection, worker_id=worker.id, keys=held, now=at, lease=lease)


def reap(
    connection: Connection, call: Call, *, max_lost: int, forget_silent_since: datetime
) -> set[RunKey]:
    """Mark runs whose lease expired as lost and requeue (or fail) their tasks."""
    expired = task_store.expired_runs(connection, call.at)
    decided = [
        (item, after_lost(lost_before=item.lost_count, max_lost=max_lost)) for item in expired
    ]
    lost = task_store.mark_lost(connection, decided, call.at)
    for item, verdict in decided:
        if verdict.state is TaskState.FAILED and item.key in lost:
            _record_failure(connection, call, item.key[0])
    worker_store.forget_silent(connection, forget_silent_since)
    return lost


def run_is_current(connection: Connection, key: RunKey) -> bool:
    """Whether the run still holds its task (and, on PostgreSQL, keeps holding it until
    the transaction ends)."""
    return task_store.is_current(connection, key)


def hear_of_local_tasks(listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener` whenever a task is committed in this process; returns how to stop."""
    return task_store.hear_locally(listener)


def listen_for_tasks(dbapi_connection: Any) -> None:
    """Subscribe a raw autocommit psycopg connection to the queue's notifications."""
    task_store.listen(dbapi_connection)


def _record_failure(connection: Connection, call: Call, task_id: int) -> None:
    """A `task.failed` event; not for a failed dispatcher, whose event would need one."""
    task = task_store.get_task(connection, task_id)
    assert task is not None, "the task was settled in this transaction"
    if task.kind == DISPATCH:
        return
    if task.kind == DELIVER:
        delivery_failed(connection, call, task)
    facts = {
        "kind": task.kind,
        "error_code": task.last_error_code,
        "error": task.last_error,
        "runs": task.run_count,
    }
    record_event(
        connection, call, NewEvent(EventType.TASK_FAILED, "task", str(task_id), None, facts)
    )
