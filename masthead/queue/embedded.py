"""The worker inside another process (`masthead serve`): same loop, on a background thread.

The host process keeps its own signal handling; it calls `stop()` when it shuts down.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from masthead.queue.registry import Registry, load_registry
from masthead.queue.worker import QueueWorker
from masthead.settings import Settings

__all__ = ["EmbeddedWorker", "start_embedded_worker"]

# Past the grace period, how long `stop()` waits for the hand-back and deregistration.
STOP_MARGIN_SECONDS = 5.0


class EmbeddedWorker:
    def __init__(self, worker: QueueWorker, grace: float) -> None:
        self.worker = worker
        self._grace = grace
        self._thread = threading.Thread(target=worker.run, name="masthead-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, *, immediately: bool = False) -> None:
        """Stop claiming, let running handlers finish within the grace period, then return."""
        self.worker.request_stop(immediately=immediately)
        self._thread.join(self._grace + STOP_MARGIN_SECONDS)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


def start_embedded_worker(
    settings: Settings,
    engine: Engine,
    *,
    registry: Registry | None = None,
    concurrency: int | None = None,
) -> EmbeddedWorker:
    """Start a worker thread over `engine`; call `.stop()` on the result at shutdown."""
    worker = QueueWorker(
        settings=settings,
        engine=engine,
        registry=registry or load_registry(settings),
        concurrency=concurrency,
    )
    handle = EmbeddedWorker(worker, settings.queue_grace_seconds)
    handle.start()
    return handle
