"""The worker loop: claim due tasks, hand them to handler threads, record how each ended.

One thread (the caller of `run`) owns every claim and every outcome and writes them
in batches; handler threads only run handlers; a housekeeping thread renews leases
and reaps. Stopping: no more claims, running handlers get the grace period, the rest
are handed back as `interrupted`, and the worker deregisters.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from masthead.actions.runs import BadEnd, RunKey, hear_of_local_tasks
from masthead.domain.tasks import HANDLER_ERROR, TIMEOUT, Claim, Worker, after_error, clip_error
from masthead.queue.context import TaskContext
from masthead.queue.errors import PermanentError, RunRevoked, TaskTimedOut, WorkerStopping
from masthead.queue.housekeeping import Housekeeping
from masthead.queue.ledger import Ledger
from masthead.queue.registry import Registry
from masthead.queue.slots import Finished, Slots
from masthead.queue.wakeup import Listener
from masthead.settings import Settings
from masthead.store.engine import is_sqlite

__all__ = ["QueueWorker", "utc_now"]

log = logging.getLogger("masthead.queue")
RETRY_AFTER_DATABASE_ERROR = 1.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def _new_identity(registry: Registry, concurrency: int, now: datetime) -> Worker:
    host = socket.gethostname()
    worker_id = f"{host[:40]}-{os.getpid()}-{secrets.token_hex(3)}"
    return Worker(worker_id, host, os.getpid(), registry.kinds, concurrency, now, now)


@dataclass
class _Running:
    claim: Claim
    deadline: float  # time.monotonic() past which the handler is stopped


class QueueWorker:
    """Runs the handlers of `registry`; `run()` blocks until `request_stop()`."""

    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        registry: Registry,
        concurrency: int | None = None,
        clock: Callable[[], datetime] = utc_now,
        random_source: Callable[[], float] = random.random,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._registry = registry
        self._concurrency = concurrency or settings.queue_concurrency
        self._clock = clock
        self._random = random_source
        self.identity = _new_identity(registry, self._concurrency, clock())
        self._ledger = Ledger(engine, settings, self.identity, clock, registry.consumers)
        self._lock = threading.Lock()
        self._running: dict[RunKey, _Running] = {}
        self._unsettled: dict[RunKey, BadEnd | None] = {}  # ended, not yet recorded
        self._finished: list[Finished] = []
        self._revoked: set[RunKey] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._stop_now = threading.Event()
        self._hungry = True  # the last claim filled every free slot: there may be more

    def request_stop(self, *, immediately: bool = False) -> None:
        """Stop claiming; with `immediately`, hand running tasks back without a grace period."""
        self._stop.set()
        if immediately:
            self._stop_now.set()
        self._wake.set()

    def nudge(self) -> None:
        """New work may be due: look now rather than at the next poll."""
        self._hungry = True
        self._wake.set()

    def run(self) -> None:
        self._ledger.register()
        slots = Slots(self._concurrency, self._execute, self._on_finish)
        keeper = Housekeeping(
            self._ledger,
            heartbeat=self._settings.queue_heartbeat_seconds,
            reaper=self._settings.queue_reaper_seconds,
            held=self._held,
            revoked=self._on_revoked,
        )
        listener = None
        if not is_sqlite(self._settings.database_url):
            listener = Listener(self._settings.database_url, self.nudge)
            listener.start()
        keeper.start()
        stop_hearing = hear_of_local_tasks(self.nudge)  # a task committed in this process
        log.info("worker %s started: kinds %s", self.identity.id, ", ".join(self.identity.kinds))
        try:
            self._serve(slots)
            self._wind_down(slots)
        finally:
            stop_hearing()
            keeper.stop()
            if listener is not None:
                listener.stop()
            slots.close()
            self._ledger.deregister()
            log.info("worker %s stopped", self.identity.id)

    # --- the loop ---------------------------------------------------------------

    def _serve(self, slots: Slots) -> None:
        next_poll = 0.0
        while not self._stop.is_set():
            self._wake.clear()
            self._collect(slots)
            free = slots.free()
            looked_at = time.monotonic()
            claiming = free > 0 and (self._hungry or looked_at >= next_poll)
            if claiming or self._unsettled:
                claimed = self._commit(slots, free if claiming else 0)
                if claiming:
                    self._hungry = claimed == free
                    # Counted from when this look began, so the time a claim takes does not
                    # stretch the period: new work waits at most one poll interval.
                    next_poll = looked_at + self._settings.queue_poll_seconds
            if not (self._hungry and slots.free() > 0):
                self._wake.wait(self._pause(next_poll))

    def _wind_down(self, slots: Slots) -> None:
        deadline = time.monotonic() + self._settings.queue_grace_seconds
        while self._running and not self._stop_now.is_set() and time.monotonic() < deadline:
            self._wake.clear()
            self._collect(slots)
            if self._unsettled:
                self._commit(slots, 0)
            self._wake.wait(min(self._pause(deadline), max(0.0, deadline - time.monotonic())))
        self._collect(slots)
        if self._unsettled:
            self._commit(slots, 0)
        self._hand_back(slots)

    def _pause(self, next_poll: float) -> float:
        wake_at = min([next_poll, *(item.deadline for item in self._running.values())])
        return max(0.0, wake_at - time.monotonic())

    def _collect(self, slots: Slots) -> None:
        """Take in ended handlers, revoked runs and timeouts since the last pass."""
        slots.stop_pending()
        with self._lock:
            finished, self._finished = self._finished, []
            revoked, self._revoked = self._revoked, set()
        for item in finished:
            if item.claim.key in self._running:
                self._settle_later(item.claim.key, self._judge(item))
        for key in revoked:
            if self._forget(key):
                log.warning("run %s#%s was taken from this worker; stopping it", *key)
                slots.stop_run(key, RunRevoked)
        now = time.monotonic()
        for key, running in list(self._running.items()):
            if running.deadline <= now:
                spec = self._registry.spec(running.claim.kind)
                message = f"the handler ran past its timeout of {spec.timeout:g} s"
                self._settle_later(key, self._bad_end(running.claim, TIMEOUT, message))
                slots.stop_run(key, TaskTimedOut)

    def _settle_later(self, key: RunKey, end: BadEnd | None) -> None:
        with self._lock:
            self._running.pop(key, None)
            self._unsettled[key] = end

    def _forget(self, key: RunKey) -> bool:
        with self._lock:
            return self._running.pop(key, None) is not None

    def _commit(self, slots: Slots, free: int) -> int:
        """Record ended runs and claim up to `free` tasks, in one transaction."""
        with self._lock:
            unsettled = dict(self._unsettled)
        succeeded = [key for key, end in unsettled.items() if end is None]
        bad = [end for end in unsettled.values() if end is not None]
        try:
            settlement = self._ledger.settle_and_claim(
                succeeded, bad, kinds=self._registry.kinds, free=free
            )
        except SQLAlchemyError:
            log.exception("could not record runs or claim tasks; trying again")
            self._stop.wait(RETRY_AFTER_DATABASE_ERROR)
            return 0
        with self._lock:
            for key in unsettled:
                del self._unsettled[key]
            for claim in settlement.claims:
                timeout = self._registry.spec(claim.kind).timeout
                self._running[claim.key] = _Running(claim, time.monotonic() + timeout)
        for key in settlement.refused:
            log.warning("run %s#%s no longer held its task: its result was refused", *key)
        for claim in settlement.claims:
            slots.submit(claim)
        return len(settlement.claims)

    def _hand_back(self, slots: Slots) -> None:
        keys = set(self._running)
        if not keys:
            return
        try:
            handed = self._ledger.interrupt(keys)
        except SQLAlchemyError:
            log.exception("could not hand runs back; their leases will expire instead")
            handed = set()
        for key in sorted(keys):
            slots.stop_run(key, WorkerStopping)
        for key in sorted(handed):
            log.info("run %s#%s handed back (interrupted)", *key)

    # --- outcomes ------------------------------------------------------------------

    def _judge(self, finished: Finished) -> BadEnd | None:
        """None for success, else how the run ended badly and what follows for its task."""
        error = finished.error
        if error is None:
            return None
        permanent = isinstance(error, PermanentError)
        code = error.code if isinstance(error, PermanentError) else HANDLER_ERROR
        details = finished.details or f"{type(error).__name__}: {error}"
        return self._bad_end(finished.claim, code, details, permanent=permanent)

    def _bad_end(self, claim: Claim, code: str, details: str, *, permanent: bool = False) -> BadEnd:
        spec = self._registry.spec(claim.kind)
        verdict = after_error(
            errors_before=claim.error_count,
            max_attempts=spec.max_attempts,
            permanent=permanent,
            backoff=spec.backoff,
            now=self._clock(),
            random=self._random,
        )
        return BadEnd(claim.key, verdict, code, clip_error(details))

    # --- called from other threads -----------------------------------------------

    def _execute(self, claim: Claim) -> None:
        handler = self._registry.spec(claim.kind).handler
        context = TaskContext(
            claim.task_id, claim.attempt, claim.kind, claim.payload, self._engine, self._settings
        )
        handler(context)

    def _on_finish(self, finished: Finished) -> None:
        with self._lock:
            self._finished.append(finished)
        self._wake.set()

    def _held(self) -> set[RunKey]:
        with self._lock:
            return set(self._running) | set(self._unsettled)

    def _on_revoked(self, keys: set[RunKey]) -> None:
        with self._lock:
            self._revoked |= keys
        self._wake.set()
