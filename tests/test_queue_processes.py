"""Real worker processes against real databases: paused, stopped, long-running.

The timings (`QUEUE_TIMINGS`: 6 s lease, 0.5 s heartbeat and reaper) and every wait are
sized to hold on a busy machine (load 8 on 2 cores); a wait costs only when it fails.
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
    LEASE_SECONDS,
    PATIENCE,
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

pytestmark = pytest.mark.timeout(240)

# Longer than two leases: only heartbeats can keep such a run.
LONG_RUN_SECONDS = 2 * LEASE_SECONDS + 1
# SIGTERM comes while the short runs are running (the test sees them open for 2 s, not
# the 0.5 s that a loaded machine could miss); they end well within the grace period.
SHORT_RUN_SECONDS = 2.0
GRACE_SECONDS = 5.0


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
        # The first run lasts 5 s: time to pause it while it runs, and over by the time
        # the zombie wakes (a lease later at least), so its handler then writes at once.
        [task_id] = enqueue_all(queue_engine, "test.fenced", [{"seconds": 5, "later": 0.2}])
        wait_until(lambda: zombie.pid in open_run_pids(queue_engine), PATIENCE, "the first run")
        pause_between_transactions(zombie, queue_engine, "zombie")
        rescuer = group.start()
        wait_until(lambda: task_states(queue_engine)["succeeded"] == 1, PATIENCE, "the rescue")
        os.kill(zombie.pid, signal.SIGCONT)
        wait_until(lambda: "refused" in group.logs() or "taken" in group.logs(), 30, "refusal")
        time.sleep(1)  # the heartbeat and the handler have both woken up by now
        runs = all_runs(queue_engine)
        assert [(run.attempt, run.outcome) for run in runs] == [(1, "lost"), (2, "succeeded")]
        assert runs[0].worker_id != runs[1].worker_id
        assert task_states(queue_engine) == {"succeeded": 1}
        assert _effects(queue_engine) == [(task_id, 2, rescuer.pid)]
        assert zombie.poll() is None  # it carries on, having learnt its run was taken
        zombie.send_signal(signal.SIGTERM)
        assert group.wait_for_exit(zombie, 30) == 0


def test_runs_that_outlast_several_leases_while_heartbeating_are_never_rescued(
    database_url: str, queue_engine: Engine, tmp_path: Path
) -> None:
    with worker_processes(database_url, tmp_path) as group:
        for _ in range(2):
            group.start(concurrency=2)
        payloads = [{"seconds": LONG_RUN_SECONDS, "later": 0} for _ in range(4)]
        task_ids = enqueue_all(queue_engine, "test.fenced", payloads)
        done = LONG_RUN_SECONDS + PATIENCE
        wait_until(lambda: task_states(queue_engine)["succeeded"] == 4, done, "the long tasks")
    runs = all_runs(queue_engine)
    assert [(run.task_id, run.attempt, run.outcome) for run in runs] == [
        (task_id, 1, "succeeded") for task_id in task_ids
    ]
    assert [effect[:2] for effect in _effects(queue_engine)] == [(t, 1) for t in task_ids]


def test_sigterm_lets_running_handlers_finish_and_hands_the_rest_back(
    database_url: str, queue_engine: Engine, tmp_path: Path
) -> None:
    with worker_processes(database_url, tmp_path, grace_seconds=GRACE_SECONDS) as group:
        stopping = group.start(concurrency=4)
        short_run = {"seconds": SHORT_RUN_SECONDS, "later": 0}
        short = enqueue_all(queue_engine, "test.fenced", [short_run] * 2, 1)
        long = enqueue_all(queue_engine, "test.fenced", [{"seconds": 60, "later": 0}] * 2, 1)
        waiting = enqueue_all(queue_engine, "test.fenced", [{"seconds": 0, "later": 0}] * 2)
        pid = stopping.pid
        wait_until(lambda: open_run_pids(queue_engine).get(pid) == 4, PATIENCE, "four runs")
        started = time.monotonic()
        stopping.send_signal(signal.SIGTERM)
        assert group.wait_for_exit(stopping, GRACE_SECONDS + 30) == 0
        # The grace period, then out: not at once, and not after the 60 s handlers.
        assert GRACE_SECONDS <= time.monotonic() - started < GRACE_SECONDS + 20
        assert stopping.pid not in registered_pids(queue_engine)
        outcomes = {run.task_id: run.outcome for run in all_runs(queue_engine)}
        assert outcomes == {
            **dict.fromkeys(short, "succeeded"),
            **dict.fromkeys(long, "interrupted"),
        }
        assert task_states(queue_engine) == {"succeeded": 2, "queued": 4}
        taker = group.start(concurrency=4)
        wait_until(lambda: task_states(queue_engine)["succeeded"] == 6, PATIENCE, "the rest")
    runs = {(run.task_id, run.attempt): run for run in all_runs(queue_engine)}
    for task_id in long:
        assert runs[task_id, 1].outcome == "interrupted"
        assert runs[task_id, 2].outcome == "succeeded"
    for task_id in waiting:
        assert runs[task_id, 1].outcome == "succeeded"
    by_pid = {task_id: pid for task_id, _, pid in _effects(queue_engine)}
    assert {by_pid[task_id] for task_id in short} == {stopping.pid}
    assert {by_pid[task_id] for task_id in [*long, *waiting]} == {taker.pid}
