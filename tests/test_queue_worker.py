"""The worker loop in-process: outcomes, timeouts, cancellation, wake-ups, embedding."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from masthead.actions.context import OPERATOR
from masthead.actions.tasks import cancel_task, enqueue, show_task
from masthead.domain.retry import Backoff
from masthead.domain.tasks import Claim, NewTask, RunOutcome, TaskState
from masthead.errors import InvalidInput
from masthead.queue import PermanentError, Registry, RunStopped, TaskContext
from masthead.queue.embedded import start_embedded_worker
from masthead.queue.errors import RunRevoked
from masthead.queue.slots import Slots
from masthead.queue.worker import QueueWorker
from masthead.settings import Settings
from masthead.store.engine import open_engine, reading, writing
from masthead.store.turns import write_turns
from masthead.store.workers import list_workers
from tests.conftest import settings_for
from tests.databases import DatabaseFactory
from tests.operators import call_as
from tests.queue_handlers import create_effects_table
from tests.queue_support import task_states, wait_until

QUICK = {
    "queue_lease_seconds": 2,
    "queue_heartbeat_seconds": 0.2,
    "queue_reaper_seconds": 0.5,
    "queue_poll_seconds": 0.1,
    "queue_backoff_base_seconds": 0.05,
    "queue_grace_seconds": 2,
}


def _settings(database_url: str, **overrides: object) -> Settings:
    return settings_for(database_url, **{**QUICK, **overrides})


@contextmanager
def running(worker: QueueWorker) -> Iterator[QueueWorker]:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.request_stop()
        thread.join(10)
        assert not thread.is_alive()


def _enqueue(engine: Engine, kind: str, **fields: object) -> int:
    with writing(engine) as connection:
        new = NewTask(kind, **fields)  # type: ignore[arg-type]
        return enqueue(connection, new, at=datetime.now(UTC)).task_id


def _spin(context: TaskContext) -> None:
    while True:
        time.sleep(0.01)


def _outcome_registry(settings: Settings) -> Registry:
    registry = Registry.from_settings(settings)
    registry.register("ok", lambda context: None)

    @registry.handler("flaky", max_attempts=2, backoff=Backoff(0.05, 0.1))
    def flaky(context: TaskContext) -> None:
        raise ValueError(f"attempt {context.attempt} failed")

    def refuse(context: TaskContext) -> None:
        raise PermanentError("the payload names no post", code="unknown_post")

    registry.register("refuse", refuse)
    registry.register("spin", _spin, timeout=0.3, max_attempts=1)
    return registry


def test_each_outcome_is_recorded_as_the_brief_says(engine: Engine, database_url: str) -> None:
    settings = _settings(database_url)
    worker = QueueWorker(settings=settings, engine=engine, registry=_outcome_registry(settings))
    ids = {kind: _enqueue(engine, kind) for kind in ("ok", "flaky", "refuse", "spin")}
    with running(worker):
        wait_until(lambda: not {"queued", "running"} & set(task_states(engine)), 20, "the end")
    with reading(engine) as connection:
        details = {kind: show_task(connection, OPERATOR, ids[kind]) for kind in ids}
    assert details["ok"].task.state is TaskState.SUCCEEDED
    flaky = details["flaky"]
    assert (flaky.task.state, flaky.task.error_count) == (TaskState.FAILED, 2)
    assert [run.error.splitlines()[-1] for run in flaky.runs if run.error] == [
        "ValueError: attempt 1 failed",
        "ValueError: attempt 2 failed",
    ]
    refused = details["refuse"]
    assert (refused.task.state, refused.task.run_count) == (TaskState.FAILED, 1)
    assert refused.runs[0].error_code == "unknown_post"
    spun = details["spin"]
    assert spun.task.state is TaskState.FAILED
    assert (spun.runs[0].outcome, spun.runs[0].error_code) == (RunOutcome.ERRORED, "timeout")


def test_cancelling_a_running_task_stops_its_handler(engine: Engine, database_url: str) -> None:
    settings = _settings(database_url)
    stopped = threading.Event()
    registry = Registry.from_settings(settings)

    def wait_for_stop(context: TaskContext) -> None:
        try:
            _spin(context)
        except RunStopped:
            stopped.set()
            raise

    registry.register("endless", wait_for_stop)
    task_id = _enqueue(engine, "endless")
    with running(QueueWorker(settings=settings, engine=engine, registry=registry)):
        wait_until(lambda: task_states(engine)["running"] == 1, 10, "the run")
        with writing(engine) as connection:
            cancel_task(connection, call_as(OPERATOR), task_id)
        assert stopped.wait(5)
    with reading(engine) as connection:
        detail = show_task(connection, OPERATOR, task_id)
    assert detail.task.state is TaskState.CANCELLED
    assert [run.outcome for run in detail.runs] == [RunOutcome.CANCELLED]


def test_the_embedded_worker_runs_tasks_and_deregisters_when_stopped(sqlite_url: str) -> None:
    settings = _settings(sqlite_url, queue_task_modules="tests.queue_handlers")
    engine = open_engine(sqlite_url)
    create_effects_table(engine)
    handle = start_embedded_worker(settings, engine, concurrency=2)
    for _ in range(3):
        _enqueue(engine, "test.fenced", payload={"seconds": 0.1, "later": 0})
    wait_until(lambda: task_states(engine)["succeeded"] == 3, 10, "three tasks")
    with reading(engine) as connection:
        assert [worker.concurrency for worker in list_workers(connection)] == [2]
    handle.stop()
    assert not handle.running
    with reading(engine) as connection:
        assert list_workers(connection) == []
    engine.dispose()


@pytest.fixture
def postgres_url(database_factories: dict[str, DatabaseFactory]) -> Iterator[str]:
    factory = database_factories["postgres"]
    url = factory.new()
    yield url
    factory.drop(url)


def test_an_idle_worker_on_postgresql_hears_of_a_task_at_once(postgres_url: str) -> None:
    settings = _settings(postgres_url, queue_poll_seconds=30)  # polling would take 30 s
    engine = open_engine(postgres_url)
    started = threading.Event()
    registry = Registry.from_settings(settings)
    registry.register("ping", lambda context: started.set())
    with running(QueueWorker(settings=settings, engine=engine, registry=registry)):
        time.sleep(0.5)  # the worker's first look found nothing; it is idle now
        before = time.monotonic()
        _enqueue(engine, "ping")
        assert started.wait(10)
        # told, not polled: well inside the 30 s poll even on a machine at load 8
        assert time.monotonic() - before < 5
    engine.dispose()


def _idle(context: TaskContext) -> None:
    return None


def test_a_registry_refuses_a_second_handler_and_unknown_kinds(sqlite_url: str) -> None:
    registry = Registry.from_settings(_settings(sqlite_url))
    registry.register("a", _idle, timeout=5, max_attempts=2)
    with pytest.raises(ValueError, match="already"):
        registry.register("a", _idle)
    with pytest.raises(ValueError, match="timeout"):
        registry.register("b", _idle, timeout=0)
    assert registry.only(["a"]).kinds == ("a",)
    assert (registry.spec("a").timeout, registry.spec("a").max_attempts) == (5, 2)
    with pytest.raises(InvalidInput):
        registry.only(["a", "nope"])


def test_a_handler_stopped_again_and_again_never_leaves_the_write_turns_held(
    sqlite_url: str,
) -> None:
    """A stop lands between two of the handler's instructions; inside the start or the end
    of a transaction it could leave SQLite's write turns held for good. Stops wait until
    the handler is out of its transaction."""
    engine = open_engine(sqlite_url)
    stopped = 0
    started = threading.Event()

    def busy_writer(_claim: Claim) -> None:
        nonlocal stopped
        deadline = time.monotonic() + 4
        started.set()
        while time.monotonic() < deadline:
            try:
                with writing(engine) as connection:
                    connection.execute(text("SELECT 1"))
                time.sleep(0.0003)
            except RunStopped:
                stopped += 1

    finished = threading.Event()
    slots = Slots(1, busy_writer, lambda _finished: finished.set())
    slots.submit(Claim(1, 1, "busy", {}, 0))
    assert started.wait(10)
    while not finished.is_set():
        slots.stop_run((1, 1), RunRevoked)
        slots.stop_pending()
        time.sleep(0.0007)
    slots.close()
    assert stopped > 20
    turns = write_turns(engine)
    assert turns._threads.acquire(timeout=2), "a stop left the write turn held"
    turns._threads.release()
    with writing(engine) as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()
