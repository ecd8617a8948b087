"""The server's log lines: one JSON object a line off a terminal, readable text on one.

Every line a request causes carries its request id: the id lives in a context variable
that the request's task and its handler threads share, and the formatter adds it. A
line's extra fields (`logger.info("request", extra={"status": 200})`) become its keys.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import json
import logging
import sys
import threading
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

__all__ = ["REQUEST_ID", "JsonLines", "ReadableLines", "configure_logging", "write_request_line"]

REQUEST_ID: ContextVar[str | None] = ContextVar("masthead_request_id", default=None)
"""The id of the request being served here, if any."""

_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class _WithRequestId(logging.Filter):
    """Adds the current request's id to each record that lacks one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


def _fields(record: logging.LogRecord) -> dict[str, object]:
    extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
    if extra.get("request_id") is None:
        extra.pop("request_id", None)
    return extra


def _when(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonLines(logging.Formatter):
    """`{"time", "level", "logger", "message", …extra}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": _when(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(line)


class ReadableLines(logging.Formatter):
    """`TIME LEVEL logger: message key=value …` for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        pairs = " ".join(f"{key}={value}" for key, value in _fields(record).items())
        text = f"{_when(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        text = f"{text} {pairs}" if pairs else text
        if record.exc_info:
            text = f"{text}\n{self.formatException(record.exc_info)}"
        return text


_REQUESTS = logging.getLogger("masthead.request")
_direct: logging.StreamHandler[TextIO] | None = None
"""The JSON handler `configure_logging` installed, while it is the only one."""


def write_request_line(method: str, route: str, status: int, ms: float, request_id: str) -> bool:
    """A request's line, byte for byte as `JsonLines` writes it, without the logging
    machinery; False when logging is set up otherwise.

    On the event loop the line joins the others of the loop's turn, written together at
    its end (one write for many requests under load); elsewhere it is written now.
    """
    handler = _direct
    if (
        handler is None
        or logging.getLogger().handlers != [handler]
        or _REQUESTS.handlers
        or not _REQUESTS.isEnabledFor(logging.INFO)
    ):
        return False
    line = (
        f'{{"time": "{_now_text()}", "level": "info", "logger": "masthead.request", '
        f'"message": "request", "method": {_quoted(method)}, "route": {_quoted(route)}, '
        f'"status": {status}, "duration_ms": {ms!r}, '
        f'"request_id": {_ENCODER.encode(request_id)}}}\n'
    )
    _BATCH.add(handler, line)
    return True


@functools.lru_cache(maxsize=4096)
def _quoted(text: str) -> str:
    """A method or route as a JSON string; the same few recur, so each is encoded once."""
    return _ENCODER.encode(text)


_clock: tuple[int, str] = (0, "")
"""The last millisecond a line was stamped with, and its text (many lines share one)."""


def _now_text() -> str:
    global _clock
    ms = time.time_ns() // 1_000_000
    if _clock[0] != ms:
        moment = datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
        _clock = (ms, moment.replace("+00:00", "Z"))
    return _clock[1]


class _LineBatch:
    """Request lines gathered during one turn of the event loop, written at its end."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.handler: logging.StreamHandler[TextIO] | None = None
        self._lock = threading.Lock()

    def add(self, handler: logging.StreamHandler[TextIO], line: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # off the event loop: nothing will come to write it later
            self._write(handler, [line])
            return
        with self._lock:
            self.lines.append(line)
            first, self.handler = len(self.lines) == 1, handler
        if first:
            loop.call_soon(self.flush)

    def flush(self) -> None:
        with self._lock:
            lines, self.lines = self.lines, []
            handler = self.handler
        if lines and handler is not None:
            self._write(handler, lines)

    @staticmethod
    def _write(handler: logging.StreamHandler[TextIO], lines: list[str]) -> None:
        handler.acquire()
        try:
            handler.stream.write("".join(lines))
            handler.stream.flush()
        except (OSError, ValueError):  # the stream is closed or gone: as `logging` does,
            pass  # a log line never fails a request
        finally:
            handler.release()


_BATCH = _LineBatch()
atexit.register(_BATCH.flush)


def configure_logging(stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Send every logger's lines to `stream` (stderr): JSON unless it is a terminal."""
    global _direct
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.addFilter(_WithRequestId())
    handler.setFormatter(ReadableLines() if stream.isatty() else JsonLines())
    _direct = None if stream.isatty() else handler
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # no line shows the caller's file, thread or process name: skip finding them (the
    # logging HOWTO's "Optimization"; a third of a request line's cost)
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
