"""Fair turns at SQLite's write lock, for every writer of one database file.

SQLite admits one writer at a time and makes the others retry with growing sleeps
(its busy handler backs off 1, 2, 5, … up to 100 ms), so under load a writer could wait
seconds while others keep slipping in, and one process could do nearly all the work.
A writer therefore takes two turns before its `BEGIN IMMEDIATE`:

* among the threads of this process, a lock they queue on (no polling);
* among processes, `flock` on a sidecar file (`<database>.writelock`): the holder does
  nothing but its transaction under it, and a waiter retries every few hundred
  microseconds instead of every 100 ms, so it gets the lock in the gap between two of
  the holder's transactions.

It is only about fairness, never about correctness: SQLite's own lock still decides.
A wait for the file lock longer than `TURN_TIMEOUT_SECONDS` (a holder frozen by
SIGSTOP, say) goes on without it, to SQLite's busy timeout; where the file cannot be
opened there are no file turns at all. PostgreSQL needs none of this (`SKIP LOCKED`,
row locks).
"""

from __future__ import annotations

import fcntl
import logging
import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from weakref import WeakKeyDictionary

from sqlalchemy import Engine

__all__ = ["TURN_SUFFIX", "TURN_TIMEOUT_SECONDS", "WriteTurns", "write_turns"]

log = logging.getLogger("masthead.store")

TURN_SUFFIX = ".writelock"
TURN_TIMEOUT_SECONDS = 2.0
RETRY_SECONDS = (0.0001, 0.0003)  # a waiter tries again after a jittered pause in this range


class WriteTurns:
    """`with turns.take(): …` around a write transaction; a no-op off SQLite."""

    def __init__(self, engine: Engine, timeout: float = TURN_TIMEOUT_SECONDS) -> None:
        self.sqlite = engine.dialect.name == "sqlite"
        database = engine.url.database if self.sqlite else None
        in_memory = not database or database == ":memory:" or database.startswith("file:")
        self.path = None if in_memory else f"{database}{TURN_SUFFIX}"
        self._timeout = timeout
        self._threads = threading.Lock()

    @contextmanager
    def take(self) -> Iterator[bool]:
        """Hold this database's write turns for the block; yields whether the file turn
        (the one between processes) was taken."""
        if not self.sqlite:
            yield False
            return
        with self._threads:
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


_TURNS: WeakKeyDictionary[Engine, WriteTurns] = WeakKeyDictionary()
_TURNS_GUARD = threading.Lock()


def write_turns(engine: Engine) -> WriteTurns:
    """The turns every writer through `engine` takes: one per engine, so they queue together."""
    with _TURNS_GUARD:
        turns = _TURNS.get(engine)
        if turns is None:
            turns = _TURNS[engine] = WriteTurns(engine)
        return turns
