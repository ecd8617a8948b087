"""What the MCP server needs from the request it serves: who calls, and units of work.

The web layer implements it per HTTP request (`masthead.web.mcp`), on the request's one
connection, with the API's idempotency ledger and the API's receipt wait: the server itself
never opens a connection of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection

from masthead.actions.context import Call
from masthead.domain.receipts import Receipt

__all__ = ["Gateway", "Keyed", "Work", "Written"]

T = TypeVar("T")
Work = Callable[[Connection], dict[str, Any]]
"""A tool's work: one use case in one transaction, answering its structured content."""


@dataclass(frozen=True)
class Keyed:
    """A write named by an idempotency key: the key and the digest of what was asked."""

    key: str
    digest: str


@dataclass(frozen=True)
class Written:
    """What a write answered: its structured content, whether it was refused, and whether
    it is the replay of an earlier call with the same key."""

    body: dict[str, Any]
    refused: bool
    replayed: bool = False


class Gateway(Protocol):
    @property
    def call(self) -> Call:
        """The authenticated caller of this request."""
        ...

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in a read transaction."""
        ...

    async def write(self, work: Work, keyed: Keyed | None) -> Written:
        """Run `work` in a write transaction; with a key, at most once (the API's rules)."""
        ...

    async def settle(self, receipt_id: int, seconds: float) -> Receipt:
        """Give back the connection, then wait up to `seconds` for the receipt to settle."""
        ...
