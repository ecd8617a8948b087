"""The task queue, seen from the API: tasks with their runs, and the workers (editors)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from masthead.actions import tasks
from masthead.domain.tasks import RunOutcome, TaskState
from masthead.web.api.deps import CallDep, ReadDep, SettingsDep, WriteDep
from masthead.web.api.schemas import RowId

router = APIRouter(tags=["tasks"])


class TaskOut(BaseModel):
    id: int
    kind: str
    payload: dict[str, Any]
    state: TaskState
    priority: int
    not_before: datetime
    run_count: int = Field(description="Runs started: the newest run's attempt number.")
    error_count: int = Field(description="Runs that errored: the retry budget spent.")
    lost_count: int = Field(description="Runs lost with their worker: the crash-loop budget.")
    unique_key: str | None
    last_error_code: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class RunOut(BaseModel):
    attempt: int
    worker_id: str
    started_at: datetime
    heartbeat_at: datetime
    lease_expires_at: datetime
    ended_at: datetime | None
    outcome: RunOutcome | None = Field(description="None while the run is going on.")
    error_code: str | None
    error: str | None


class TaskDetailOut(TaskOut):
    runs: list[RunOut]


class TaskList(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None


class WorkerOut(BaseModel):
    id: str
    host: str
    pid: int
    kinds: list[str]
    concurrency: int
    started_at: datetime
    last_seen_at: datetime
    alive: bool


class WorkerList(BaseModel):
    items: list[WorkerOut]
    next_cursor: str | None = None


@router.get("/tasks", response_model=TaskList, summary="Tasks, newest first")
def list_tasks(
    call: CallDep,
    connection: ReadDep,
    state: TaskState | None = None,
    kind: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    page = tasks.list_tasks(
        connection, call.actor, state=state, kind=kind, limit=limit, cursor=cursor
    )
    return page.as_dict()


@router.get(
    "/tasks/{task_id}", response_model=TaskDetailOut, summary="A task and every run it has had"
)
def show_task(task_id: RowId, call: CallDep, connection: ReadDep) -> dict[str, Any]:
    return tasks.show_task(connection, call.actor, task_id).as_dict()


@router.post(
    "/tasks/{task_id}/retry", response_model=TaskOut, summary="Queue a failed or cancelled task"
)
def retry_task(task_id: RowId, call: CallDep, connection: WriteDep) -> dict[str, Any]:
    return tasks.retry_task(connection, call, task_id).as_dict()


@router.post("/tasks/{task_id}/cancel", response_model=TaskOut, summary="Cancel a pending task")
def cancel_task(task_id: RowId, call: CallDep, connection: WriteDep) -> dict[str, Any]:
    return tasks.cancel_task(connection, call, task_id).as_dict()


@router.get(
    "/workers", response_model=WorkerList, summary="Registered workers, and whether each is alive"
)
def list_workers(call: CallDep, connection: ReadDep, settings: SettingsDep) -> dict[str, Any]:
    statuses = tasks.list_workers(connection, call.actor, at=datetime.now(UTC), settings=settings)
    return {"items": [status.as_dict() for status in statuses], "next_cursor": None}
