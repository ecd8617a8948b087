"""One exception tree, and one registry of every error code Masthead answers with.

Every code has a kind; the web layer maps kinds to HTTP statuses in one place
(`masthead.web.problems`), the CLI maps them to exit codes in one place
(`masthead.cli.output`), and the docs' tables are tested against `CODES`. Nothing here
knows HTTP or exit codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar

__all__ = [
    "CODES",
    "BackupRefused",
    "BodyTooLarge",
    "Conflict",
    "DatabaseUnavailable",
    "ErrorCode",
    "FieldProblem",
    "Forbidden",
    "ImportFailed",
    "ImportProblem",
    "InsecureConfiguration",
    "InvalidInput",
    "InvalidTransition",
    "Kind",
    "MastheadError",
    "NotFound",
    "NotMigrated",
    "PreconditionRequired",
    "StaleRevision",
    "TargetNotAllowed",
    "Unauthenticated",
    "UnsupportedMediaType",
    "UnusablePath",
    "code_kind",
]


class Kind(StrEnum):
    """What sort of refusal or failure a code is; faces map kinds, never single codes."""

    INPUT = "input"  # the request or file holds something unacceptable
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA = "unsupported_media"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    STALE = "stale"
    PRECONDITION = "precondition"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"  # the database is busy, away, or not set up
    INTERNAL = "internal"
    CONFIGURATION = "configuration"  # the settings refuse to run
    USAGE = "usage"  # a command was given something it cannot use (the CLI's alone)
    TASK = "task"  # how a task's run ended badly; seen in the queue, never as a problem


@dataclass(frozen=True)
class ErrorCode:
    code: str
    kind: Kind
    meaning: str
    in_api: bool = True
    """Whether the internal API can answer with it (import problems are the CLI's alone)."""


def _codes(*entries: ErrorCode) -> Mapping[str, ErrorCode]:
    table = {entry.code: entry for entry in entries}
    assert len(table) == len(entries), "a code is registered twice"
    return MappingProxyType(table)


CODES = _codes(
    ErrorCode("unauthenticated", Kind.UNAUTHENTICATED, "no valid staff token"),
    ErrorCode("forbidden", Kind.FORBIDDEN, "the caller's role may not do this"),
    ErrorCode(
        "not_found", Kind.NOT_FOUND, "nothing at this address, or nothing the caller may see"
    ),
    ErrorCode(
        "method_not_allowed", Kind.METHOD_NOT_ALLOWED, "the address does not take that method"
    ),
    ErrorCode("invalid_transition", Kind.CONFLICT, "the post's lifecycle does not allow this step"),
    ErrorCode("slug_taken", Kind.CONFLICT, "the slug belongs to another post, tag or staff member"),
    ErrorCode("tag_in_use", Kind.CONFLICT, "the tag is still on a post"),
    ErrorCode("conflict", Kind.CONFLICT, "the request clashes with the current state of things"),
    ErrorCode(
        "idempotency_in_flight", Kind.CONFLICT, "a call with this Idempotency-Key still runs"
    ),
    ErrorCode(
        "unique_key_pending", Kind.CONFLICT, "another pending task holds the task's unique key"
    ),
    ErrorCode("stale_revision", Kind.STALE, "If-Match names a revision that is no longer current"),
    ErrorCode("payload_too_large", Kind.TOO_LARGE, "the body is larger than the limit"),
    ErrorCode("unsupported_media_type", Kind.UNSUPPORTED_MEDIA, "the body is not JSON"),
    ErrorCode("invalid_input", Kind.INPUT, "a value is not acceptable; each field is listed"),
    ErrorCode("invalid_idempotency_key", Kind.INPUT, "the Idempotency-Key is empty or too long"),
    ErrorCode(
        "idempotency_key_reused", Kind.INPUT, "the Idempotency-Key was used for another request"
    ),
    ErrorCode("validation_failed", Kind.INPUT, "the request does not match its schema"),
    ErrorCode(
        "import_failed", Kind.INPUT, "an import found problems; nothing was written", in_api=False
    ),
    ErrorCode("gates_failed", Kind.INPUT, "a gate blocks the publish; each result is listed"),
    ErrorCode("precondition_required", Kind.PRECONDITION, "a change to a post without If-Match"),
    ErrorCode("rate_limited", Kind.RATE_LIMITED, "the caller is past its rate limit; retry later"),
    ErrorCode("internal_error", Kind.INTERNAL, "something went wrong on the server's side"),
    ErrorCode("database_unavailable", Kind.UNAVAILABLE, "the database is busy or away"),
    ErrorCode("not_migrated", Kind.UNAVAILABLE, "the database has no tables: run masthead migrate"),
    ErrorCode("insecure_configuration", Kind.CONFIGURATION, "production refuses a weak set-up"),
    ErrorCode(
        "unusable_path",
        Kind.USAGE,
        "a file or folder given to a command cannot be used as asked",
        in_api=False,
    ),
    ErrorCode(
        "address_in_use",
        Kind.CONFLICT,
        "the address and port to serve on are taken or not ours to use",
        in_api=False,
    ),
    ErrorCode("backup_exists", Kind.CONFLICT, "the backup's file is there already", in_api=False),
    ErrorCode(
        "backup_corrupt",
        Kind.CONFLICT,
        "a backup's checksum or manifest does not match its file",
        in_api=False,
    ),
    ErrorCode(
        "schema_newer",
        Kind.CONFLICT,
        "the backup's schema is newer than this code knows",
        in_api=False,
    ),
    ErrorCode(
        "database_not_empty",
        Kind.CONFLICT,
        "a restore would overwrite a database that holds content",
        in_api=False,
    ),
    ErrorCode("backup_failed", Kind.CONFLICT, "pg_dump or pg_restore said no", in_api=False),
    ErrorCode(
        "tool_missing", Kind.CONFLICT, "a program the command needs is not on PATH", in_api=False
    ),
    ErrorCode(
        "site_unreachable",
        Kind.CONFLICT,
        "masthead mcp got no MCP answer from the site: its address, edge secret or token",
        in_api=False,
    ),
    ErrorCode("handler_error", Kind.TASK, "the task's handler raised"),
    ErrorCode("timeout", Kind.TASK, "the task's handler ran past its timeout"),
    ErrorCode("permanent_error", Kind.TASK, "the handler said its work can never succeed"),
    ErrorCode("worker_crash_loop", Kind.TASK, "the task's runs kept being lost with their workers"),
    ErrorCode("run_superseded", Kind.TASK, "the run no longer holds its task"),
    ErrorCode("not_due_yet", Kind.TASK, "a scheduled publish ran before its time"),
    # --- webhooks ---
    ErrorCode(
        "webhook_target_refused",
        Kind.INPUT,
        "a webhook's URL is refused (scheme, credentials, or an address it resolves to)",
    ),
    ErrorCode("webhook_gone", Kind.TASK, "the receiver answered 410: the webhook is paused"),
    ErrorCode("webhook_budget_spent", Kind.TASK, "a delivery kept failing past its retry budget"),
)
"""Every code, once. A code not listed here cannot be raised (see `MastheadError`)."""


def code_kind(code: str) -> Kind:
    return CODES[code].kind


class MastheadError(Exception):
    """Base of every error Masthead raises on purpose; `code` is one of `CODES`."""

    code = "internal_error"
    free_codes: ClassVar[bool] = False
    """True where callers choose their own codes (a task handler's permanent error)."""

    def __init__(self, detail: str = "", code: str | None = None, **extra: Any) -> None:
        if code is not None:
            self.code = code
        assert self.free_codes or self.code in CODES, f"unregistered error code {self.code!r}"
        super().__init__(detail or self.code)
        self.detail = detail or self.code
        self.extra = extra

    @property
    def kind(self) -> Kind:
        return CODES[self.code].kind if self.code in CODES else Kind.TASK


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


class PreconditionRequired(MastheadError):
    """A change to a post must say which revision it was based on (`If-Match`)."""

    code = "precondition_required"


class BodyTooLarge(MastheadError):
    code = "payload_too_large"


class UnsupportedMediaType(MastheadError):
    code = "unsupported_media_type"


class DatabaseUnavailable(MastheadError):
    """The database cannot be used now: busy past its timeout, gone, or without the schema."""

    code = "database_unavailable"


class NotMigrated(DatabaseUnavailable):
    """The database answers, but holds no schema (created anew, or never migrated)."""

    code = "not_migrated"


class InsecureConfiguration(MastheadError):
    code = "insecure_configuration"


class TargetNotAllowed(MastheadError):
    """A webhook target the SSRF guard refuses; the detail says why."""

    code = "webhook_target_refused"


class BackupRefused(MastheadError):
    """A backup or restore that would lose or corrupt data, or cannot be made here."""

    code = "backup_exists"


class UnusablePath(MastheadError):
    """A command's file or folder is missing, of the wrong sort, or cannot be written."""

    code = "unusable_path"


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
