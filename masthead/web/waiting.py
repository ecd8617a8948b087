"""`?wait=S` on a publish, an unpublish or an archive: after the change has committed,
wait (holding no connection, no transaction and no write lock) for its verification.

The route answers `202` with the pending receipt and names what to wait for in the
request's state; this middleware, outside the idempotency layer, sees that answer only
once its transaction has committed (and, for a keyed call, once it is stored). It gives
the request's connection back, reads the receipt again every `POLL_SECONDS` until it
settles or the time runs out, and answers `200` with the settled receipt, or the `202`
with the latest pending one. A replayed key answers the stored `202`: it does not wait.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import anyio
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from masthead.actions.receipts import find_receipt
from masthead.domain.permissions import Actor
from masthead.domain.receipts import Receipt, ReceiptState
from masthead.web.api.receipts import receipt_out
from masthead.web.database import read_in_turn, release_early

__all__ = ["POLL_SECONDS", "ReceiptWait", "settled", "wait_after_commit"]

POLL_SECONDS = 0.1
WAIT = "masthead_wait"


@dataclass(frozen=True)
class _WaitFor:
    receipt_id: int
    seconds: float
    actor: Actor


def wait_after_commit(request: Request, receipt_id: int, seconds: float, actor: Actor) -> None:
    """Ask for the answer to wait up to `seconds` for this receipt to settle."""
    setattr(request.state, WAIT, _WaitFor(receipt_id, seconds, actor))


class ReceiptWait:
    """ASGI middleware around the API application (outside `Idempotency`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        asked = b"wait=" in scope.get("query_string", b"")
        if scope["type"] != "http" or scope["method"] not in {"POST", "DELETE"} or not asked:
            await self.app(scope, receive, send)  # only a call that asks to wait is held
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        wait: _WaitFor | None = scope.get("state", {}).get(WAIT)
        start, *body = held
        if wait is None or start["status"] != 202 or wait.seconds <= 0:
            for message in held:
                await send(message)
            return
        await release_early(scope)
        receipt = await settled(scope, wait.actor, wait.receipt_id, wait.seconds)
        answer = json.loads(b"".join(message.get("body", b"") for message in body))
        answer["receipt"] = receipt_out(receipt).model_dump(mode="json")
        content = json.dumps(answer, separators=(",", ":")).encode()
        status = 202 if receipt.state is ReceiptState.PENDING else 200
        headers = [(n, v) for n, v in start.get("headers", []) if n.lower() != b"content-length"]
        headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


async def settled(scope: Scope, actor: Actor, receipt_id: int, seconds: float) -> Receipt:
    """The receipt once it is no longer pending, or as it stands when the time runs out.

    Each look is a short read that waits its turn like a request; the caller has let go of
    its own connection first (`release_early`). The API's `?wait` and the MCP server's
    `publish` both wait here.
    """
    deadline = anyio.current_time() + seconds
    while True:
        receipt = await read_in_turn(
            scope, lambda connection: find_receipt(connection, actor, receipt_id)
        )
        left = deadline - anyio.current_time()
        if receipt.state is not ReceiptState.PENDING or left <= 0:
            return receipt
        await anyio.sleep(min(POLL_SECONDS, left))
