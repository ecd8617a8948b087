"""The task queue, seen from the API: tasks with their runs, and the workers (editors)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from masthead.actions import tasks
from masthead.domain.tasks import TaskState
from masthead.web.api.deps import CallDep, ReadDep, SettingsDep, WriteDep
from masthead.web.api.schemas import RowId

router = APIRouter(tags=["tasks"])


@router.get("/tasks", summary="Tasks, newest first")
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


@router.get("/tasks/{task_id}", summary="A task and every run it has had")
def show_task(task_id: RowId, call: CallDep, connection: ReadDep) -> dict[str, Any]:
    return tasks.show_task(connection, call.actor, task_id).as_dict()


@router.post("/tasks/{task_id}/retry", summary="Queue a failed or cancelled task again")
def retry_task(task_id: RowId, call: CallDep, connection: WriteDep) -> dict[str, Any]:
    return tasks.retry_task(connection, call, task_id).as_dict()


@router.post("/tasks/{task_id}/cancel", summary="Cancel a pending task")
def cancel_task(task_id: RowId, call: CallDep, connection: WriteDep) -> dict[str, Any]:
    return tasks.cancel_task(connection, call, task_id).as_dict()


@router.get("/workers", summary="Registered workers, and whether each is alive")
def list_workers(call: CallDep, connection: ReadDep, settings: SettingsDep) -> dict[str, Any]:
    statuses = tasks.list_workers(connection, call.actor, at=datetime.now(UTC), settings=settings)
    return {"items": [status.as_dict() for status in statuses], "next_cursor": None}
