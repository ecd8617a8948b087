"""The API's OpenAPI document, with every problem answer declared (so clients and
schema checkers know the shape of each error)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict
from starlette.responses import JSONResponse

from masthead.web.api.deps import CallDep

__all__ = ["install_openapi"]

PROBLEM_JSON = "application/problem+json"
PROBLEM_ANSWERS = {
    "401": "No valid staff token: missing, unknown, revoked, or its owner is suspended",
    "403": "The token's role may not do this",
    "404": "Nothing at this address, or nothing this token may see",
    "405": "This address does not take that method",
    "409": "A clash: invalid_transition, slug_taken, tag_in_use, idempotency_in_flight, "
    "unique_key_pending, conflict",
    "412": "If-Match names a revision that is no longer the current one (stale_revision)",
    "413": "The body is larger than the limit",
    "415": "The body is not JSON",
    "422": "The request, or a value in it, is not acceptable (each field is listed)",
    "428": "A change to a post without If-Match",
    "429": "Past a rate limit (rate_limited): the token's calls, or the address's failed "
    "authentications; retry after Retry-After seconds",
    "503": "The database is busy or away; retry after Retry-After seconds",
}


WRITE_METHODS = {"post", "put", "patch", "delete"}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes the write safe to retry: the same key and body replay the first "
    "response (with `Idempotent-Replayed: true`); kept per token for at least 24 hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}


class FieldError(BaseModel):
    field: str
    message: str
    code: str


class Problem(BaseModel):
    """An RFC 9457 problem, with Masthead's stable `code`; some codes add fields."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: list[FieldError] | None = None


def _document(api: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=api.title,
        version=api.version,
        description=api.description,
        routes=api.routes,
        servers=api.servers,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    answer = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for item in document["paths"].values():
        for method, operation in item.items():
            if method in WRITE_METHODS:
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            for status, description in PROBLEM_ANSWERS.items():
                operation["responses"][status] = {
                    "description": description,
                    "content": {PROBLEM_JSON: answer},
                }
    return document


def install_openapi(api: FastAPI) -> None:
    """`GET /openapi.json`, for staff: the edge secret and a valid token, like every call."""

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = _document(api)
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]

    @api.get("/openapi.json", include_in_schema=False)
    def openapi_document(_call: CallDep) -> JSONResponse:
        return JSONResponse(openapi())
