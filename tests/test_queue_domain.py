"""The queue's pure rules: backoff, verdicts after a bad run, what people may do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from masthead.domain.retry import Backoff
from masthead.domain.tasks import (
    ERROR_TEXT_LIMIT,
    PERSON_MOVES,
    Task,
    TaskState,
    Verdict,
    after_error,
    after_lost,
    clip_error,
    require_person_move,
)
from masthead.errors import InvalidTransition

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(base=5, cap=60)
    assert [backoff.ceiling(n) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert backoff.ceiling(10_000) == 60


def test_backoff_jitter_spans_the_upper_half() -> None:
    backoff = Backoff(base=8, cap=600)
    assert backoff.delay(2, lambda: 0.0) == timedelta(seconds=8)
    assert backoff.delay(2, lambda: 0.999) == timedelta(seconds=8 + 0.999 * 8)


@pytest.mark.parametrize(("base", "cap", "factor"), [(0, 1, 2), (1, 0, 2), (1, 1, 0.5)])
def test_backoff_refuses_nonsense(base: float, cap: float, factor: float) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(base, cap, factor)


def _after_error(errors_before: int, permanent: bool = False) -> Verdict:
    return after_error(
        errors_before=errors_before,
        max_attempts=3,
        permanent=permanent,
        backoff=Backoff(10, 100),
        now=NOW,
        random=lambda: 0.5,
    )


def test_an_error_requeues_after_a_growing_delay_until_the_budget_is_spent() -> None:
    assert _after_error(0) == Verdict(TaskState.QUEUED, NOW + timedelta(seconds=7.5))
    assert _after_error(1) == Verdict(TaskState.QUEUED, NOW + timedelta(seconds=15))
    assert _after_error(2) == Verdict(TaskState.FAILED)
    assert _after_error(0, permanent=True) == Verdict(TaskState.FAILED)


def test_a_lost_run_requeues_until_the_crash_loop_bound() -> None:
    assert after_lost(lost_before=8, max_lost=10) == Verdict(TaskState.QUEUED)
    assert after_lost(lost_before=9, max_lost=10) == Verdict(TaskState.FAILED)


def _task(state: TaskState) -> Task:
    return Task(1, "k", {}, state, 0, NOW, 0, 0, 0, None, None, None, NOW, NOW, None)


@pytest.mark.parametrize("state", list(TaskState))
@pytest.mark.parametrize("target", [TaskState.CANCELLED, TaskState.QUEUED])
def test_people_cancel_pending_tasks_and_retry_failed_or_cancelled_ones(
    state: TaskState, target: TaskState
) -> None:
    if state in PERSON_MOVES[target]:
        require_person_move(_task(state), target)
        return
    with pytest.raises(InvalidTransition):
        require_person_move(_task(state), target)


def test_long_errors_keep_their_end() -> None:
    text = "start " + "x" * ERROR_TEXT_LIMIT + " the end"
    clipped = clip_error(text)
    assert len(clipped) == ERROR_TEXT_LIMIT
    assert clipped.endswith(" the end")
    assert clip_error("short") == "short"
