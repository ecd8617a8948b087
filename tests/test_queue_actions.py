"""The queue's use cases: pages, permissions, and what a person may retry or cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from masthead.actions.context import OPERATOR, Call
from masthead.actions.tasks import (
    cancel_task,
    enqueue,
    list_tasks,
    list_workers,
    retry_task,
    show_task,
)
from masthead.domain.permissions import Actor
from masthead.domain.staff import Role
from masthead.domain.tasks import NewTask, TaskState, Worker
from masthead.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from masthead.settings import Settings
from masthead.store import workers as worker_store
from masthead.store.engine import reading, writing
from tests.operators import call_as

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WRITER = Actor(staff_id=None, slug="agent", role=Role.WRITER)


def _call() -> Call:
    return call_as(OPERATOR, NOW)


def test_lists_come_in_pages_with_a_cursor(engine: Engine) -> None:
    with writing(engine) as connection:
        ids = [enqueue(connection, NewTask("k"), at=NOW).task_id for _ in range(5)]
    with reading(engine) as connection:
        first = list_tasks(connection, OPERATOR, limit=3)
        assert first.next_cursor is not None
        second = list_tasks(connection, OPERATOR, limit=3, cursor=first.next_cursor)
        with pytest.raises(InvalidInput):
            list_tasks(connection, OPERATOR, cursor="nonsense")
    assert [task.id for task in first.items + second.items] == ids[::-1]
    assert second.next_cursor is None
    assert second.as_dict()["items"][0]["state"] == "queued"


def test_the_queue_is_for_editors_and_admins(engine: Engine) -> None:
    with writing(engine) as connection:
        task_id = enqueue(connection, NewTask("k"), at=NOW).task_id
        with pytest.raises(Forbidden):
            list_tasks(connection, WRITER)
        with pytest.raises(Forbidden):
            show_task(connection, WRITER, task_id)
        with pytest.raises(Forbidden):
            cancel_task(connection, call_as(WRITER, NOW), task_id)


def test_cancel_then_retry_then_refuse_what_makes_no_sense(engine: Engine) -> None:
    with writing(engine) as connection:
        task_id = enqueue(connection, NewTask("k", unique_key="one"), at=NOW).task_id
        assert cancel_task(connection, _call(), task_id).state is TaskState.CANCELLED
        with pytest.raises(InvalidTransition):
            cancel_task(connection, _call(), task_id)
        holder = enqueue(connection, NewTask("k", unique_key="one"), at=NOW).task_id
        with pytest.raises(Conflict) as refused:
            retry_task(connection, _call(), task_id)
        assert refused.value.code == "unique_key_pending"
        cancel_task(connection, _call(), holder)
        assert retry_task(connection, _call(), task_id).state is TaskState.QUEUED
        with pytest.raises(InvalidTransition):
            retry_task(connection, _call(), task_id)
        with pytest.raises(NotFound):
            show_task(connection, OPERATOR, 999_999)


def test_workers_are_alive_while_seen_within_a_lease(engine: Engine) -> None:
    settings = Settings(database_url=str(engine.url), queue_lease_seconds=30)
    with writing(engine) as connection:
        worker_store.register(connection, Worker("a", "h", 1, ("k",), 2, NOW, NOW))
        worker_store.register(
            connection, Worker("b", "h", 2, ("k",), 2, NOW, NOW - timedelta(seconds=31))
        )
        statuses = list_workers(connection, OPERATOR, at=NOW, settings=settings)
    assert [(status.worker.id, status.alive) for status in statuses] == [
        ("a", True),
        ("b", False),
    ]
    assert statuses[0].as_dict()["kinds"] == ["k"]
