"""How the CLI speaks: JSON or text on stdout, problems on stderr, typed exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from enum import IntEnum
from typing import Any

from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import OperationalError
from typer import Abort, Exit
from typer.exceptions import TyperException

from masthead.errors import ImportFailed, InvalidInput, Kind, MastheadError

__all__ = [
    "EXIT_OF_KIND",
    "ExitCode",
    "emit_json",
    "errors_to_exit_codes",
    "progress_bar",
    "text_lines",
]


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS = 1
    USAGE = 2  # also a bad setting
    NOT_FOUND = 3
    DATABASE_UNAVAILABLE = 4
    FAILED = 5


EXIT_OF_KIND = {
    Kind.INPUT: ExitCode.PROBLEMS,
    Kind.TOO_LARGE: ExitCode.PROBLEMS,
    Kind.UNSUPPORTED_MEDIA: ExitCode.PROBLEMS,
    Kind.NOT_FOUND: ExitCode.NOT_FOUND,
    Kind.UNAVAILABLE: ExitCode.DATABASE_UNAVAILABLE,
    Kind.CONFIGURATION: ExitCode.USAGE,
    Kind.USAGE: ExitCode.USAGE,
}
"""The exit code of each kind of error; every other kind is a refusal (5)."""


def emit_json(document: Any) -> None:
    """Written piece by piece: a large report (an import of 100,000 posts) is never one
    string in memory besides the document."""
    json.dump(document, sys.stdout, indent=2, default=_json_value)
    sys.stdout.write("\n")


def text_lines(document: Mapping[str, Any], prefix: str = "") -> list[str]:
    """A mapping as readable `key: value` lines, never a Python repr: nested mappings as
    `key.inner: value`, lists joined with commas, nothing as `-`."""
    lines: list[str] = []
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            lines += text_lines(value, f"{name}.") if value else [f"{name}: -"]
        else:
            lines.append(f"{name}: {_text_value(value)}")
    return lines


def _text_value(value: object) -> str:
    if value is None or value == [] or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_text_value(item) for item in value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _json_value(value: object) -> object:
    """What JSON cannot hold, as the API writes it: a datetime in ISO 8601 with its zone
    (`Z` for UTC)."""
    if isinstance(value, datetime):
        text = value.isoformat()
        return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
    return str(value)


def _fail(code: ExitCode, message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")
    raise SystemExit(int(code))


@contextmanager
def errors_to_exit_codes(as_json: bool = False) -> Iterator[None]:
    """The one place where errors become messages and exit codes. `as_json`: a refusal of
    ours is also one JSON document on stdout (its code, detail and any problems)."""
    try:
        with _refusals_as_json(as_json):
            yield
    except ImportFailed as error:
        _fail(
            ExitCode.PROBLEMS, "\n".join(str(problem) for problem in error.problems) + f"\n{error}"
        )
    except ValidationError as error:
        _fail(ExitCode.USAGE, "\n".join(_setting_problems(error)))
    except OperationalError as error:
        _fail(ExitCode.DATABASE_UNAVAILABLE, f"database unavailable: {error.orig}")
    except MastheadError as error:
        _fail(EXIT_OF_KIND.get(error.kind, ExitCode.FAILED), f"{error.code}: {error}")
    except (TyperException, Exit, Abort):  # the command line's own ways to end
        raise
    except Exception as error:
        _fail(ExitCode.FAILED, f"internal_error: {type(error).__name__}: {error}")


@contextmanager
def _refusals_as_json(enabled: bool) -> Iterator[None]:
    try:
        yield
    except MastheadError as error:
        if enabled:
            emit_json(_error_document(error))
        raise


def _error_document(error: MastheadError) -> dict[str, Any]:
    document: dict[str, Any] = {"code": error.code, "detail": error.detail}
    if isinstance(error, ImportFailed | InvalidInput):
        document["problems"] = [asdict(problem) for problem in error.problems]
    return document


def _setting_problems(error: ValidationError) -> list[str]:
    """One line per refused setting, named as the operator sets it."""
    return [
        f"bad configuration: MASTHEAD_{'_'.join(map(str, problem['loc'])).upper()}: "
        f"{problem['msg'].removeprefix('Value error, ')}"
        if problem["loc"]
        else f"bad configuration: {problem['msg'].removeprefix('Value error, ')}"
        for problem in error.errors()
    ]


@contextmanager
def progress_bar(label: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal; nothing when piped or asked for JSON."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance
