"""List cursors: an opaque token naming the last row a page showed, shared by every face."""

from __future__ import annotations

import base64
import binascii

from masthead.errors import FieldProblem, InvalidInput

__all__ = ["MAX_ID", "decode_cursor", "encode_cursor"]

MAX_ID = 2**31 - 1
"""The largest row id either database can hold."""


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind == "id" and value.isdigit() and int(value) <= MAX_ID:
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput([FieldProblem("cursor", "not a cursor this API gave out", "invalid_cursor")])
