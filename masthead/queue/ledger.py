"""A worker's transactions: each call is one short write transaction of its unit of work.

The hot path is `settle_and_claim`: the runs that just ended and the next claims go
in one transaction, so a busy worker commits once per batch, not twice per task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from masthead.actions import runs
from masthead.actions.context import WORKER, Call
from masthead.actions.events import Consumer, dispatch_if_behind
from masthead.actions.runs import BadEnd, RunKey, Settlement
from masthead.domain.posts import RevisionSource
from masthead.domain.tasks import Worker
from masthead.settings import Settings
from masthead.store.engine import UnitOfWork

__all__ = ["Ledger"]

log = logging.getLogger("masthead.queue")

# A worker silent for this many leases is dropped from the list of workers.
FORGET_AFTER_LEASES = 10


class Ledger:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        worker: Worker,
        clock: Callable[[], datetime],
        consumers: Sequence[Consumer] = (),
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._worker = worker
        self._clock = clock
        self._consumers = consumers
        self._lease = timedelta(seconds=settings.queue_lease_seconds)
        self._max_lost = settings.queue_max_lost_runs
        self._loop_unit = UnitOfWork(engine)

    def _call(self) -> Call:
        return Call(WORKER, self._clock(), self._settings, source=RevisionSource.WORKER)

    @contextmanager
    def _loop_transaction(self) -> Iterator[Connection]:
        """A write transaction on the loop's own connection, kept between batches.

        Keeping it saves a pool checkout (and its liveness ping) per batch; after any
        database error it is dropped and the next batch connects afresh.
        """
        try:
            with self._loop_unit.transaction(write=True) as connection:
                yield connection
        except SQLAlchemyError:
            self.close()
            raise

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A write transaction of its own, for the housekeeping thread."""
        unit = UnitOfWork(self._engine)
        try:
            with unit.transaction(write=True) as connection:
                yield connection
        finally:
            unit.close()

    def close(self) -> None:
        self._loop_unit.close()

    def register(self) -> None:
        with self._transaction() as connection:
            runs.register_worker(connection, self._worker)

    def deregister(self) -> None:
        self.close()
        with self._transaction() as connection:
            runs.deregister_worker(connection, self._worker.id)

    def settle_and_claim(
        self,
        succeeded: Collection[RunKey],
        bad: Sequence[BadEnd],
        *,
        kinds: Collection[str],
        free: int,
    ) -> Settlement:
        with self._loop_transaction() as connection:
            return runs.settle_and_claim(
                connection,
                self._call(),
                self._worker.id,
                succeeded=succeeded,
                bad=bad,
                kinds=kinds,
                free=free,
                lease=self._lease,
            )

    def interrupt(self, keys: Collection[RunKey]) -> set[RunKey]:
        with self._loop_transaction() as connection:
            return runs.interrupt_runs(connection, keys, self._clock())

    def heartbeat(self, held: Collection[RunKey]) -> set[RunKey]:
        """Renew the leases of `held` and say the worker is alive; returns runs still held."""
        with self._transaction() as connection:
            return runs.heartbeat(
                connection, self._worker, held, at=self._clock(), lease=self._lease
            )

    def reap(self) -> set[RunKey]:
        """Mark runs whose lease expired as lost and requeue (or fail) their tasks; and, as
        a safety net, wake the event dispatcher if a consumer is behind."""
        call = self._call()
        with self._transaction() as connection:
            lost = runs.reap(
                connection,
                call,
                max_lost=self._max_lost,
                forget_silent_since=call.at - self._lease * FORGET_AFTER_LEASES,
            )
            dispatch_if_behind(connection, self._consumers, call.at)
        for task_id, attempt in sorted(lost):
            log.warning("run %s#%s lost: its lease expired", task_id, attempt)
        return lost
