"""Read-only figures for `masthead ops doctor`: integrity, the queue, receipts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select, text

from masthead.domain.diagnostics import QueueFigures
from masthead.store.schema import receipts, task_runs, tasks

__all__ = ["integrity_problems", "queue_figures"]


def integrity_problems(connection: Connection) -> list[str]:
    """SQLite's `PRAGMA integrity_check` (nothing when it says `ok`); on PostgreSQL, a
    read of the catalogue and of every table Masthead owns."""
    if connection.dialect.name == "sqlite":
        rows = [str(row[0]) for row in connection.execute(text("PRAGMA integrity_check"))]
        return [] if rows == ["ok"] else rows
    connection.execute(text("SELECT count(*) FROM pg_catalog.pg_class"))
    for table in (tasks, task_runs, receipts):
        connection.execute(select(func.count()).select_from(table))
    return []


def queue_figures(connection: Connection, now: datetime, since: datetime) -> QueueFigures:
    def scalar(query: object) -> int:
        return int(connection.execute(query).scalar_one())  # type: ignore[call-overload]

    queued = tasks.c.state == "queued"
    oldest = connection.execute(
        select(func.min(tasks.c.not_before)).where(queued, tasks.c.not_before <= now)
    ).scalar_one()
    return QueueFigures(
        queued=scalar(select(func.count()).select_from(tasks).where(queued)),
        oldest_due=oldest,
        past_lease=scalar(
            select(func.count())
            .select_from(task_runs)
            .where(task_runs.c.outcome.is_(None), task_runs.c.lease_expires_at < now)
        ),
        failed_since=scalar(
            select(func.count())
            .select_from(tasks)
            .where(tasks.c.state == "failed", tasks.c.finished_at >= since)
        ),
        unverified=scalar(
            select(func.count()).select_from(receipts).where(receipts.c.state == "unverified")
        ),
    )
