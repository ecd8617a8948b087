"""One exception tree. Every error has a stable `code` that callers can act on."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ImportFailed", "ImportProblem", "MastheadError", "NotFound"]


class MastheadError(Exception):
    """Base of every error Masthead raises on purpose."""

    code = "masthead_error"


class NotFound(MastheadError):
    code = "not_found"


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
