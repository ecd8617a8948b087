"""Use cases of the task queue, shared by the CLI, the API and the code that enqueues.

Each takes an open connection, so it joins the caller's transaction: a post and its
scheduled-publish task commit together or not at all. Reading tasks and workers, and
retrying or cancelling a task, are for editors and admins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from masthead.actions.context import Call, record_audit
from masthead.domain.permissions import Actor, is_editor
from masthead.domain.posts import PostStatus
from masthead.domain.tasks import SCHEDULED_PUBLISH, NewTask, Task, TaskDetail, TaskState, Worker
from masthead.domain.tasks import require_person_move as _require_person_move
from masthead.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from masthead.settings import Settings
from masthead.store import tasks as task_store
from masthead.store import workers as worker_store
from masthead.store.posts import get_post

__all__ = [
    "Enqueued",
    "TaskPage",
    "WorkerStatus",
    "cancel_task",
    "enqueue",
    "list_tasks",
    "list_workers",
    "retry_task",
    "show_task",
]

_log = logging.getLogger("masthead.tasks")
"""Its lines carry the id of the request that enqueued (tasks keep no request id)."""

MAX_PAGE = 500
MAX_TASK_ID = 2**31 - 1


@dataclass(frozen=True)
class Enqueued:
    task_id: int
    created: bool  # False: a pending task already held the unique key; this is its id


def enqueue(connection: Connection, new: NewTask, *, at: datetime) -> Enqueued:
    """Queue a task in the caller's transaction; workers hear of it when that commits."""
    task_id, created = task_store.insert_task(connection, new, at)
    _log.info("task enqueued", extra={"task_id": task_id, "kind": new.kind, "new": created})
    if created and (new.not_before is None or new.not_before <= at):
        task_store.notify(connection)
    return Enqueued(task_id, created)


@dataclass(frozen=True)
class TaskPage:
    items: list[Task]
    next_cursor: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"items": [task.as_dict() for task in self.items], "next_cursor": self.next_cursor}


def list_tasks(
    connection: Connection,
    actor: Actor,
    *,
    state: TaskState | None = None,
    kind: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> TaskPage:
    """Newest first, a page at a time; `cursor` is the previous page's `next_cursor`."""
    _require_editor(actor)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput([FieldProblem("limit", f"must be between 1 and {MAX_PAGE}")])
    before = _parse_cursor(cursor)
    items = task_store.list_tasks(connection, state=state, kind=kind, limit=limit, before_id=before)
    next_cursor = str(items[-1].id) if len(items) == limit else None
    return TaskPage(items, next_cursor)


def _parse_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or int(cursor) > MAX_TASK_ID:
        raise InvalidInput([FieldProblem("cursor", "not a cursor this listing gave out")])
    return int(cursor)


def show_task(connection: Connection, actor: Actor, task_id: int) -> TaskDetail:
    """The task and every run it has had, oldest first."""
    _require_editor(actor)
    task = _existing(connection, task_id)
    return TaskDetail(task, tuple(task_store.list_runs(connection, task_id)))


def cancel_task(connection: Connection, call: Call, task_id: int) -> Task:
    """Stop a pending task for good; a running one's worker has its writes refused."""
    _require_editor(call.actor)
    task = _existing(connection, task_id, lock=True)
    _require_person_move(task, TaskState.CANCELLED)
    _refuse_a_scheduled_posts_publish(connection, task)
    task_store.cancel(connection, task, call.at)
    record_audit(connection, call, "task.cancel", "task", task_id, state=task.state.value)
    return _existing(connection, task_id)


def _refuse_a_scheduled_posts_publish(connection: Connection, task: Task) -> None:
    """A scheduled post's publish is cancelled by unscheduling the post: cancelled on its
    own, it would leave the post `scheduled` with nothing left to publish it."""
    post_id = task.payload.get("post_id")
    if task.kind != SCHEDULED_PUBLISH or not isinstance(post_id, int):
        return
    post = get_post(connection, post_id)
    if post is not None and post.status is PostStatus.SCHEDULED:
        raise Conflict(
            f"task {task.id} publishes post {post_id}, which is scheduled: unschedule the "
            f"post instead (DELETE /api/v1/posts/{post_id}/schedule, or "
            f"masthead posts unschedule {post.content.slug})",
            post_id=post_id,
        )


def retry_task(connection: Connection, call: Call, task_id: int) -> Task:
    """Queue a failed or cancelled task again, now, with fresh budgets."""
    _require_editor(call.actor)
    task = _existing(connection, task_id, lock=True)
    _require_person_move(task, TaskState.QUEUED)
    if task.unique_key is not None:
        holder = task_store.pending_with_key(connection, task.unique_key)
        if holder is not None:
            raise Conflict(
                f"task {holder} already holds the key {task.unique_key!r}",
                code="unique_key_pending",
                task_id=holder,
            )
    task_store.requeue(connection, task, call.at)
    task_store.notify(connection)
    record_audit(connection, call, "task.retry", "task", task_id, state=task.state.value)
    return _existing(connection, task_id)


def _require_editor(actor: Actor) -> None:
    if not is_editor(actor):
        raise Forbidden("the task queue is for editors and admins")


def _existing(connection: Connection, task_id: int, *, lock: bool = False) -> Task:
    task = task_store.get_task(connection, task_id, lock=lock)
    if task is None:
        raise NotFound(f"task {task_id}")
    return task


@dataclass(frozen=True)
class WorkerStatus:
    worker: Worker
    alive: bool

    def as_dict(self) -> dict[str, Any]:
        worker = self.worker
        return {
            "id": worker.id,
            "host": worker.host,
            "pid": worker.pid,
            "kinds": list(worker.kinds),
            "concurrency": worker.concurrency,
            "started_at": worker.started_at.isoformat(),
            "last_seen_at": worker.last_seen_at.isoformat(),
            "alive": self.alive,
        }


def list_workers(
    connection: Connection, actor: Actor, *, at: datetime, settings: Settings
) -> list[WorkerStatus]:
    """Registered workers; alive when seen within one lease (else its runs are forfeit)."""
    _require_editor(actor)
    silence = timedelta(seconds=settings.queue_lease_seconds)
    return [
        WorkerStatus(worker, worker.alive(at, silence))
        for worker in worker_store.list_workers(connection)
    ]
