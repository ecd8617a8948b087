"""Reading publish receipts: editors and admins (the editorial record of what went live)."""

from __future__ import annotations

from sqlalchemy import Connection

from masthead.domain.permissions import Actor, is_editor
from masthead.domain.receipts import Receipt, ReceiptState
from masthead.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from masthead.settings import Settings
from masthead.store import receipts as receipt_store

__all__ = ["MAX_PAGE", "find_receipt", "list_receipts", "pending_receipt", "require_short_wait"]

MAX_PAGE = 200


def _require_editor(actor: Actor) -> None:
    if not is_editor(actor):
        raise Forbidden("receipts are for editors and admins")


def find_receipt(connection: Connection, actor: Actor, receipt_id: int) -> Receipt:
    _require_editor(actor)
    receipt = receipt_store.get_receipt(connection, receipt_id)
    if receipt is None:
        raise NotFound(f"no receipt {receipt_id}")
    return receipt


def list_receipts(
    connection: Connection,
    actor: Actor,
    *,
    post_id: int | None = None,
    state: ReceiptState | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Receipt]:
    """Newest first; `before_id` continues a listing after its last receipt."""
    _require_editor(actor)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput([FieldProblem("limit", f"must be between 1 and {MAX_PAGE}")])
    return receipt_store.list_receipts(
        connection, post_id=post_id, state=state, before_id=before_id, limit=limit
    )


def pending_receipt(connection: Connection, receipt_id: int) -> Receipt | None:
    """The receipt a verification run works on, while it is pending (no role: the queue)."""
    receipt = receipt_store.get_receipt(connection, receipt_id)
    return receipt if receipt is not None and receipt.state is ReceiptState.PENDING else None


def require_short_wait(seconds: float, settings: Settings, field: str) -> None:
    """A wait for a receipt must end before an idempotency lock would let a retry run the
    change again (every face that waits asks this)."""
    limit = settings.idempotency_lock_seconds
    if seconds and seconds >= limit:
        raise InvalidInput([FieldProblem(field, f"must be less than {limit} seconds")])
