"""Counts read at scrape time for `/api/v1/metrics`: receipts, task runs, the queue.

Each is one grouped query over its table, so the figures are the same whichever server
process answers, and whole however many processes and workers there are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select

from masthead.domain.tasks import PENDING_STATES
from masthead.store.schema import receipts, task_runs, tasks

__all__ = ["expired_leases", "pending_tasks", "receipt_counts", "run_counts"]

Counts = dict[tuple[str, str], int]


def _grouped(connection: Connection, statement: Select[Any]) -> Counts:
    rows = connection.execute(statement)
    return {(str(first), str(second)): int(count) for first, second, count in rows}


def receipt_counts(connection: Connection) -> Counts:
    """Receipts by (action, state): every publish, unpublish and archive, and how it ended."""
    statement = select(receipts.c.action, receipts.c.state, func.count()).group_by(
        receipts.c.action, receipts.c.state
    )
    return _grouped(connection, statement)


def run_counts(connection: Connection) -> Counts:
    """Finished task runs by (kind, outcome); runs still open are not counted."""
    statement = (
        select(tasks.c.kind, task_runs.c.outcome, func.count())
        .select_from(task_runs.join(tasks, tasks.c.id == task_runs.c.task_id))
        .where(task_runs.c.outcome.is_not(None))
        .group_by(tasks.c.kind, task_runs.c.outcome)
    )
    return _grouped(connection, statement)


def pending_tasks(connection: Connection) -> Counts:
    """Tasks waiting or running, by (kind, state): the queue's depth."""
    statement = (
        select(tasks.c.kind, tasks.c.state, func.count())
        .where(tasks.c.state.in_([state.value for state in PENDING_STATES]))
        .group_by(tasks.c.kind, tasks.c.state)
    )
    return _grouped(connection, statement)


def expired_leases(connection: Connection, now: datetime) -> int:
    """Open runs whose lease has expired: work a dead worker holds until the reaper runs."""
    statement = (
        select(func.count())
        .select_from(task_runs)
        .where(task_runs.c.outcome.is_(None), task_runs.c.lease_expires_at < now)
    )
    return int(connection.execute(statement).scalar_one())
