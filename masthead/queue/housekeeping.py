"""A worker's background duties: heartbeat (leases and liveness) and the reaper."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from masthead.actions.runs import RunKey
from masthead.queue.ledger import Ledger

__all__ = ["Housekeeping"]

log = logging.getLogger("masthead.queue")


class Housekeeping:
    """Beats every `heartbeat` seconds, even when idle, and reaps every `reaper` seconds.

    The first reap happens at start, so a worker that replaces a dead one rescues the
    dead one's tasks as soon as their leases allow.
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        heartbeat: float,
        reaper: float,
        held: Callable[[], set[RunKey]],
        revoked: Callable[[set[RunKey]], None],
    ) -> None:
        self._ledger = ledger
        self._heartbeat = heartbeat
        self._reaper = reaper
        self._held = held
        self._revoked = revoked
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="masthead-housekeeping", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        next_beat = time.monotonic() + self._heartbeat
        next_reap = time.monotonic()
        while not self._stop.wait(max(0.0, min(next_beat, next_reap) - time.monotonic())):
            now = time.monotonic()
            if now >= next_beat:
                self._beat()
                next_beat = max(next_beat + self._heartbeat, now)
            if now >= next_reap:
                self._reap()
                next_reap = now + self._reaper

    def _beat(self) -> None:
        held = self._held()
        try:
            kept = self._ledger.heartbeat(held)
        except SQLAlchemyError:
            log.exception("heartbeat failed; trying again at the next one")
            return
        if gone := held - kept:
            self._revoked(gone)

    def _reap(self) -> None:
        try:
            self._ledger.reap()
        except SQLAlchemyError:
            log.exception("reaping failed; trying again later")
