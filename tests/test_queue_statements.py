"""Every queue statement, run again and again on one connection, on both databases.

psycopg prepares a statement once a connection has run it 5 times, and PostgreSQL may
then plan it generically, without the parameters' values. A statement that works only
while its parameters are inlined (say, a partial index's predicate written with
parameters) breaks from then on. So these tests run every statement of `store.tasks`
and `store.workers` far past that point on a single connection, and check every answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from psycopg import sql
from sqlalchemy import Connection, Engine, event

from masthead.domain.tasks import (
    CRASH_LOOP,
    Claim,
    NewTask,
    RunOutcome,
    TaskState,
    Verdict,
    Worker,
)
from masthead.store import tasks as store
from masthead.store import workers as worker_store
from masthead.store.engine import open_engine
from tests.databases import DatabaseFactory

# psycopg runs a statement 5 times unprepared, PostgreSQL plans it 5 times with its
# values, and the 11th run is the first that may be planned generically: three times over.
ROUNDS = 33
GENERIC_ROUNDS = 12  # 5 unprepared, then 7 on generic plans
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
# Each round's tasks, best priority first; "held" (priority 0) holds the round's key.
ORDER = ("ok", "bad", "retried", "handed", "lost", "crash")


@dataclass(frozen=True)
class Round:
    number: int

    @property
    def kind(self) -> str:
        return f"round-{self.number}"

    @property
    def key(self) -> str:
        return f"publish:{self.number}"

    @property
    def worker(self) -> str:
        return f"worker-{self.number}"

    def at(self, seconds: float) -> datetime:
        return T0 + timedelta(hours=self.number, seconds=seconds)


@pytest.fixture
def postgres_engine(database_factories: dict[str, DatabaseFactory]) -> Iterator[Engine]:
    factory = database_factories["postgres"]
    url = factory.new()
    engine = open_engine(url)
    yield engine
    engine.dispose()
    factory.drop(url)


@contextmanager
def one_connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        yield connection.execution_options(masthead_write=True)


def _play(connection: Connection, rounds: int) -> None:
    for number in range(rounds):
        _play_round(connection, Round(number))


def _play_round(connection: Connection, round_: Round) -> None:
    ids = _enqueue(connection, round_)
    claims = _claim_and_renew(connection, round_, ids)
    _settle(connection, round_, claims)
    _reap(connection, round_, claims)
    ids["later"] = _enqueue_the_key_again(connection, round_)
    _retry_and_finish(connection, round_, ids)
    _check_reads(connection, round_, ids)
    _check_workers(connection, round_)


def _enqueue(connection: Connection, round_: Round) -> dict[str, int]:
    ids: dict[str, int] = {}
    with connection.begin():
        for priority, name in enumerate(reversed(ORDER), start=1):
            new = NewTask(round_.kind, {"name": name}, priority=priority)
            ids[name], created = store.insert_task(connection, new, round_.at(0))
            assert created
        keyed = NewTask(round_.kind, {"name": "held"}, unique_key=round_.key)
        ids["held"], created = store.insert_task(connection, keyed, round_.at(0))
        assert created
        assert store.insert_task(connection, keyed, round_.at(0)) == (ids["held"], False)
        assert store.pending_with_key(connection, round_.key) == ids["held"]
        store.notify(connection)
    return ids


def _claim_and_renew(
    connection: Connection, round_: Round, ids: dict[str, int]
) -> dict[str, Claim]:
    with connection.begin():
        claims = store.claim(
            connection,
            worker_id=round_.worker,
            kinds=[round_.kind],
            limit=10,
            now=round_.at(1),
            lease=LEASE,
        )
    names = [*ORDER, "held"]
    assert [(claim.task_id, claim.attempt) for claim in claims] == [(ids[n], 1) for n in names]
    keys = {claim.key for claim in claims}
    with connection.begin():
        assert _renew(connection, round_, round_.worker, keys) == keys
        assert _renew(connection, round_, "a stranger", keys) == set()
        assert store.is_current(connection, claims[0].key)
    return dict(zip(names, claims, strict=True))


def _renew(
    connection: Connection, round_: Round, worker_id: str, keys: set[store.RunKey]
) -> set[store.RunKey]:
    return store.renew(connection, worker_id=worker_id, keys=keys, now=round_.at(10), lease=LEASE)


def _settle(connection: Connection, round_: Round, claims: dict[str, Claim]) -> None:
    ok, bad, retried = claims["ok"].key, claims["bad"].key, claims["retried"].key
    failing = store.BadEnd(bad, Verdict(TaskState.FAILED), "permanent", "no such post")
    retrying = store.BadEnd(retried, Verdict(TaskState.QUEUED, round_.at(20)), "boom", "boom")
    with connection.begin():
        assert store.succeed(connection, [ok], round_.at(11)) == {ok}
        assert store.succeed(connection, [ok], round_.at(11)) == set()  # fenced: once only
        assert not store.is_current(connection, ok)
        assert store.settle_bad_run(connection, failing, round_.at(12))
        assert not store.settle_bad_run(connection, failing, round_.at(12))
        assert store.settle_bad_run(connection, retrying, round_.at(12))
        handed = claims["handed"].key
        assert store.interrupt(connection, [handed], round_.at(13)) == {handed}
        held = store.get_task(connection, claims["held"].task_id, lock=True)
        assert held is not None
        assert held.state is TaskState.RUNNING
        assert store.cancel(connection, held, round_.at(14))
        assert not store.cancel(connection, held, round_.at(14))  # it has moved on


def _reap(connection: Connection, round_: Round, claims: dict[str, Claim]) -> None:
    lost, crash = claims["lost"].key, claims["crash"].key
    with connection.begin():
        assert store.expired_runs(connection, round_.at(39)) == []  # renewed until 40 s
        expired = store.expired_runs(connection, round_.at(41))
    assert set(expired) == {store.Expired(lost, 0), store.Expired(crash, 0)}
    decided = [
        (item, Verdict(TaskState.QUEUED if item.key == lost else TaskState.FAILED))
        for item in expired
    ]
    with connection.begin():
        assert store.mark_lost(connection, decided, round_.at(41)) == {lost, crash}
        assert store.mark_lost(connection, decided, round_.at(41)) == set()


def _enqueue_the_key_again(connection: Connection, round_: Round) -> int:
    """The key's holder was cancelled: the key is free, once, until that task is cancelled."""
    with connection.begin():
        assert store.pending_with_key(connection, round_.key) is None
        new = NewTask(round_.kind, {"name": "later"}, unique_key=round_.key)
        later, created = store.insert_task(connection, new, round_.at(42))
        assert created
        assert store.insert_task(connection, new, round_.at(42)) == (later, False)
        assert store.cancel_pending_with_key(connection, round_.key, round_.at(43))
        assert not store.cancel_pending_with_key(connection, round_.key, round_.at(43))
    return later


