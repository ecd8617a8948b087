"""`masthead ops requeue-lost` and `masthead ops prune`, run as an operator runs them: the
reaper once, and old records deleted — with exact counts, nothing changed by a dry run,
nothing left to do on a second run, and never a receipt or an approval deleted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, update

from masthead.actions.auth import issue_token
from masthead.actions.drafts import PostFields, create_post
from masthead.actions.publishing import publish_post
from masthead.actions.tasks import enqueue
from masthead.domain.tasks import NewTask
from masthead.store import tasks as task_store
from masthead.store.engine import open_engine, reading, writing
from masthead.store.schema import idempotency_keys, receipts, tasks
from tests.cli_support import assert_no_traceback, masthead
from tests.operators import call_as
from tests.ops_support import row_counts

LONG_AGO = datetime.now(UTC) - timedelta(days=60)
BODY = " ".join(f"Sentence {n} of a post with enough words to pass its gates." for n in range(9))


@pytest.fixture
def engine(demo_database_url: str) -> Iterator[Engine]:
    engine = open_engine(demo_database_url)
    yield engine
    engine.dispose()


def _ops(engine: Engine, *args: str) -> dict[str, Any]:
    url = engine.url.render_as_string(hide_password=False)
    result = masthead("ops", *args, "--json", database_url=url)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _claimed(engine: Engine, at: datetime) -> int:
    """A task whose run a worker claimed at `at`, with a one-second lease."""
    with writing(engine) as connection:
        task = enqueue(connection, NewTask("publish.verify"), at=at)
        task_store.claim(
            connection, worker_id="w-gone", kinds=["publish.verify"], limit=1, now=at,
            lease=timedelta(seconds=1),
        )  # fmt: skip
    return task.task_id


def _state(engine: Engine, task_id: int) -> str:
    with reading(engine) as connection:
        return str(connection.execute(select(tasks.c.state).where(tasks.c.id == task_id)).scalar())


def test_requeue_lost_requeues_runs_past_their_lease_once(engine: Engine) -> None:
    task_id = _claimed(engine, datetime.now(UTC) - timedelta(minutes=5))
    before = row_counts(engine)
    planned = _ops(engine, "requeue-lost", "--dry-run")
    assert planned["counts"] == {"lost": 1, "requeued": 1, "failed": 0}
    assert _state(engine, task_id) == "running"
    assert row_counts(engine) == before
    done = _ops(engine, "requeue-lost")
    assert done["counts"]["requeued"] == 1
    assert done["actions"] == [{"action": "requeue", "task_id": task_id}]
    assert _state(engine, task_id) == "queued"
    assert _ops(engine, "requeue-lost")["counts"]["lost"] == 0  # a second run: nothing


def _old_records(engine: Engine) -> None:
    """A task that succeeded long ago, a receipt that ended long ago after three attempts,
    and an idempotency key that expired."""
    task_id = _claimed(engine, LONG_AGO)
    with writing(engine) as connection:
        task_store.succeed(connection, {(task_id, 1)}, LONG_AGO + timedelta(seconds=2))
        fields = PostFields(
            title="Published long ago", dek="What it says.", body=BODY, tags=("operations",),
            authors=("ledger",),
        )  # fmt: skip
        post = create_post(connection, call_as(), fields)
        publish_post(connection, call_as(), post.id)
        attempts = [{"number": n, "at": LONG_AGO.isoformat(), "checks": []} for n in (1, 2, 3)]
        connection.execute(
            update(receipts).values(
                state="verified", ended_at=LONG_AGO, attempts=json.dumps(attempts)
            )
        )
        token = issue_token(connection, call_as(), "ledger", "for a key")
        connection.execute(
            insert(idempotency_keys).values(
                token_id=token.record.id, key="k1", request_digest="0" * 64, state="done",
                created_at=LONG_AGO, locked_until=LONG_AGO, expires_at=LONG_AGO,
            )
        )  # fmt: skip


def test_prune_deletes_old_runs_attempts_and_keys_but_never_a_receipt(engine: Engine) -> None:
    _old_records(engine)
    before = row_counts(engine)
    planned = _ops(engine, "prune", "--older-than", "30d", "--dry-run")
    assert planned["counts"] == {
        "runs": 1,
        "tasks": 1,
        "attempts": 2,
        "idempotency_keys": 1,
        "webhook_attempts": 0,
    }
    assert row_counts(engine) == before  # a dry run changes nothing
    done = _ops(engine, "prune", "--older-than", "30d")
    assert done["counts"] == planned["counts"]
    after = row_counts(engine)
    for kept in ("receipts", "approvals", "events", "posts"):
        assert after[kept] == before[kept], kept
    assert after["task_runs"] == before["task_runs"] - 1
    with reading(engine) as connection:
        (left,) = connection.execute(select(receipts.c.attempts)).scalars()
    assert [attempt["number"] for attempt in json.loads(left)] == [3]  # the last one stays
    again = _ops(engine, "prune", "--older-than", "30d")
    assert set(again["counts"].values()) == {0}  # a second run: nothing
    assert again["actions"] == []


def test_prune_keeps_what_is_younger_than_the_age_but_not_an_expired_key(
    engine: Engine,
) -> None:
    _old_records(engine)  # sixty days old
    kept = _ops(engine, "prune", "--older-than", "90d")
    assert kept["counts"] == {
        "runs": 0,
        "tasks": 0,
        "attempts": 0,
        "idempotency_keys": 1,
        "webhook_attempts": 0,
    }
