"""One unit of work per request: a single database connection, taken when first needed.

Every step of a request — the edge check, authentication, the idempotency record, the
route itself — uses the request's one connection, one transaction after another, so a
request never holds a connection while it waits for a second one. At most
`server_threads` requests hold a connection at once (the pool's size, and the number of
handler threads); the others wait their turn without a thread, and one that waits past
`database_timeout_seconds` is answered 503.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
from anyio.to_thread import current_default_thread_limiter, run_sync
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from masthead.errors import DatabaseUnavailable
from masthead.settings import Settings
from masthead.store.engine import UnitOfWork, reading

__all__ = [
    "DATABASE_AWAY",
    "UNIT",
    "RequestDatabase",
    "read_in_turn",
    "release_early",
    "request_unit",
]

UNIT = "masthead_unit"
"""Where a request's unit of work is kept (`scope["state"]`)."""
DATABASE_AWAY = (OperationalError, PoolTimeout, DatabaseUnavailable)
"""What a request meets when the database is locked, busy, gone or without its tables."""
TURN = "masthead_turn"
"""Where a request's hold on a connection slot is kept (`scope["state"]`)."""

T = TypeVar("T")


class _Turn:
    """A request's slot and unit of work, let go of once: at the end, or earlier."""

    def __init__(self, database: RequestDatabase, slots: anyio.Semaphore, unit: UnitOfWork):
        self.database, self.slots, self.unit = database, slots, unit
        self.held = True

    async def let_go(self) -> None:
        if not self.held:
            return
        self.held = False
        if not self.unit.idle:  # a request that gave its connection back needs no thread
            with anyio.CancelScope(shield=True):
                await run_sync(self.unit.close)
        self.slots.release()


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
        turn = _Turn(self, slots, unit)
        scope.setdefault("state", {}).update({UNIT: unit, TURN: turn})
        try:
            await self.app(scope, receive, send)
        finally:
            await turn.let_go()

    async def read(self, reader: Callable[[Connection], T]) -> T:
        """One read transaction in a slot of its own, taken and given back around it."""
        slots = self._slots()
        with anyio.move_on_after(self.timeout) as waited:
            await slots.acquire()
        if waited.cancel_called:
            raise DatabaseUnavailable("every database connection is busy; retry soon")
        try:
            return await run_sync(_read_once, self.engine, reader)
        finally:
            slots.release()


def _read_once(engine: Engine, reader: Callable[[Connection], T]) -> T:
    with reading(engine) as connection:
        return reader(connection)


def request_unit(request: Request | Scope) -> UnitOfWork:
    """The request's unit of work; raises `DatabaseUnavailable` when there is none."""
    scope = request.scope if isinstance(request, Request) else request
    unit: UnitOfWork | None = scope.get("state", {}).get(UNIT)
    if unit is None:
        raise DatabaseUnavailable("every database connection is busy; retry soon")
    return unit


async def release_early(scope: Scope) -> None:
    """Give back the request's connection and slot now, e.g. before it waits on something.

    The request must not touch `request_unit` afterwards; `read_in_turn` reads again.
    """
    turn: _Turn | None = scope.get("state", {}).get(TURN)
    if turn is not None:
        scope["state"][UNIT] = None
        await turn.let_go()


async def read_in_turn(scope: Scope, reader: Callable[[Connection], T]) -> T:
    """Run `reader` in a short read transaction that waits its turn like a request does."""
    turn: _Turn | None = scope.get("state", {}).get(TURN)
    if turn is None:
        raise DatabaseUnavailable("every database connection is busy; retry soon")
    return await turn.database.read(reader)