def _retry_and_finish(connection: Connection, round_: Round, ids: dict[str, int]) -> None:
    with connection.begin():
        failed = store.get_task(connection, ids["bad"])
        assert failed is not None
        assert failed.state is TaskState.FAILED
        assert store.requeue(connection, failed, round_.at(44))
        assert not store.requeue(connection, failed, round_.at(44))
        again = store.claim(
            connection,
            worker_id=round_.worker,
            kinds=[round_.kind],
            limit=10,
            now=round_.at(45),
            lease=LEASE,
        )
        expected = [("bad", 0), ("retried", 1), ("handed", 0), ("lost", 0)]
        assert [(c.task_id, c.attempt, c.error_count) for c in again] == [
            (ids[name], 2, errors) for name, errors in expected
        ]
        keys = {claim.key for claim in again}
        assert store.succeed(connection, keys, round_.at(46)) == keys


def _check_reads(connection: Connection, round_: Round, ids: dict[str, int]) -> None:
    states = {  # newest first: the tasks were enqueued lowest priority first
        "later": TaskState.CANCELLED,
        "held": TaskState.CANCELLED,
        **dict.fromkeys(["ok", "bad", "retried", "handed", "lost"], TaskState.SUCCEEDED),
        "crash": TaskState.FAILED,
    }
    with connection.begin():
        listed = store.list_tasks(connection, kind=round_.kind)
        assert [(task.id, task.state) for task in listed] == [
            (ids[n], s) for n, s in states.items()
        ]
        assert store.list_tasks(connection)[0].id == ids["later"]
        failed = store.list_tasks(connection, state=TaskState.FAILED, kind=round_.kind)
        assert [task.id for task in failed] == [ids["crash"]]
        page = store.list_tasks(connection, kind=round_.kind, before_id=ids["retried"], limit=2)
        assert [task.id for task in page] == [ids["handed"], ids["lost"]]
        runs = store.list_runs(connection, ids["lost"])
        assert [(run.attempt, run.outcome) for run in runs] == [
            (1, RunOutcome.LOST),
            (2, RunOutcome.SUCCEEDED),
        ]
        crash = store.get_task(connection, ids["crash"])
    assert crash is not None
    assert (crash.state, crash.lost_count, crash.last_error_code) == (
        TaskState.FAILED,
        1,
        CRASH_LOOP,
    )


