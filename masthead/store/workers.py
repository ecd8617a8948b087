"""Workers of the task queue: who is running, on which host, and when each was last seen."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from masthead.domain.tasks import Worker
from masthead.store.schema import workers

__all__ = ["deregister", "forget_silent", "list_workers", "register", "touch"]


def register(connection: Connection, worker: Worker) -> None:
    connection.execute(
        insert(workers).values(
            id=worker.id,
            host=worker.host,
            pid=worker.pid,
            kinds=",".join(worker.kinds),
            concurrency=worker.concurrency,
            started_at=worker.started_at,
            last_seen_at=worker.last_seen_at,
        )
    )


def touch(connection: Connection, worker: Worker, now: datetime) -> None:
    """Say the worker is alive; a worker forgotten while it was silent comes back."""
    seen = connection.execute(
        update(workers).where(workers.c.id == worker.id).values(last_seen_at=now)
    ).rowcount
    if not seen:
        register(connection, replace(worker, last_seen_at=now))


def deregister(connection: Connection, worker_id: str) -> None:
    connection.execute(delete(workers).where(workers.c.id == worker_id))


def forget_silent(connection: Connection, silent_since: datetime) -> int:
    """Drop workers not seen since then: they died without saying goodbye."""
    return connection.execute(delete(workers).where(workers.c.last_seen_at < silent_since)).rowcount


def list_workers(connection: Connection) -> list[Worker]:
    rows = connection.execute(select(workers).order_by(workers.c.started_at, workers.c.id))
    return [_worker_from_row(row) for row in rows]


def _worker_from_row(row: Any) -> Worker:
    return Worker(
        id=row.id,
        host=row.host,
        pid=row.pid,
        kinds=tuple(kind for kind in row.kinds.split(",") if kind),
        concurrency=row.concurrency,
        started_at=row.started_at,
        last_seen_at=row.last_seen_at,
    )
