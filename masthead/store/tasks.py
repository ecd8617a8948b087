"""The task queue's SQL: enqueue, claim, renew, settle, reap, and reads for people.

Every write on behalf of a run is fenced: it names the run by (task id, attempt) and
changes nothing unless the task is still running that very attempt. The task row is
always written (and so locked) before the run row, on every path, so two
transactions never wait on each other in a circle.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Row,
    bindparam,
    exists,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from masthead.domain.tasks import (
    CRASH_LOOP,
    PENDING_STATES,
    Claim,
    NewTask,
    Run,
    RunOutcome,
    Task,
    TaskState,
    Verdict,
)
from masthead.store.engine import after_commit
from masthead.store.schema import task_runs, tasks

__all__ = [
    "NOTIFY_CHANNEL",
    "BadEnd",
    "Expired",
    "RunKey",
    "cancel",
    "claim",
    "expired_runs",
    "get_task",
    "insert_task",
    "interrupt",
    "is_current",
    "list_runs",
    "list_tasks",
    "listen",
    "mark_lost",
    "notify",
    "pending_with_key",
    "renew",
    "requeue",
    "settle_bad_run",
    "succeed",
]

NOTIFY_CHANNEL = "masthead_tasks"
RunKey = tuple[int, int]


def _literal(value: object) -> BindParameter[Any]:
    """A value written into the SQL text as a literal, not sent as a parameter.

    PostgreSQL uses a partial index only if it can prove, when it plans, that the
    statement's predicate implies the index's, and a bound parameter proves nothing in
    a generic plan. PostgreSQL may switch to one once psycopg has prepared a statement
    (psycopg prepares after 5 runs; PostgreSQL tries a generic plan after 5 more): the
    keyed enqueue then failed, one call in 11, with "no unique or exclusion constraint
    matching the ON CONFLICT specification", and a claim or key lookup could no longer
    use its index. Only constants of the code go here, never input.
    """
    return bindparam(None, value, literal_execute=True)


# The predicates of the partial indexes, in the indexes' own form (SQLite proves
# `state = 'queued'` from `state = 'queued'`, not from `state IN ('queued')`).
_PENDING = tasks.c.state.in_(_literal(sorted(state.value for state in PENDING_STATES)))
_QUEUED = tasks.c.state == _literal(TaskState.QUEUED.value)  # ix_tasks_claim


def insert_task(connection: Connection, new: NewTask, now: datetime) -> tuple[int, bool]:
    """Add a queued task; with a key already held by a pending task, return that one."""
    values = {
        "kind": new.kind,
        "payload": json.dumps(dict(new.payload), separators=(",", ":")),
        "state": TaskState.QUEUED.value,
        "priority": new.priority,
        "not_before": new.not_before or now,
        "unique_key": new.unique_key,
        "created_at": now,
        "updated_at": now,
    }
    if new.unique_key is None:
        task_id = connection.execute(insert(tasks).values(values).returning(tasks.c.id))
        return task_id.scalar_one(), True
    statement = _dialect_insert(connection)(tasks).values(values)
    statement = statement.on_conflict_do_nothing(
        index_elements=[tasks.c.unique_key], index_where=_PENDING
    )
    created = connection.execute(statement.returning(tasks.c.id)).scalar_one_or_none()
    if created is not None:
        return created, True
    existing = pending_with_key(connection, new.unique_key)
    if existing is None:  # the holder finished between the two statements: try again
        return insert_task(connection, new, now)
    return existing, False


def _dialect_insert(connection: Connection) -> Any:
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


_LOCAL_LISTENERS: list[Callable[[], None]] = []
"""This process's workers, woken at once when a task commits here (on either database;
PostgreSQL's NOTIFY also reaches workers in other processes)."""


def notify(connection: Connection) -> None:
    """Wake workers when this transaction commits: this process's, and on PostgreSQL every
    listening one."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_notify(NOTIFY_CHANNEL, "")))
    after_commit(connection, _wake_local_workers)


def _wake_local_workers() -> None:
    for listener in list(_LOCAL_LISTENERS):
        listener()


def hear_locally(listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener` whenever a task commits in this process; returns how to stop."""
    _LOCAL_LISTENERS.append(listener)
    return lambda: _LOCAL_LISTENERS.remove(listener)


