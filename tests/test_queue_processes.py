"""Real worker processes against real databases: paused, stopped, long-running.

Timings are short (2 s lease, 0.5 s heartbeat and reaper), so each test takes seconds.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from masthead.store.engine import open_engine, reading
from tests.queue_handlers import EFFECTS, create_effects_table
from tests.queue_support import (
    all_runs,
    enqueue_all,
    open_run_pids,
    pause_between_transactions,
    registered_pids,
    task_states,
    wait_until,
    with_application_name,
    worker_processes,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def queue_engine(database_url: str) -> Iterator[Engine]:
    engine = open_engine(database_url)
    create_effects_table(engine)
    yield engine
    engine.dispose()


def _effects(engine: Engine) -> list[tuple[int, int, int]]:
    with reading(engine) as connection:
        rows = connection.execute(select(EFFECTS).order_by(EFFECTS.c.task_id))
        return [(row.task_id, row.attempt, row.pid) for row in rows]


def test_a_worker_paused_past_its_lease_cannot_overwrite_the_next_run(
    database_url: str, queue_engine: Engine, tmp_path: Path
) -> None:
    with worker_processes(database_url, tmp_path) as group:
        zombie = group.start(url=with_application_name(database_url, "zombie"))
        [task_id] = enqueue_all(queue_engine, "test.fenced", [{"seconds": 3, "later": 0.2}])
        wait_until(lambda: zombie.pid in open_run_pids(queue_engine), 30, "the first run")
        pause_between_transactions(zombie, queue_engine, "zombie")
        rescuer = group.start()
        wait_until(lambda: task_states(queue_engine)["succeeded"] == 1, 30, "the second run")
        os.kill(zombie.pid, signal.SIGCONT)
        wait_until(lambda: "refused" in group.logs() or "taken" in group.logs(), 10, "refusal")
        time.sleep(1)  # the heartbeat and the handler have both woken up by now
        runs = all_runs(queue_engine)
        assert [(run.attempt, run.outcome) for run in runs] == [(1, "lost"), (2, "succeeded")]
        assert runs[0].worker_id != runs[1].worker_id
        assert task_states(queue_engine) == {"succeeded": 1}
        assert _effects(queue_engine) == [(task_id, 2, rescuer.pid)]
        assert zombie.poll() is None  # it carries on, having learnt its run was taken
        zombie.send_signal(signal.SIGTERM)
        assert zombie.wait(15) == 0


def test_runs_that_outlast_several_leases_while_heartbeating_are_never_rescued(
    database_url: str, queue_engine: Engine, tmp_path: Path
) -> None:
    with worker_processes(database_url, tmp_path) as group:
        for _ in range(2):
            group.start(concurrency=2)
        payloads = [{"seconds": 7, "later": 0} for _ in range(4)]  # three and a half leases
        task_ids = enqueue_all(queue_engine, "test.fenced", payloads)
        wait_until(lambda: task_states(queue_engine)["succeeded"] == 4, 60, "the long tasks")
    runs = all_runs(queue_engine)
    assert [(run.task_id, run.attempt, run.outcome) for run in runs] == [
        (task_id, 1, "succeeded") for task_id in task_ids
    ]
    assert [effect[:2] for effect in _effects(queue_engine)] == [(t, 1) for t in task_ids]


def test_sigterm_lets_running_handlers_finish_and_hands_the_rest_back(
    database_url: str, queue_engine: Engine, tmp_path: Path
) -> None:
    with worker_processes(database_url, tmp_path, grace_seconds=1.5) as group:
        stopping = group.start(concurrency=4)
        short = enqueue_all(queue_engine, "test.fenced", [{"seconds": 0.5, "later": 0}] * 2, 1)
        long = enqueue_all(queue_engine, "test.fenced", [{"seconds": 60, "later": 0}] * 2, 1)
        waiting = enqueue_all(queue_engine, "test.fenced", [{"seconds": 0, "later": 0}] * 2)
        wait_until(lambda: open_run_pids(queue_engine).get(stopping.pid) == 4, 30, "four runs")
        started = time.monotonic()
        stopping.send_signal(signal.SIGTERM)
        assert stopping.wait(10) == 0
        assert time.monotonic() - started < 4  # the grace period, then out
        assert stopping.pid not in registered_pids(queue_engine)
        outcomes = {run.task_id: run.outcome for run in all_runs(queue_engine)}
        assert outcomes == {
            **dict.fromkeys(short, "succeeded"),
            **dict.fromkeys(long, "interrupted"),
        }
        assert task_states(queue_engine) == {"succeeded": 2, "queued": 4}
        taker = group.start(concurrency=4)
        wait_until(lambda: task_states(queue_engine)["succeeded"] == 6, 30, "the rest")
    runs = {(run.task_id, run.attempt): run for run in all_runs(queue_engine)}
    for task_id in long:
        assert runs[task_id, 1].outcome == "interrupted"
        assert runs[task_id, 2].outcome == "succeeded"
    for task_id in waiting:
        assert runs[task_id, 1].outcome == "succeeded"
    by_pid = {task_id: pid for task_id, _, pid in _effects(queue_engine)}
    assert {by_pid[task_id] for task_id in short} == {stopping.pid}
    assert {by_pid[task_id] for task_id in [*long, *waiting]} == {taker.pid}
