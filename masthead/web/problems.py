"""Errors as `application/problem+json` (RFC 9457): every error mapped here, once."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from masthead.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    MastheadError,
    NotFound,
    StaleRevision,
    Unauthenticated,
)

__all__ = [
    "PROBLEM_CODES",
    "BodyTooLarge",
    "PreconditionRequired",
    "UnsupportedMediaType",
    "install_problem_handlers",
    "problem",
]

log = logging.getLogger("masthead.api")
PROBLEM_JSON = "application/problem+json"


class BodyTooLarge(MastheadError):
    code = "payload_too_large"


class UnsupportedMediaType(MastheadError):
    code = "unsupported_media_type"


class PreconditionRequired(MastheadError):
    """A change to a post must say which revision it was based on (`If-Match`)."""

    code = "precondition_required"


_STATUS: list[tuple[type[MastheadError], int]] = [
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (InvalidTransition, 409),
    (Conflict, 409),
    (StaleRevision, 412),
    (PreconditionRequired, 428),
    (BodyTooLarge, 413),
    (UnsupportedMediaType, 415),
    (InvalidInput, 422),
]

PROBLEM_CODES: dict[str, int] = {
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "invalid_transition": 409,
    "slug_taken": 409,
    "tag_in_use": 409,
    "conflict": 409,
    "idempotency_in_flight": 409,
    "unique_key_pending": 409,
    "stale_revision": 412,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "invalid_input": 422,
    "invalid_idempotency_key": 422,
    "idempotency_key_reused": 422,
    "validation_failed": 422,
    "precondition_required": 428,
    "internal_error": 500,
    "database_unavailable": 503,
}
"""Every `code` the API answers with, and its status (docs/api.md lists the same)."""


def problem(status: int, code: str, detail: str, /, **extra: Any) -> JSONResponse:
    body = {
        "type": f"urn:masthead:problem:{code}",
        "title": code.replace("_", " "),
        "status": status,
    }
    body.update(code=code, detail=detail, **extra)
    headers = {"WWW-Authenticate": 'Bearer realm="masthead"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _masthead_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, MastheadError)
    status = next((code for kind, code in _STATUS if isinstance(error, kind)), 400)
    extra: dict[str, Any] = dict(error.extra)
    if isinstance(error, InvalidInput):
        extra["errors"] = [
            {"field": item.field, "message": item.message, "code": item.code}
            for item in error.problems
        ]
    return problem(status, error.code, error.detail, **extra)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in {"body", "query", "path", "header"}]
    return ".".join(parts) or str(loc[0] if loc else "request")


async def _validation_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"field": _location(tuple(item["loc"])), "message": item["msg"], "code": item["type"]}
        for item in error.errors()
    ]
    return problem(422, "validation_failed", "the request does not match its schema", errors=errors)


async def _http_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 405:
        response = problem(405, "method_not_allowed", "this address does not take that method")
        response.headers.update(error.headers or {})
        return response
    if error.status_code == 400:
        return problem(422, "validation_failed", "the body is not valid JSON")
    return problem(404, "not_found", "there is nothing at this address")


async def _database_unavailable(_request: Request, _error: Exception) -> Response:
    log.warning("database unavailable", exc_info=_error)
    response = problem(503, "database_unavailable", "the database is busy or away; retry soon")
    response.headers["Retry-After"] = "5"
    return response


async def _integrity_error(_request: Request, _error: Exception) -> Response:
    detail = "the change clashed with another one made at the same time; read again and retry"
    return problem(409, "conflict", detail)


async def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(500, "internal_error", "something went wrong on our side; it was logged")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MastheadError, _masthead_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
