"""Errors as `application/problem+json` (RFC 9457): every error mapped here, once.

A problem's status comes from its code's kind (`masthead.errors.CODES`), so a code has
one status wherever it is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from masthead.errors import CODES, InvalidInput, Kind, MastheadError

__all__ = [
    "PROBLEM_CODES",
    "PROBLEM_JSON",
    "RETRY_AFTER_SECONDS",
    "STATUS_OF_KIND",
    "install_problem_handlers",
    "problem",
    "status_of",
    "unavailable",
]

log = logging.getLogger("masthead.api")
PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5
"""What a 503 asks the client to wait before trying again."""

STATUS_OF_KIND: Mapping[Kind, int] = MappingProxyType(
    {
        Kind.INPUT: 422,
        Kind.TOO_LARGE: 413,
        Kind.UNSUPPORTED_MEDIA: 415,
        Kind.UNAUTHENTICATED: 401,
        Kind.FORBIDDEN: 403,
        Kind.NOT_FOUND: 404,
        Kind.METHOD_NOT_ALLOWED: 405,
        Kind.CONFLICT: 409,
        Kind.STALE: 412,
        Kind.PRECONDITION: 428,
        Kind.RATE_LIMITED: 429,
        Kind.INTERNAL: 500,
        Kind.UNAVAILABLE: 503,
    }
)
"""The HTTP status of each kind of error; kinds missing here never reach the API."""

PROBLEM_CODES: Mapping[str, int] = MappingProxyType(
    {
        code: STATUS_OF_KIND[entry.kind]
        for code, entry in CODES.items()
        if entry.in_api and entry.kind in STATUS_OF_KIND
    }
)
"""Every `code` the API answers with, and its status (docs/api.md lists the same)."""


def status_of(code: str) -> int:
    return STATUS_OF_KIND.get(CODES[code].kind, 500) if code in CODES else 500


def problem(code: str, detail: str, /, **extra: Any) -> JSONResponse:
    """The problem answer for `code`; its status follows from the code's kind."""
    status = status_of(code)
    body = {
        "type": f"urn:masthead:problem:{code}",
        "title": code.replace("_", " "),
        "status": status,
    }
    body.update(code=code, detail=detail, **extra)
    headers = {"WWW-Authenticate": 'Bearer realm="masthead"'} if status == 401 else {}
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _masthead_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, MastheadError)
    extra: dict[str, Any] = dict(error.extra)
    if isinstance(error, InvalidInput):
        extra["errors"] = [
            {"field": item.field, "message": item.message, "code": item.code}
            for item in error.problems
        ]
    return problem(error.code, error.detail, **extra)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in {"body", "query", "path", "header"}]
    return ".".join(parts) or str(loc[0] if loc else "request")


async def _validation_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"field": _location(tuple(item["loc"])), "message": item["msg"], "code": item["type"]}
        for item in error.errors()
    ]
    return problem("validation_failed", "the request does not match its schema", errors=errors)


async def _http_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 405:
        response = problem("method_not_allowed", "this address does not take that method")
        response.headers.update(error.headers or {})
        return response
    if error.status_code == 400:
        return problem("validation_failed", "the body is not valid JSON")
    return problem("not_found", "there is nothing at this address")


def unavailable(error: Exception) -> JSONResponse:
    """The 503 problem for a database that is busy, away, or without its tables."""
    if isinstance(error, MastheadError):
        return problem(error.code, error.detail)
    log.warning("database unavailable", exc_info=error)
    return problem("database_unavailable", "the database is busy or away; retry soon")


async def _database_unavailable(_request: Request, error: Exception) -> Response:
    return unavailable(error)


async def _integrity_error(_request: Request, _error: Exception) -> Response:
    detail = "the change clashed with another one made at the same time; read again and retry"
    return problem("conflict", detail)


async def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return problem("internal_error", "something went wrong on our side; it was logged")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MastheadError, _masthead_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
