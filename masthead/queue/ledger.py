"""A worker's transactions: each call is one short write transaction in the store.

The hot path is `settle_and_claim`: the runs that just ended and the next claims go
in one transaction, so a busy worker commits once per batch, not twice per task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from masthead.domain.tasks import Claim, Worker, after_lost
from masthead.queue.turns import WriteTurns
from masthead.settings import Settings
from masthead.store import tasks as task_store
from masthead.store import workers as worker_store
from masthead.store.engine import writing
from masthead.store.tasks import BadEnd, RunKey

__all__ = ["Ledger", "Settlement"]

log = logging.getLogger("masthead.queue")

# A worker silent for this many leases is dropped from the list of workers.
FORGET_AFTER_LEASES = 10


@dataclass(frozen=True)
class Settlement:
    """What one `settle_and_claim` did."""

    claims: list[Claim]
    refused: list[RunKey] = field(default_factory=list)  # superseded runs: writes refused


class Ledger:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        worker: Worker,
        clock: Callable[[], datetime],
    ) -> None:
        self._engine = engine
        self._worker = worker
        self._clock = clock
        self._lease = timedelta(seconds=settings.queue_lease_seconds)
        self._max_lost = settings.queue_max_lost_runs
        self._connection: Connection | None = None
        self._turns = WriteTurns(engine)

    @contextmanager
    def _own_transaction(self) -> Iterator[Connection]:
        """A write transaction on the loop's own connection, kept between batches.

        Keeping it saves a pool checkout (and its liveness ping) per batch; after any
        database error it is dropped and the next batch connects afresh.
        """
        if self._connection is None:
            self._connection = self._engine.connect().execution_options(masthead_write=True)
        try:
            with self._turns.take(), self._connection.begin():
                yield self._connection
        except SQLAlchemyError:
            self.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def register(self) -> None:
        with self._turns.take(), writing(self._engine) as connection:
            worker_store.register(connection, self._worker)

    def deregister(self) -> None:
        self.close()
        with self._turns.take(), writing(self._engine) as connection:
            worker_store.deregister(connection, self._worker.id)

    def settle_and_claim(
        self,
        succeeded: Collection[RunKey],
        bad: Sequence[BadEnd],
        *,
        kinds: Collection[str],
        free: int,
    ) -> Settlement:
        now = self._clock()
        with self._own_transaction() as connection:
            accepted = task_store.succeed(connection, succeeded, now)
            refused = [key for key in succeeded if key not in accepted]
            for end in bad:
                if not task_store.settle_bad_run(connection, end, now):
                    refused.append(end.key)
            claims = task_store.claim(
                connection,
                worker_id=self._worker.id,
                kinds=kinds,
                limit=free,
                now=now,
                lease=self._lease,
            )
        return Settlement(claims, refused)

    def interrupt(self, keys: Collection[RunKey]) -> set[RunKey]:
        with self._own_transaction() as connection:
            return task_store.interrupt(connection, keys, self._clock())

    def heartbeat(self, held: Collection[RunKey]) -> set[RunKey]:
        """Renew the leases of `held` and say the worker is alive; returns runs still held."""
        now = self._clock()
        with self._turns.take(), writing(self._engine) as connection:
            worker_store.touch(connection, self._worker, now)
            return task_store.renew(
                connection, worker_id=self._worker.id, keys=held, now=now, lease=self._lease
            )

    def reap(self) -> set[RunKey]:
        """Mark runs whose lease expired as lost and requeue (or fail) their tasks."""
        now = self._clock()
        with self._turns.take(), writing(self._engine) as connection:
            expired = task_store.expired_runs(connection, now)
            decided = [
                (item, after_lost(lost_before=item.lost_count, max_lost=self._max_lost))
                for item in expired
            ]
            lost = task_store.mark_lost(connection, decided, now)
            worker_store.forget_silent(connection, now - self._lease * FORGET_AFTER_LEASES)
        for task_id, attempt in sorted(lost):
            log.warning("run %s#%s lost: its lease expired", task_id, attempt)
        return lost
