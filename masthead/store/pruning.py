"""Deleting what has served its time: finished task runs and tasks, the earlier attempts
of old receipts, expired idempotency keys. Never a receipt, an approval or an event."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, delete, exists, select, update

from masthead.store.schema import idempotency_keys, receipts, task_runs, tasks

__all__ = ["prune_attempts", "prune_idempotency_keys", "prune_runs", "prune_tasks"]

FINISHED = ("succeeded", "failed", "cancelled")
FORGETTABLE = ("succeeded", "cancelled")  # a failed task stays: the record of what gave up


def prune_runs(connection: Connection, before: datetime) -> int:
    """Runs that ended before `before`, of tasks that are finished."""
    finished_task = exists().where(tasks.c.id == task_runs.c.task_id, tasks.c.state.in_(FINISHED))
    query = delete(task_runs).where(
        task_runs.c.ended_at.is_not(None), task_runs.c.ended_at < before, finished_task
    )
    return int(connection.execute(query).rowcount)


def prune_tasks(connection: Connection, before: datetime) -> int:
    """Succeeded and cancelled tasks that finished before `before`, with no run left."""
    has_runs = exists().where(task_runs.c.task_id == tasks.c.id)
    query = delete(tasks).where(
        tasks.c.state.in_(FORGETTABLE), tasks.c.finished_at < before, ~has_runs
    )
    return int(connection.execute(query).rowcount)


def prune_attempts(connection: Connection, before: datetime) -> int:
    """Receipts that ended before `before` keep their last attempt only (its checks are
    what `receipts show` shows); the receipt itself stays."""
    rows = connection.execute(
        select(receipts.c.id, receipts.c.attempts).where(
            receipts.c.ended_at.is_not(None), receipts.c.ended_at < before
        )
    )
    trimmed = 0
    for row in rows.all():
        attempts = json.loads(row.attempts)
        if len(attempts) > 1:
            connection.execute(
                update(receipts)
                .where(receipts.c.id == row.id)
                .values(attempts=json.dumps(attempts[-1:]))
            )
            trimmed += len(attempts) - 1
    return trimmed


def prune_idempotency_keys(connection: Connection, now: datetime) -> int:
    """Keys whose time is up: a retry with one is a new request anyway."""
    query = delete(idempotency_keys).where(idempotency_keys.c.expires_at < now)
    return int(connection.execute(query).rowcount)
