"""Publish receipts: written with the change that flipped a post, completed by verification."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from masthead.domain.receipts import (
    Attempt,
    NewReceipt,
    Receipt,
    ReceiptAction,
    ReceiptState,
)
from masthead.store.schema import receipts

__all__ = ["add_attempt", "get_receipt", "insert_receipt", "list_receipts"]


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def insert_receipt(connection: Connection, new: NewReceipt) -> Receipt:
    """Write the receipt; answer it as a read would, without reading it back."""
    ended_at = new.flipped_at if new.state is ReceiptState.BLOCKED else None
    receipt_id: int = connection.execute(
        insert(receipts)
        .values(
            post_id=new.post_id,
            revision=new.revision,
            action=new.action.value,
            state=new.state.value,
            actor=new.actor,
            actor_kind=new.actor_kind,
            token_id=new.token_id,
            approval=None if new.approval is None else _json(dict(new.approval)),
            gates=_json([dict(result) for result in new.gates]),
            flipped_at=new.flipped_at,
            pages=_json(list(new.pages)),
            expect=_json(dict(new.expect)),
            ended_at=ended_at,
        )
        .returning(receipts.c.id)
    ).scalar_one()
    return Receipt(
        id=receipt_id,
        post_id=new.post_id,
        revision=new.revision,
        action=new.action,
        state=new.state,
        actor=new.actor,
        actor_kind=new.actor_kind,
        token_id=new.token_id,
        approval=None if new.approval is None else dict(new.approval),
        gates=tuple(dict(result) for result in new.gates),
        flipped_at=new.flipped_at,
        pages=tuple(new.pages),
        expect=dict(new.expect),
        ended_at=ended_at,
    )


def get_receipt(connection: Connection, receipt_id: int, *, lock: bool = False) -> Receipt | None:
    query = select(receipts).where(receipts.c.id == receipt_id)
    row = connection.execute(query.with_for_update() if lock else query).first()
    return _receipt_from_row(row) if row else None


def list_receipts(
    connection: Connection,
    *,
    post_id: int | None = None,
    state: ReceiptState | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Receipt]:
    """Newest first."""
    query = select(receipts).order_by(receipts.c.id.desc()).limit(limit)
    if post_id is not None:
        query = query.where(receipts.c.post_id == post_id)
    if state is not None:
        query = query.where(receipts.c.state == state.value)
    if before_id is not None:
        query = query.where(receipts.c.id < before_id)
    return [_receipt_from_row(row) for row in connection.execute(query)]


def add_attempt(
    connection: Connection,
    receipt: Receipt,
    attempt: Attempt,
    *,
    state: ReceiptState,
    at: datetime,
) -> None:
    """Record one verification attempt; with `state` no longer pending, the receipt ends."""
    attempts: Sequence[Attempt] = (*receipt.attempts, attempt)
    ended = state is not ReceiptState.PENDING
    connection.execute(
        update(receipts)
        .where(receipts.c.id == receipt.id)
        .values(
            state=state.value,
            attempts=_json([item.as_dict() for item in attempts]),
            verified_at=at if state is ReceiptState.VERIFIED else None,
            ended_at=at if ended else None,
        )
    )


def _receipt_from_row(row: Any) -> Receipt:
    return Receipt(
        id=row.id,
        post_id=row.post_id,
        revision=row.revision,
        action=ReceiptAction(row.action),
        state=ReceiptState(row.state),
        actor=row.actor,
        actor_kind=row.actor_kind,
        token_id=row.token_id,
        approval=json.loads(row.approval) if row.approval else None,
        gates=tuple(json.loads(row.gates)),
        flipped_at=row.flipped_at,
        pages=tuple(json.loads(row.pages)),
        expect=json.loads(row.expect),
        attempts=tuple(Attempt.from_dict(item) for item in json.loads(row.attempts)),
        verified_at=row.verified_at,
        ended_at=row.ended_at,
    )
