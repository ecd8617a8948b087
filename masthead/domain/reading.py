"""Word counts and reading time of a rendered body."""

from __future__ import annotations

import math
import re

__all__ = ["WORDS_PER_MINUTE", "count_words", "reading_minutes"]

WORDS_PER_MINUTE = 230
_WORD = re.compile(r"\w+(?:[-'’.]\w+)*")


def count_words(text: str) -> int:
    """Words in plain text: runs of letters or digits, joined words counted once."""
    return len(_WORD.findall(text))


def reading_minutes(words: int) -> int:
    """Words / 230, rounded up, and never less than one minute."""
    return max(1, math.ceil(words / WORDS_PER_MINUTE))
