"""Refusals as tool errors: the structured content carries the API's stable `code`.

The same facts as the API's problem body (`code`, `detail`, and a code's extra fields:
`current_revision` for `stale_revision`, every gate result for `gates_failed`, each field
for `invalid_input` and `validation_failed`), plus the code's `kind`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from masthead.errors import CODES, InvalidInput, MastheadError

__all__ = ["refusal", "schema_refusal"]


def refusal(error: MastheadError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "kind": _kind(error.code), "detail": error.detail}
    body.update(error.extra)
    if isinstance(error, InvalidInput):
        body["errors"] = [
            {"field": item.field, "message": item.message, "code": item.code}
            for item in error.problems
        ]
    return body


def schema_refusal(error: ValidationError) -> dict[str, Any]:
    """Arguments that do not match the tool's input schema: each field, and why."""
    errors = [
        {
            "field": ".".join(str(part) for part in item["loc"]) or "arguments",
            "message": item["msg"],
            "code": item["type"],
        }
        for item in error.errors(include_url=False)
    ]
    detail = "; ".join(f"{item['field']}: {item['message']}" for item in errors)
    return {
        "code": "validation_failed",
        "kind": _kind("validation_failed"),
        "detail": f"the arguments do not match the tool's input schema: {detail}",
        "errors": errors,
    }


def _kind(code: str) -> str:
    return CODES[code].kind.value if code in CODES else "internal"
