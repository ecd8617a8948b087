"""`masthead ops requeue-lost` and `masthead ops prune`: the queue's and the records'
housekeeping, run once by an operator, each in the caller's write transaction (a dry run
is the same transaction rolled back, so its counts are exact)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from masthead.actions.auth import require_admin
from masthead.actions.context import Call, record_audit
from masthead.actions.runs import reap
from masthead.domain.tasks import TaskState
from masthead.store import pruning
from masthead.store import tasks as task_store
from masthead.store import webhooks as webhook_store

__all__ = ["Pruned", "Requeued", "prune_records", "requeue_lost"]

FORGET_AFTER_LEASES = 10
"""A worker silent for this many leases is forgotten (as a worker's own reaper does)."""


@dataclass(frozen=True)
class Requeued:
    requeued: list[int]
    failed: list[int]  # tasks whose runs were lost once too often

    def as_dict(self) -> dict[str, Any]:
        actions = [{"action": "requeue", "task_id": task_id} for task_id in self.requeued]
        actions += [{"action": "fail", "task_id": task_id} for task_id in self.failed]
        counts = {"lost": len(actions), "requeued": len(self.requeued), "failed": len(self.failed)}
        return {"ok": True, "actions": actions, "counts": counts}


def requeue_lost(connection: Connection, call: Call) -> Requeued:
    """The reaper, once: runs past their lease are lost, their tasks queued again (or
    failed, `worker_crash_loop`)."""
    require_admin(call.actor)
    lease = timedelta(seconds=call.settings.queue_lease_seconds)
    lost = reap(
        connection,
        call,
        max_lost=call.settings.queue_max_lost_runs,
        forget_silent_since=call.at - lease * FORGET_AFTER_LEASES,
    )
    requeued: list[int] = []
    failed: list[int] = []
    for task_id, _attempt in sorted(lost):
        task = task_store.get_task(connection, task_id)
        (failed if task is not None and task.state is TaskState.FAILED else requeued).append(
            task_id
        )
    return Requeued(requeued, failed)


@dataclass(frozen=True)
class Pruned:
    older_than: timedelta
    runs: int
    tasks: int
    attempts: int
    idempotency_keys: int
    webhook_attempts: int = 0

    def as_dict(self) -> dict[str, Any]:
        counts = {
            "runs": self.runs,
            "tasks": self.tasks,
            "attempts": self.attempts,
            "idempotency_keys": self.idempotency_keys,
            "webhook_attempts": self.webhook_attempts,
        }
        actions = [
            {"action": "delete", "what": name, "count": n} for name, n in counts.items() if n
        ]
        return {
            "ok": True,
            "older_than_seconds": int(self.older_than.total_seconds()),
            "actions": actions,
            "counts": counts,
        }


def prune_records(connection: Connection, call: Call, older_than: timedelta) -> Pruned:
    """Delete finished runs and tasks, earlier attempts of receipts, the attempt logs of
    delivered webhook deliveries and expired keys older than `older_than`; receipts,
    approvals and events are the editorial record, kept."""
    require_admin(call.actor)
    before = call.at - older_than
    runs = pruning.prune_runs(connection, before)
    pruned = Pruned(
        older_than,
        runs=runs,
        tasks=pruning.prune_tasks(connection, before),
        attempts=pruning.prune_attempts(connection, before),
        idempotency_keys=pruning.prune_idempotency_keys(connection, call.at),
        webhook_attempts=webhook_store.prune_attempts(connection, before),
    )
    counts = pruned.as_dict()["counts"]
    if any(counts.values()):  # a run with nothing to do leaves no trace
        record_audit(connection, call, "records.prune", "records", "", **counts)
    return pruned
