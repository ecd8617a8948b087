"""A worker's handler threads: run claimed tasks, report how each ended, stop one on demand.

Python cannot kill a thread. A handler is stopped by raising an exception inside its
thread (`PyThreadState_SetAsyncExc`); it lands at the handler's next Python
instruction, so a handler blocked in a long C call stops when that call returns. A
handler inside a database transaction is stopped once the transaction has ended (the
worker asks again on each pass, `stop_pending`), so the exception can never leave the
write turns held. The run has been recorded before the exception is raised, so the
queue never waits for a handler that will not stop.
"""

from __future__ import annotations

import ctypes
import queue
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from masthead.domain.tasks import Claim
from masthead.queue.errors import RunStopped
from masthead.store.engine import forget_transactions_of, thread_in_transaction

__all__ = ["Finished", "Slots"]

RunKey = tuple[int, int]


@dataclass(frozen=True)
class Finished:
    """How one handler call ended: `error` None for success."""

    claim: Claim
    error: BaseException | None = None
    details: str = ""


class Slots:
    """`size` threads that take claims from an inbox and report each end."""

    def __init__(
        self,
        size: int,
        execute: Callable[[Claim], None],
        on_finish: Callable[[Finished], None],
        name: str = "masthead-slot",
    ) -> None:
        self._execute = execute
        self._on_finish = on_finish
        self._size = size
        self._inbox: queue.SimpleQueue[Claim | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._busy = 0
        self._in_handler: dict[RunKey, int] = {}
        self._pending: dict[RunKey, type[RunStopped]] = {}
        self._threads = [
            threading.Thread(target=self._serve, name=f"{name}-{number}", daemon=True)
            for number in range(size)
        ]
        for thread in self._threads:
            thread.start()

    def free(self) -> int:
        with self._lock:
            return self._size - self._busy

    def submit(self, claim: Claim) -> None:
        with self._lock:
            self._busy += 1
        self._inbox.put(claim)

    def stop_run(self, key: RunKey, reason: type[RunStopped]) -> bool:
        """Raise `reason` inside the handler running `key`, if it is still running (once it
        is out of any database transaction)."""
        with self._lock:
            ident = self._in_handler.get(key)
            if ident is None:
                self._pending.pop(key, None)
                return False
            if thread_in_transaction(ident):
                self._pending[key] = reason
                return True
            self._pending.pop(key, None)
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(ident), ctypes.py_object(reason)
            )
            return True

    def stop_pending(self) -> None:
        """Stop the handlers whose stop waited for their transaction to end."""
        with self._lock:
            pending = list(self._pending.items())
        for key, reason in pending:
            self.stop_run(key, reason)

    def close(self, timeout: float = 1.0) -> None:
        for _ in self._threads:
            self._inbox.put(None)
        for thread in self._threads:
            thread.join(timeout)

    def _serve(self) -> None:
        while (claim := self._inbox.get()) is not None:
            finished = self._attempt(claim)
            with self._lock:
                self._busy -= 1
            self._on_finish(finished)

    def _attempt(self, claim: Claim) -> Finished:
        try:
            self._call(claim)
        except RunStopped as stop:
            return Finished(claim, stop)
        except Exception as error:
            return Finished(claim, error, traceback.format_exc())
        return Finished(claim)

    def _call(self, claim: Claim) -> None:
        # Only while the key is in `_in_handler` may `stop_run` aim at this thread; the
        # exception it raises is delivered within this call at the latest, inside the
        # `try` of `_attempt`, never while the worker records the outcome.
        with self._lock:
            self._in_handler[claim.key] = threading.get_ident()
        try:
            self._execute(claim)
        finally:
            with self._lock:
                del self._in_handler[claim.key]
                self._pending.pop(claim.key, None)
            forget_transactions_of(threading.get_ident())