def _check_workers(connection: Connection, round_: Round) -> None:
    worker = Worker(round_.worker, "host", 4242, ("a", "b"), 2, round_.at(0), round_.at(0))
    with connection.begin():
        worker_store.register(connection, worker)
        worker_store.touch(connection, worker, round_.at(5))
        assert _seen(connection) == [(worker.id, ("a", "b"), round_.at(5))]
        assert worker_store.forget_silent(connection, round_.at(6)) == 1
        worker_store.touch(connection, worker, round_.at(7))  # forgotten, it comes back
        assert _seen(connection) == [(worker.id, ("a", "b"), round_.at(7))]
        worker_store.deregister(connection, worker.id)
        assert worker_store.list_workers(connection) == []


def _seen(connection: Connection) -> list[tuple[str, tuple[str, ...], datetime]]:
    return [(w.id, w.kinds, w.last_seen_at) for w in worker_store.list_workers(connection)]


def _prepared(connection: Connection) -> list[Any]:
    """The statements psycopg has prepared on this connection, with their plan counts."""
    query = "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
    with connection.begin():
        return list(connection.exec_driver_sql(query))


def test_every_queue_statement_answers_right_run_after_run_on_one_connection(
    engine: Engine,
) -> None:
    with one_connection(engine) as connection:
        _play(connection, ROUNDS)
        if engine.dialect.name != "postgresql":
            return
        prepared = _prepared(connection)
    upserts = [row for row in prepared if "ON CONFLICT" in row.statement]
    assert upserts, "psycopg never prepared the keyed enqueue"
    assert all(row.generic_plans > 0 for row in upserts)  # what failed every 11th call


def test_every_queue_statement_works_on_generic_plans_on_postgresql(
    postgres_engine: Engine,
) -> None:
    with one_connection(postgres_engine) as connection:
        with connection.begin():  # a session setting: it outlives this transaction
            connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        _play(connection, GENERIC_ROUNDS)
        prepared = _prepared(connection)
    statements = [row for row in prepared if "pg_prepared_statements" not in row.statement]
    assert len(statements) >= 30  # every statement of a round, each prepared
    assert all(row.generic_plans > 0 and row.custom_plans == 0 for row in statements)


@contextmanager
def captured(connection: Connection) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """The SQL text and parameters of the statements run on `connection` meanwhile."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def record(*args: Any) -> None:
        seen.append((args[2], dict(args[3])))

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def _generic_plan(connection: Connection, statement: str, params: dict[str, Any]) -> str:
    """EXPLAIN the statement as PostgreSQL plans it once prepared, without the values."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    numbered = re.sub(r"%\((\w+)\)s", number, statement)
    raw = connection.connection.dbapi_connection
    assert raw is not None
    raw.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    raw.execute("SET LOCAL enable_seqscan = off")  # a tiny table: scan only if no index fits
    raw.execute(sql.SQL("PREPARE explained AS {}").format(sql.SQL(numbered)))  # type: ignore[arg-type]
    values = sql.SQL(", ").join(sql.Literal(params[name]) for name in names)
    rows = raw.execute(sql.SQL("EXPLAIN EXECUTE explained ({})").format(values)).fetchall()
    raw.execute("DEALLOCATE explained")
    return "\n".join(str(row[0]) for row in rows)


def _claim_one(connection: Connection) -> None:
    store.claim(connection, worker_id="w", kinds=["k"], limit=5, now=T0, lease=LEASE)


def _look_up_a_key(connection: Connection) -> None:
    store.pending_with_key(connection, "publish:1")


@pytest.mark.parametrize(
    ("index", "call"),
    [("ix_tasks_claim", _claim_one), ("ix_tasks_pending_unique_key", _look_up_a_key)],
)
def test_generic_plans_of_the_claim_and_the_key_lookup_use_their_partial_indexes(
    postgres_engine: Engine, index: str, call: Callable[[Connection], None]
) -> None:
    with one_connection(postgres_engine) as connection, connection.begin():
        with captured(connection) as statements:
            call(connection)
        [(statement, params)] = statements
        assert index in _generic_plan(connection, statement, params)
