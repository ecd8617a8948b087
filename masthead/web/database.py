"""One unit of work per request: a single database connection, taken when first needed.

Every step of a request — the edge check, authentication, the idempotency record, the
route itself — uses the request's one connection, one transaction after another, so a
request never holds a connection while it waits for a second one. At most
`server_threads` requests hold a connection at once (the pool's size, and the number of
handler threads); the others wait their turn without a thread, and one that waits past
`database_timeout_seconds` is answered 503.
"""

from __future__ import annotations

import anyio
from anyio.to_thread import current_default_thread_limiter, run_sync
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from masthead.errors import DatabaseUnavailable
from masthead.settings import Settings
from masthead.store.engine import UnitOfWork

__all__ = ["DATABASE_AWAY", "UNIT", "RequestDatabase", "request_unit"]

UNIT = "masthead_unit"
"""Where a request's unit of work is kept (`scope["state"]`)."""
DATABASE_AWAY = (OperationalError, PoolTimeout, DatabaseUnavailable)
"""What a request meets when the database is locked, busy, gone or without its tables."""


class RequestDatabase:
    """ASGI middleware in front of everything that may read or write."""

    def __init__(self, app: ASGIApp, settings: Settings, engine: Engine) -> None:
        self.app = app
        self.engine = engine
        self.threads = settings.server_threads
        self.timeout = settings.database_timeout_seconds
        self._turns: anyio.Semaphore | None = None

    def _slots(self) -> anyio.Semaphore:
        if self._turns is None:  # made inside the event loop, on the first request
            current_default_thread_limiter().total_tokens = self.threads
            self._turns = anyio.Semaphore(self.threads)
        return self._turns

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        slots = self._slots()
        with anyio.move_on_after(self.timeout) as waited:
            await slots.acquire()
        if waited.cancel_called:  # every connection stayed busy: answered like a database
            scope.setdefault("state", {})[UNIT] = None  # that is away (`request_unit`)
            await self.app(scope, receive, send)
            return
        unit = UnitOfWork(self.engine)
        scope.setdefault("state", {})[UNIT] = unit
        try:
            await self.app(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await run_sync(unit.close)
            slots.release()


def request_unit(request: Request | Scope) -> UnitOfWork:
    """The request's unit of work; raises `DatabaseUnavailable` when there is none."""
    scope = request.scope if isinstance(request, Request) else request
    unit: UnitOfWork | None = scope.get("state", {}).get(UNIT)
    if unit is None:
        raise DatabaseUnavailable("every database connection is busy; retry soon")
    return unit
