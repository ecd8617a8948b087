"""Plain text as Masthead accepts it: no control characters (XML and PostgreSQL refuse them)."""

from __future__ import annotations

import re

__all__ = ["FIELD_LIMITS", "MAX_NAME", "MAX_TITLE", "first_control_character", "printable"]

MAX_TITLE = 300
"""Characters in a post title."""
MAX_NAME = 200
"""Characters in a name, role title, department, or a token's name."""
FIELD_LIMITS = {
    "title": MAX_TITLE,
    "name": MAX_NAME,
    "role_title": MAX_NAME,
    "department": MAX_NAME,
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def first_control_character(text: str) -> int | None:
    """The index of the first character no page, feed or database should hold; None if clean.

    Tabs and line breaks are fine.
    """
    found = _CONTROL.search(text)
    return found.start() if found else None


def printable(value: str) -> str:
    """`value` as it is, if it holds no control character; a ValueError (for a schema) if so."""
    if first_control_character(value) is not None:
        raise ValueError("contains a control character")
    return value
