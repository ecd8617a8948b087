"""The rows of a Ghost export's tables, read from the file a piece at a time.

A Ghost export is one JSON document, `{"db": [{"meta": …, "data": {TABLE: [ROW, …], …}}]}`
(or `{"meta": …, "data": …}`), and at 100,000 posts it is some 650 MB: read whole and
parsed, several times that. Here the document is walked as it is read, a megabyte at a
time: each row is parsed on its own (`json.JSONDecoder.raw_decode`) and handed on, so at
most one row and one read's worth of text are held, whatever the file's size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from masthead.content.foreign import SourceError

__all__ = ["CHUNK_CHARACTERS", "table_rows"]

CHUNK_CHARACTERS = 1 << 20
LONGEST_VALUE = 256 << 20
"""A single row larger than this (in characters) is refused rather than read into memory."""

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


class _Reader:
    """A JSON text read forward, with what has not been parsed yet in a buffer."""

    def __init__(self, file: TextIO) -> None:
        self.file = file
        self.buffer = ""
        self.at = 0
        self.lines_before = 0
        """Line breaks in the text already dropped from the buffer."""

    def _more(self) -> bool:
        chunk = self.file.read(CHUNK_CHARACTERS)
        if not chunk:
            return False
        self.lines_before += self.buffer.count("\n", 0, self.at)
        self.buffer = self.buffer[self.at :] + chunk
        self.at = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the file)."""
        while True:
            self.at = _SPACE.match(self.buffer, self.at).end()  # type: ignore[union-attr]
            if self.at < len(self.buffer):
                return self.buffer[self.at]
            if not self._more():
                return ""

    def take(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"expected {char!r}", self.at)
        self.at += 1

    def value(self) -> Any:
        """The JSON value that starts here, reading on until it is whole."""
        self.peek()
        while True:
            try:
                found, end = _DECODER.raw_decode(self.buffer, self.at)
            except json.JSONDecodeError as error:
                if len(self.buffer) - self.at < LONGEST_VALUE and self._more():
                    continue  # cut off by the end of the buffer, most likely: read on
                raise self.error(error.msg, error.pos) from None
            if end == len(self.buffer) and self._more():
                continue  # a number or literal may go on past the buffer's end
            self.at = end
            return found

    def members(self) -> Iterator[str]:
        """The keys of the object that starts here; the caller reads each one's value."""
        for _ in self._elements("{", "}"):
            key = self.value()
            if not isinstance(key, str):
                raise self.error("expected a key", self.at)
            self.take(":")
            yield key

    def items(self) -> Iterator[None]:
        """Once for each element of the array that starts here; the caller reads it."""
        return self._elements("[", "]")

    def _elements(self, opening: str, closing: str) -> Iterator[None]:
        self.take(opening)
        if self.peek() == closing:
            self.at += 1
            return
        while True:
            yield None
            if self._next_or_end(closing):
                return

    def _next_or_end(self, closing: str) -> bool:
        char = self.peek()
        self.at += 1
        if char == ",":
            return False
        if char == closing:
            return True
        raise self.error(f"expected ',' or {closing!r}", self.at - 1)

    def error(self, message: str, position: int) -> SourceError:
        line = self.lines_before + self.buffer.count("\n", 0, position) + 1
        return SourceError(line, f"not a Ghost export: {message}")


def table_rows(path: Path) -> Iterator[tuple[str, int, Any]]:
    """(table, index, row) for each row of each table of the export, in the file's order.

    Raises `SourceError` (with the line) for text that is not JSON or holds no
    `db[0].data` (or `data`) object of tables.
    """
    try:
        with path.open(encoding="utf-8") as file:
            reader = _Reader(file)
            found = False
            for key in reader.members():
                if key == "data" and reader.peek() == "{":
                    found = True
                    yield from _tables(reader)
                elif key == "db" and reader.peek() == "[":
                    for index, _ in enumerate(reader.items()):
                        if index == 0 and reader.peek() == "{":
                            for inner in reader.members():
                                if inner == "data" and reader.peek() == "{":
                                    found = True
                                    yield from _tables(reader)
                                else:
                                    reader.value()
                        else:
                            reader.value()
                else:
                    reader.value()
    except UnicodeDecodeError as error:
        raise SourceError(1, f"not a Ghost export: {error}") from None
    if not found:
        raise SourceError(1, "not a Ghost export: no db[0].data")


def _tables(reader: _Reader) -> Iterator[tuple[str, int, Any]]:
    for table in reader.members():
        if reader.peek() != "[":
            reader.value()
            continue
        for index, _ in enumerate(reader.items()):
            yield table, index, reader.value()
