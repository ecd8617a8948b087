"""List cursors: an opaque token naming the last row a page showed, shared by every face."""

from __future__ import annotations

import base64
import binascii

from masthead.errors import FieldProblem, InvalidInput

__all__ = ["MAX_ID", "decode_cursor", "decode_offset", "encode_cursor", "encode_offset"]

MAX_ID = 2**31 - 1
"""The largest row id either database can hold."""


def encode_cursor(last_id: int) -> str:
    return _encode("id", last_id)


def encode_offset(offset: int) -> str:
    """A cursor for a ranked list: how many rows the pages before it showed."""
    return _encode("at", offset)


def _encode(kind: str, value: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    return _decode(cursor, "id")


def decode_offset(cursor: str | None) -> int:
    return _decode(cursor, "at") or 0


def _decode(cursor: str | None, kind: str) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        found, _, value = text.partition(":")
        if found == kind and value.isdigit() and int(value) <= MAX_ID:
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput([FieldProblem("cursor", "not a cursor this API gave out", "invalid_cursor")])
