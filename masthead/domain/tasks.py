"""Tasks, their runs and the workers that run them: states and the rules between them.

A task is a unit of background work; a run is one try at it by one worker. A run is
named by its task and its attempt number, which is also its fencing token: the task
row records how many runs it has had, and a write on behalf of a run is accepted
only while that count still names the run and the task is running.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from masthead.domain.retry import Backoff
from masthead.errors import InvalidTransition

__all__ = [
    "CRASH_LOOP",
    "ERROR_TEXT_LIMIT",
    "HANDLER_ERROR",
    "PENDING_STATES",
    "PERSON_MOVES",
    "SCHEDULED_PUBLISH",
    "TIMEOUT",
    "Claim",
    "NewTask",
    "Run",
    "RunOutcome",
    "Task",
    "TaskDetail",
    "TaskState",
    "Verdict",
    "Worker",
    "after_error",
    "after_lost",
    "clip_error",
    "require_person_move",
]

SCHEDULED_PUBLISH = "publish.scheduled"
"""The kind of a post's scheduled publish; its post, not a person, decides its fate."""
CRASH_LOOP = "worker_crash_loop"
TIMEOUT = "timeout"
HANDLER_ERROR = "handler_error"
ERROR_TEXT_LIMIT = 4000


class TaskState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


PENDING_STATES = frozenset({TaskState.QUEUED, TaskState.RUNNING})

# What a person may do: the state they ask for, and the states it may come from.
# Every other move belongs to workers, and the store's guarded updates enforce it.
PERSON_MOVES: Mapping[TaskState, frozenset[TaskState]] = {
    TaskState.CANCELLED: frozenset({TaskState.QUEUED, TaskState.RUNNING}),
    TaskState.QUEUED: frozenset({TaskState.FAILED, TaskState.CANCELLED}),
}


class RunOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    ERRORED = "errored"  # the handler raised or ran past its timeout
    LOST = "lost"  # the lease expired: the worker died or hung
    INTERRUPTED = "interrupted"  # the worker was told to stop and handed the task back
    CANCELLED = "cancelled"  # a person cancelled the task while it ran


def require_person_move(task: Task, target: TaskState) -> None:
    """Cancel (to `cancelled`) or retry (to `queued`), if the task's state allows it."""
    if task.state not in PERSON_MOVES.get(target, frozenset()):
        raise InvalidTransition(
            f"task {task.id} is {task.state.value}; it cannot become {target.value}",
            state=task.state.value,
        )


@dataclass(frozen=True)
class NewTask:
    """What a caller asks for when it enqueues work."""

    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 0  # higher runs first
    not_before: datetime | None = None  # None: as soon as a worker is free
    unique_key: str | None = None  # at most one pending task holds a key


@dataclass(frozen=True)
class Task:
    id: int
    kind: str
    payload: Mapping[str, Any]
    state: TaskState
    priority: int
    not_before: datetime
    run_count: int  # runs started: the attempt number of the newest run
    error_count: int  # runs that errored: the retry budget spent
    lost_count: int  # runs lost: the crash-loop budget spent
    unique_key: str | None
    last_error_code: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "payload": dict(self.payload),
            "state": self.state.value,
            "priority": self.priority,
            "not_before": self.not_before.isoformat(),
            "run_count": self.run_count,
            "error_count": self.error_count,
            "lost_count": self.lost_count,
            "unique_key": self.unique_key,
            "last_error_code": self.last_error_code,
            "last_error": self.last_error,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "finished_at": _iso(self.finished_at),
        }


@dataclass(frozen=True)
class Run:
    task_id: int
    attempt: int
    worker_id: str
    started_at: datetime
    heartbeat_at: datetime
    lease_expires_at: datetime
    ended_at: datetime | None
    outcome: RunOutcome | None  # None while it runs
    error_code: str | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "worker_id": self.worker_id,
            "started_at": self.started_at.isoformat(),
            "heartbeat_at": self.heartbeat_at.isoformat(),
            "lease_expires_at": self.lease_expires_at.isoformat(),
            "ended_at": _iso(self.ended_at),
            "outcome": self.outcome.value if self.outcome else None,
            "error_code": self.error_code,
            "error": self.error,
        }


@dataclass(frozen=True)
class TaskDetail:
    task: Task
    runs: tuple[Run, ...]

    def as_dict(self) -> dict[str, Any]:
        return {**self.task.as_dict(), "runs": [run.as_dict() for run in self.runs]}


@dataclass(frozen=True)
class Claim:
    """A run a worker has just started: what its handler needs, and its fencing token."""

    task_id: int
    attempt: int
    kind: str
    payload: Mapping[str, Any]
    error_count: int

    @property
    def key(self) -> tuple[int, int]:
        return (self.task_id, self.attempt)


@dataclass(frozen=True)
class Worker:
    id: str
    host: str
    pid: int
    kinds: tuple[str, ...]
    concurrency: int
    started_at: datetime
    last_seen_at: datetime

    def alive(self, now: datetime, silence: timedelta) -> bool:
        """Seen within `silence` (a lease length: it would have lost its runs by then)."""
        return now - self.last_seen_at <= silence


@dataclass(frozen=True)
class Verdict:
    """What becomes of a task after a run ends badly."""

    state: TaskState  # QUEUED (try again) or FAILED
    not_before: datetime | None = None  # when it may run again, if queued


def after_error(
    *,
    errors_before: int,
    max_attempts: int,
    permanent: bool,
    backoff: Backoff,
    now: datetime,
    random: Callable[[], float],
) -> Verdict:
    """An errored run spends one attempt; the task fails when none are left."""
    errors = errors_before + 1
    if permanent or errors >= max_attempts:
        return Verdict(TaskState.FAILED)
    return Verdict(TaskState.QUEUED, now + backoff.delay(errors, random))


def after_lost(*, lost_before: int, max_lost: int) -> Verdict:
    """A lost run costs no attempt, but a task that keeps killing its workers fails."""
    if lost_before + 1 >= max_lost:
        return Verdict(TaskState.FAILED)
    return Verdict(TaskState.QUEUED)


def clip_error(text: str) -> str:
    """Errors are kept for people to read; the end of a traceback matters most."""
    if len(text) <= ERROR_TEXT_LIMIT:
        return text
    return "…" + text[-(ERROR_TEXT_LIMIT - 1) :]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
