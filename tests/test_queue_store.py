"""Every transition of tasks and runs, through the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from masthead.actions.tasks import enqueue
from masthead.domain.retry import Backoff
from masthead.domain.tasks import (
    CRASH_LOOP,
    Claim,
    NewTask,
    RunOutcome,
    TaskDetail,
    TaskState,
    Verdict,
    Worker,
    after_error,
    after_lost,
)
from masthead.store import tasks as store
from masthead.store import workers as worker_store
from masthead.store.engine import reading, writing

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
BACKOFF = Backoff(base=10, cap=600)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _enqueue(engine: Engine, kind: str = "k", **fields: object) -> int:
    with writing(engine) as connection:
        return enqueue(connection, NewTask(kind, **fields), at=T0).task_id  # type: ignore[arg-type]


def _claim(
    engine: Engine, at: float = 0, limit: int = 10, kinds: tuple[str, ...] = ("k",), worker="w1"
) -> list[Claim]:
    with writing(engine) as connection:
        return store.claim(
            connection, worker_id=worker, kinds=kinds, limit=limit, now=_at(at), lease=LEASE
        )


def _detail(engine: Engine, task_id: int) -> TaskDetail:
    with reading(engine) as connection:
        task = store.get_task(connection, task_id)
        assert task is not None
        return TaskDetail(task, tuple(store.list_runs(connection, task_id)))


def _error(engine: Engine, claim: Claim, at: float, *, permanent: bool = False) -> bool:
    verdict = after_error(
        errors_before=claim.error_count,
        max_attempts=2,
        permanent=permanent,
        backoff=BACKOFF,
        now=_at(at),
        random=lambda: 0.0,
    )
    end = store.BadEnd(claim.key, verdict, "permanent" if permanent else "handler_error", "boom")
    with writing(engine) as connection:
        return store.settle_bad_run(connection, end, _at(at))


def _reap(engine: Engine, at: float, max_lost: int = 10) -> set[tuple[int, int]]:
    with writing(engine) as connection:
        expired = store.expired_runs(connection, _at(at))
        decided = [
            (item, after_lost(lost_before=item.lost_count, max_lost=max_lost)) for item in expired
        ]
        return store.mark_lost(connection, decided, _at(at))


def test_enqueue_records_a_queued_task_with_its_payload(engine: Engine) -> None:
    task_id = _enqueue(engine, payload={"post": 7}, priority=3)
    task = _detail(engine, task_id).task
    assert (task.state, task.payload, task.priority, task.not_before) == (
        TaskState.QUEUED,
        {"post": 7},
        3,
        T0,
    )
    assert (task.run_count, task.error_count, task.lost_count) == (0, 0, 0)


def test_a_unique_key_admits_one_pending_task(engine: Engine) -> None:
    with writing(engine) as connection:
        first = enqueue(connection, NewTask("k", unique_key="publish:1"), at=T0)
        again = enqueue(connection, NewTask("k", unique_key="publish:1"), at=T0)
        other = enqueue(connection, NewTask("k", unique_key="publish:2"), at=T0)
    assert first.created
    assert not again.created
    assert other.created
    assert again.task_id == first.task_id
    [claim, _] = _claim(engine)
    with writing(engine) as connection:
        store.succeed(connection, [claim.key], _at(1))
        after = enqueue(connection, NewTask("k", unique_key="publish:1"), at=_at(2))
    assert after.created
    assert after.task_id not in {first.task_id, other.task_id}


def test_claims_go_by_priority_then_age_and_respect_kinds_not_before_and_limit(
    engine: Engine,
) -> None:
    low = _enqueue(engine)
    high = _enqueue(engine, priority=5)
    _enqueue(engine, "other")
    later = _enqueue(engine, not_before=_at(60))
    second_low = _enqueue(engine)
    claims = _claim(engine, limit=2)
    assert [claim.task_id for claim in claims] == [high, low]
    assert [claim.task_id for claim in _claim(engine, at=1)] == [second_low]
    assert _claim(engine, at=2) == []
    assert [claim.task_id for claim in _claim(engine, at=61)] == [later]


def test_a_claim_opens_a_leased_run_and_success_closes_it(engine: Engine) -> None:
    task_id = _enqueue(engine)
    [claim] = _claim(engine, at=1)
    assert (claim.task_id, claim.attempt, claim.error_count) == (task_id, 1, 0)
    running = _detail(engine, task_id)
    assert running.task.state is TaskState.RUNNING
    [run] = running.runs
    assert (run.worker_id, run.outcome, run.lease_expires_at) == ("w1", None, _at(1) + LEASE)
    with writing(engine) as connection:
        assert store.succeed(connection, [claim.key], _at(2)) == {claim.key}
        assert store.succeed(connection, [claim.key], _at(3)) == set()  # only once
    done = _detail(engine, task_id)
    assert (done.task.state, done.task.finished_at) == (TaskState.SUCCEEDED, _at(2))
    assert (done.runs[0].outcome, done.runs[0].ended_at) == (RunOutcome.SUCCEEDED, _at(2))


def test_an_error_retries_after_a_backoff_and_the_last_one_fails_the_task(engine: Engine) -> None:
    task_id = _enqueue(engine)
    [first] = _claim(engine)
    assert _error(engine, first, at=1)
    task = _detail(engine, task_id).task
    assert (task.state, task.error_count, task.not_before) == (TaskState.QUEUED, 1, _at(6))
    assert _claim(engine, at=5) == []  # not before the backoff has passed
    [second] = _claim(engine, at=6)
    assert (second.attempt, second.error_count) == (2, 1)
    assert _error(engine, second, at=7)
    failed = _detail(engine, task_id)
    assert (failed.task.state, failed.task.error_count) == (TaskState.FAILED, 2)
    assert [(run.outcome, run.error) for run in failed.runs] == [(RunOutcome.ERRORED, "boom")] * 2


def test_a_permanent_error_fails_the_task_at_once(engine: Engine) -> None:
    task_id = _enqueue(engine)
    [claim] = _claim(engine)
    assert _error(engine, claim, at=1, permanent=True)
    task = _detail(engine, task_id).task
    assert (task.state, task.last_error_code) == (TaskState.FAILED, "permanent")


def test_an_expired_lease_is_lost_and_requeued_without_spending_an_attempt(engine: Engine) -> None:
    task_id = _enqueue(engine)
    [claim] = _claim(engine)
    assert _reap(engine, at=29) == set()
    with writing(engine) as connection:  # a heartbeat keeps it
        held = store.renew(connection, worker_id="w1", keys=[claim.key], now=_at(20), lease=LEASE)
    assert held == {claim.key}
    assert _reap(engine, at=49) == set()
    assert _reap(engine, at=51) == {claim.key}
    lost = _detail(engine, task_id)
    assert (lost.task.state, lost.task.lost_count, lost.task.error_count) == (
        TaskState.QUEUED,
        1,
        0,
    )
    assert lost.runs[0].outcome is RunOutcome.LOST
    [again] = _claim(engine, at=52, worker="w2")
    assert again.attempt == 2


def test_a_task_that_keeps_losing_its_runs_fails_as_a_crash_loop(engine: Engine) -> None:
    task_id = _enqueue(engine)
    for round_number in range(3):
        _claim(engine, at=round_number * 100)
        _reap(engine, at=round_number * 100 + 31, max_lost=3)
    task = _detail(engine, task_id).task
    assert (task.state, task.lost_count, task.last_error_code) == (
        TaskState.FAILED,
        3,
        CRASH_LOOP,
    )


def test_an_interrupted_run_is_requeued_at_once_with_nothing_spent(engine: Engine) -> None:
    task_id = _enqueue(engine)
    [claim] = _claim(engine)
    with writing(engine) as connection:
        assert store.interrupt(connection, [claim.key], _at(1)) == {claim.key}
    detail = _detail(engine, task_id)
    assert (detail.task.state, detail.task.error_count, detail.task.lost_count) == (
        TaskState.QUEUED,
        0,
        0,
    )
    assert detail.runs[0].outcome is RunOutcome.INTERRUPTED
    assert [claim.attempt for claim in _claim(engine, at=1)] == [2]


def test_a_superseded_run_has_every_write_refused(engine: Engine) -> None:
    task_id = _enqueue(engine)
    [zombie] = _claim(engine, worker="zombie")
    _reap(engine, at=31)
    [current] = _claim(engine, at=32, worker="w2")
    with writing(engine) as connection:
        assert not store.is_current(connection, zombie.key)
        assert store.is_current(connection, current.key)
        late = store.renew(
            connection, worker_id="zombie", keys=[zombie.key], now=_at(33), lease=LEASE
        )
        assert late == set()
        assert store.succeed(connection, [zombie.key], _at(33)) == set()
        assert store.interrupt(connection, [zombie.key], _at(33)) == set()
    assert not _error(engine, zombie, at=33)
    with writing(engine) as connection:
        assert store.succeed(connection, [current.key], _at(34)) == {current.key}
    detail = _detail(engine, task_id)
    assert detail.task.state is TaskState.SUCCEEDED
    assert [run.outcome for run in detail.runs] == [RunOutcome.LOST, RunOutcome.SUCCEEDED]


def test_cancelling_a_running_task_ends_its_run_and_refuses_the_worker(engine: Engine) -> None:
    queued = _enqueue(engine, "q")
    running = _enqueue(engine)
    [claim] = _claim(engine)
    with writing(engine) as connection:
        for task_id in (queued, running):
            task = store.get_task(connection, task_id)
            assert task is not None
            assert store.cancel(connection, task, _at(1))
        assert store.succeed(connection, [claim.key], _at(2)) == set()
    assert _detail(engine, queued).task.state is TaskState.CANCELLED
    detail = _detail(engine, running)
    assert detail.task.state is TaskState.CANCELLED
    assert [run.outcome for run in detail.runs] == [RunOutcome.CANCELLED]


def test_requeue_gives_a_failed_task_fresh_budgets(engine: Engine) -> None:
    task_id = _enqueue(engine)
    [claim] = _claim(engine)
    _error(engine, claim, at=1, permanent=True)
    with writing(engine) as connection:
        task = store.get_task(connection, task_id)
        assert task is not None
        assert store.requeue(connection, task, _at(5))
    task = _detail(engine, task_id).task
    assert (task.state, task.error_count, task.not_before, task.finished_at) == (
        TaskState.QUEUED,
        0,
        _at(5),
        None,
    )


def test_concurrent_claims_never_hand_out_a_task_twice(engine: Engine) -> None:
    with writing(engine) as connection:
        for _ in range(120):
            enqueue(connection, NewTask("k"), at=T0)
    claimed: list[int] = []
    lock = threading.Lock()

    def drain(worker: str) -> None:
        while batch := _claim(engine, limit=3, worker=worker):
            with lock:
                claimed.extend(claim.task_id for claim in batch)

    threads = [threading.Thread(target=drain, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 120
    assert len(set(claimed)) == 120


def test_workers_register_beat_and_leave(engine: Engine) -> None:
    worker = Worker("w1", "host", 42, ("a", "b"), 4, T0, T0)
    with writing(engine) as connection:
        worker_store.register(connection, worker)
        worker_store.touch(connection, worker, _at(10))
    with reading(engine) as connection:
        [listed] = worker_store.list_workers(connection)
    assert (listed.kinds, listed.last_seen_at) == (("a", "b"), _at(10))
    with writing(engine) as connection:
        assert worker_store.forget_silent(connection, _at(11)) == 1
        worker_store.touch(connection, worker, _at(12))  # a forgotten worker comes back
        worker_store.deregister(connection, "w1")
        assert worker_store.list_workers(connection) == []


def test_lists_newest_first_and_filters(engine: Engine) -> None:
    first = _enqueue(engine)
    second = _enqueue(engine, "other")
    with reading(engine) as connection:
        assert [t.id for t in store.list_tasks(connection)] == [second, first]
        assert [t.id for t in store.list_tasks(connection, kind="k")] == [first]
        assert [t.id for t in store.list_tasks(connection, state=TaskState.RUNNING)] == []
        assert [t.id for t in store.list_tasks(connection, before_id=second)] == [first]


@pytest.mark.parametrize("state", [TaskState.QUEUED, TaskState.FAILED])
def test_verdicts_for_lost_runs(state: TaskState) -> None:
    lost_before = 0 if state is TaskState.QUEUED else 9
    assert after_lost(lost_before=lost_before, max_lost=10) == Verdict(state)
