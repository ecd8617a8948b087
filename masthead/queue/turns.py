"""Fair turns at SQLite's write lock for the workers of one database file.

SQLite's busy handler backs off (1, 2, 5, … up to 100 ms between tries), so a worker
waiting for the write lock keeps waking just after a busy worker has taken it again,
and one process does nearly all the work. Workers therefore take an advisory lock,
`flock` on a sidecar file (`<database>.writelock`), around each of their write
transactions: the holder does nothing but its transaction under it, and a waiter
retries every few hundred microseconds instead of every 100 ms, so it gets the lock
in the gap between two of the holder's transactions.

It is only about fairness, never about correctness: SQLite's own lock still decides.
A wait longer than `TURN_TIMEOUT_SECONDS` (a holder frozen by SIGSTOP, say) goes on
without the turn, to SQLite's busy timeout; the file cannot be opened, no turns at
all. PostgreSQL needs none (`SKIP LOCKED`), and other writers (the web application)
do not take turns; they still queue on SQLite's lock.
"""

from __future__ import annotations

import fcntl
import logging
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

__all__ = ["TURN_SUFFIX", "TURN_TIMEOUT_SECONDS", "WriteTurns"]

log = logging.getLogger("masthead.queue")

TURN_SUFFIX = ".writelock"
TURN_TIMEOUT_SECONDS = 2.0
RETRY_SECONDS = (0.0001, 0.0003)  # a waiter tries again after a jittered pause in this range


class WriteTurns:
    """`with turns.take(): …` around a write transaction; a no-op off SQLite."""

    def __init__(self, engine: Engine, timeout: float = TURN_TIMEOUT_SECONDS) -> None:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        in_memory = not database or database == ":memory:" or database.startswith("file:")
        self.path = None if in_memory else f"{database}{TURN_SUFFIX}"
        self._timeout = timeout

    @contextmanager
    def take(self) -> Iterator[bool]:
        """Hold this database's write turn for the block; yields whether it was taken."""
        descriptor = self._open()
        if descriptor is None:
            yield False
            return
        try:
            yield self._wait(descriptor)
        finally:
            os.close(descriptor)  # closing the only descriptor releases the lock

    def _open(self) -> int | None:
        if self.path is None:
            return None
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            log.warning("no write turns at %s (%s): SQLite's busy timeout alone", self.path, error)
            self.path = None
            return None

    def _wait(self, descriptor: int) -> bool:
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    log.warning(
                        "waited %g s for the write turn; going on without it", self._timeout
                    )
                    return False
                time.sleep(random.uniform(*RETRY_SECONDS))
