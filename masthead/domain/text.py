"""Plain text as Masthead accepts it: no control characters (XML and PostgreSQL refuse them)."""

from __future__ import annotations

import re

__all__ = ["first_control_character"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def first_control_character(text: str) -> int | None:
    """The index of the first character no page, feed or database should hold; None if clean.

    Tabs and line breaks are fine.
    """
    found = _CONTROL.search(text)
    return found.start() if found else None