def listen(dbapi_connection: Any) -> None:
    """Subscribe a raw autocommit psycopg connection to enqueue notifications."""
    dbapi_connection.execute(f"LISTEN {NOTIFY_CHANNEL}")


def pending_with_key(connection: Connection, key: str) -> int | None:
    query = select(tasks.c.id).where(tasks.c.unique_key == key, _PENDING)
    return connection.execute(query).scalar_one_or_none()


def claim(
    connection: Connection,
    *,
    worker_id: str,
    kinds: Collection[str],
    limit: int,
    now: datetime,
    lease: timedelta,
) -> list[Claim]:
    """Start runs of up to `limit` due tasks, best priority first, oldest first.

    One guarded `UPDATE … WHERE id IN (… FOR UPDATE SKIP LOCKED)`: PostgreSQL
    skips rows another worker is claiming; SQLite renders no locking clause and relies
    on the immediate transaction, which admits one writer at a time.
    """
    if limit <= 0 or not kinds:
        return []
    # A CTE, not a plain subquery: PostgreSQL may rescan a subquery once per outer row,
    # and a rescan skips the rows this statement already updated and picks new ones,
    # claiming more than `limit`. A CTE that locks rows is computed exactly once.
    due = (
        select(tasks.c.id)
        .where(_QUEUED, tasks.c.not_before <= now, tasks.c.kind.in_(kinds))
        .order_by(tasks.c.priority.desc(), tasks.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    rows = connection.execute(
        update(tasks)
        .where(tasks.c.id.in_(select(due.c.id)), tasks.c.state == "queued")
        .values(state="running", run_count=tasks.c.run_count + 1, updated_at=now)
        .returning(
            tasks.c.id,
            tasks.c.run_count,
            tasks.c.kind,
            tasks.c.payload,
            tasks.c.error_count,
            tasks.c.priority,
        )
    ).all()
    started = sorted(rows, key=lambda row: (-row.priority, row.id))  # RETURNING keeps no order
    if started:
        opened = {"worker_id": worker_id, "started_at": now, "heartbeat_at": now}
        connection.execute(
            insert(task_runs),
            [
                {
                    "task_id": row.id,
                    "attempt": row.run_count,
                    **opened,
                    "lease_expires_at": now + lease,
                }
                for row in started
            ],
        )
    return [_claim_from_row(row) for row in started]


def _claim_from_row(row: Row[Any]) -> Claim:
    return Claim(
        task_id=row.id,
        attempt=row.run_count,
        kind=row.kind,
        payload=json.loads(row.payload),
        error_count=row.error_count,
    )


def renew(
    connection: Connection,
    *,
    worker_id: str,
    keys: Collection[RunKey],
    now: datetime,
    lease: timedelta,
) -> set[RunKey]:
    """Extend the leases of the worker's open runs; returns the runs it still holds."""
    if not keys:
        return set()
    rows = connection.execute(
        update(task_runs)
        .where(
            tuple_(task_runs.c.task_id, task_runs.c.attempt).in_(sorted(keys)),
            task_runs.c.outcome.is_(None),
            task_runs.c.worker_id == worker_id,
        )
        .values(heartbeat_at=now, lease_expires_at=now + lease)
        .returning(task_runs.c.task_id, task_runs.c.attempt)
    )
    return {(row.task_id, row.attempt) for row in rows}


def _close(
    connection: Connection,
    keys: Iterable[RunKey],
    *,
    now: datetime,
    task_values: Mapping[str, Any],
    run_values: Mapping[str, Any],
    guard: ColumnElement[bool] | None = None,
) -> set[RunKey]:
    """End runs that are still their task's current one; the rest are refused."""
    wanted = sorted(keys)
    if not wanted:
        return set()
    conditions = [tuple_(tasks.c.id, tasks.c.run_count).in_(wanted), tasks.c.state == "running"]
    if guard is not None:
        conditions.append(guard)
    closed = (
        update(tasks)
        .where(*conditions)
        .values(updated_at=now, **task_values)
        .returning(tasks.c.id, tasks.c.run_count)
    )
    if connection.dialect.name == "postgresql":  # one round trip: both updates in one statement
        done = closed.cte("done")
        ended = (
            update(task_runs)
            .where(task_runs.c.task_id == done.c.id, task_runs.c.attempt == done.c.run_count)
            .values(ended_at=now, **run_values)
            .returning(task_runs.c.task_id, task_runs.c.attempt)
        )
        return {(row.task_id, row.attempt) for row in connection.execute(ended)}
    accepted = {(row.id, row.run_count) for row in connection.execute(closed)}
    if accepted:
        connection.execute(
            update(task_runs)
            .where(tuple_(task_runs.c.task_id, task_runs.c.attempt).in_(sorted(accepted)))
            .values(ended_at=now, **run_values)
        )
    return accepted


def succeed(connection: Connection, keys: Collection[RunKey], now: datetime) -> set[RunKey]:
    """Record successful runs; returns those accepted (a superseded run is refused)."""
    return _close(
        connection,
        keys,
        now=now,
        task_values={"state": TaskState.SUCCEEDED.value, "finished_at": now},
        run_values={"outcome": RunOutcome.SUCCEEDED.value},
    )


@dataclass(frozen=True)
class BadEnd:
    """A run that errored, and what its task becomes."""

    key: RunKey
    verdict: Verdict
    code: str
    error: str


def settle_bad_run(connection: Connection, end: BadEnd, now: datetime) -> bool:
    """Record an errored run: one attempt spent; the task is retried later or fails."""
    task_values: dict[str, Any] = {
        "state": end.verdict.state.value,
        "error_count": tasks.c.error_count + 1,
        "last_error_code": end.code,
        "last_error": end.error,
    }
    if end.verdict.state is TaskState.FAILED:
        task_values["finished_at"] = now
    if end.verdict.not_before is not None:
        task_values["not_before"] = end.verdict.not_before
    run_values = {"outcome": RunOutcome.ERRORED.value, "error_code": end.code, "error": end.error}
    accepted = _close(
        connection, [end.key], now=now, task_values=task_values, run_values=run_values
    )
    return bool(accepted)


def interrupt(connection: Connection, keys: Collection[RunKey], now: datetime) -> set[RunKey]:
    """Hand runs back: their tasks are queued again at once, with nothing spent."""
    return _close(
        connection,
        keys,
        now=now,
        task_values={"state": TaskState.QUEUED.value},
        run_values={"outcome": RunOutcome.INTERRUPTED.value},
    )


@dataclass(frozen=True)
class Expired:
    """An open run whose lease has run out, with its task's lost-run count."""

    key: RunKey
    lost_count: int


def expired_runs(connection: Connection, now: datetime, limit: int = 500) -> list[Expired]:
    query = (
        select(task_runs.c.task_id, task_runs.c.attempt, tasks.c.lost_count)
        .join(tasks, tasks.c.id == task_runs.c.task_id)
        .where(
            task_runs.c.outcome.is_(None),
            task_runs.c.lease_expires_at < now,
            tasks.c.run_count == task_runs.c.attempt,
            tasks.c.state == "running",
        )
        .order_by(task_runs.c.lease_expires_at)
        .limit(limit)
    )
    return [
        Expired((row.task_id, row.attempt), row.lost_count) for row in connection.execute(query)
    ]


def mark_lost(
    connection: Connection, decided: Sequence[tuple[Expired, Verdict]], now: datetime
) -> set[RunKey]:
    """Record lost runs: requeued without spending an attempt, or failed as a crash loop.

    The lease is checked again in the same statement, so a heartbeat that came in
    after the runs were listed saves its run.
    """
    still_expired = exists().where(
        task_runs.c.task_id == tasks.c.id,
        task_runs.c.attempt == tasks.c.run_count,
        task_runs.c.outcome.is_(None),
        task_runs.c.lease_expires_at < now,
    )
    lost_run = {"outcome": RunOutcome.LOST.value}
    requeue_keys = [item.key for item, verdict in decided if verdict.state is TaskState.QUEUED]
    fail_keys = [item.key for item, verdict in decided if verdict.state is TaskState.FAILED]
    counted = {"lost_count": tasks.c.lost_count + 1}
    requeued = _close(
        connection,
        requeue_keys,
        now=now,
        task_values={"state": TaskState.QUEUED.value, **counted},
        run_values=lost_run,
        guard=still_expired,
    )
    failed = _close(
        connection,
        fail_keys,
        now=now,
        task_values={
            "state": TaskState.FAILED.value,
            "finished_at": now,
            "last_error_code": CRASH_LOOP,
            "last_error": "its runs kept being lost: the task seems to kill its workers",
            **counted,
        },
        run_values=lost_run,
        guard=still_expired,
    )
    return requeued | failed


def is_current(connection: Connection, key: RunKey) -> bool:
    """Whether the run still holds its task; on PostgreSQL, holds it until commit.

    `FOR SHARE` makes a reaper or canceller wait for this transaction, so writes made
    in it after a True answer cannot interleave with another run taking over.
    """
    query = (
        select(tasks.c.id)
        .where(tasks.c.id == key[0], tasks.c.run_count == key[1], tasks.c.state == "running")
        .with_for_update(read=True)
    )
    return connection.execute(query).first() is not None


def get_task(connection: Connection, task_id: int, *, lock: bool = False) -> Task | None:
    query = select(tasks).where(tasks.c.id == task_id)
    if lock:
        query = query.with_for_update()
    row = connection.execute(query).first()
    return _task_from_row(row) if row else None


def list_tasks(
    connection: Connection,
    *,
    state: TaskState | None = None,
    kind: str | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[Task]:
    """Newest first; `before_id` continues a listing after its last task."""
    query = select(tasks).order_by(tasks.c.id.desc()).limit(limit)
    if state is not None:
        query = query.where(tasks.c.state == state.value)
    if kind is not None:
        query = query.where(tasks.c.kind == kind)
    if before_id is not None:
        query = query.where(tasks.c.id < before_id)
    return [_task_from_row(row) for row in connection.execute(query)]


def list_runs(connection: Connection, task_id: int) -> list[Run]:
    query = select(task_runs).where(task_runs.c.task_id == task_id).order_by(task_runs.c.attempt)
    return [_run_from_row(row) for row in connection.execute(query)]


def cancel(connection: Connection, task: Task, now: datetime) -> bool:
    """Cancel a pending task, ending its open run if it has one; False if it moved on."""
    changed = connection.execute(
        update(tasks)
        .where(
            tasks.c.id == task.id,
            tasks.c.state == task.state.value,
            tasks.c.run_count == task.run_count,
        )
        .values(state=TaskState.CANCELLED.value, finished_at=now, updated_at=now)
    ).rowcount
    if changed and task.state is TaskState.RUNNING:
        connection.execute(
            update(task_runs)
            .where(task_runs.c.task_id == task.id, task_runs.c.attempt == task.run_count)
            .values(outcome=RunOutcome.CANCELLED.value, ended_at=now)
        )
    return bool(changed)


def requeue(connection: Connection, task: Task, now: datetime) -> bool:
    """Put a failed or cancelled task back in the queue with fresh budgets."""
    changed = connection.execute(
        update(tasks)
        .where(tasks.c.id == task.id, tasks.c.state == task.state.value)
        .values(
            state=TaskState.QUEUED.value,
            error_count=0,
            lost_count=0,
            not_before=now,
            finished_at=None,
            updated_at=now,
        )
    ).rowcount
    return bool(changed)


def _task_from_row(row: Row[Any]) -> Task:
    return Task(
        id=row.id,
        kind=row.kind,
        payload=json.loads(row.payload),
        state=TaskState(row.state),
        priority=row.priority,
        not_before=row.not_before,
        run_count=row.run_count,
        error_count=row.error_count,
        lost_count=row.lost_count,
        unique_key=row.unique_key,
        last_error_code=row.last_error_code,
        last_error=row.last_error,
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
    )


def _run_from_row(row: Row[Any]) -> Run:
    return Run(
        task_id=row.task_id,
        attempt=row.attempt,
        worker_id=row.worker_id,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        lease_expires_at=row.lease_expires_at,
        ended_at=row.ended_at,
        outcome=RunOutcome(row.outcome) if row.outcome else None,
        error_code=row.error_code,
        error=row.error,
    )


def cancel_pending_with_key(connection: Connection, key: str, now: datetime) -> bool:
    """Cancel the pending task holding `key`, if there is one."""
    task_id = pending_with_key(connection, key)
    task = get_task(connection, task_id, lock=True) if task_id is not None else None
    return task is not None and cancel(connection, task, now)
