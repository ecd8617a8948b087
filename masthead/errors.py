"""One exception tree. Every error has a stable `code` that callers can act on.

The web layer maps these to HTTP problems in one place (`masthead.web.problems`), the
CLI to exit codes in one place (`masthead.cli.output`); nothing here knows either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "Conflict",
    "FieldProblem",
    "Forbidden",
    "ImportFailed",
    "ImportProblem",
    "InvalidInput",
    "InvalidTransition",
    "MastheadError",
    "NotFound",
    "StaleRevision",
    "Unauthenticated",
]


class MastheadError(Exception):
    """Base of every error Masthead raises on purpose."""

    code = "masthead_error"

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.code)
        self.detail = detail or self.code
        self.extra = extra


class NotFound(MastheadError):
    code = "not_found"


class Unauthenticated(MastheadError):
    """No valid token: missing, unknown, revoked, or its owner is suspended."""

    code = "unauthenticated"


class Forbidden(MastheadError):
    """The caller is known, but their role does not allow this."""

    code = "forbidden"


class InvalidTransition(MastheadError):
    """The post's lifecycle does not allow this step from its current state."""

    code = "invalid_transition"


class StaleRevision(MastheadError):
    """The change was based on a revision that is no longer the post's current one."""

    code = "stale_revision"


class Conflict(MastheadError):
    """The request clashes with what exists (a taken slug, a tag still in use …)."""

    code = "conflict"

    def __init__(self, detail: str, code: str = "conflict", **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.code = code


@dataclass(frozen=True)
class FieldProblem:
    """One field that is wrong, and why."""

    field: str
    message: str
    code: str = "invalid"


class InvalidInput(MastheadError):
    """Input that parses but breaks a rule: unknown slugs, bad values. Lists each field."""

    code = "invalid_input"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{problem.field}: {problem.message}" for problem in problems))
        self.problems = problems


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong in an import folder, at a line of a file."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ImportFailed(MastheadError):
    """The import found problems; nothing was written."""

    code = "import_failed"

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) found; nothing was imported")
        self.problems = problems
