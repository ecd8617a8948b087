"""ETag / Last-Modified and 304s for every public response."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import Response

from masthead.domain.pages import Page

__all__ = ["conditional_response", "is_current", "page_headers"]

CACHE_CONTROL = "public, max-age=0, must-revalidate"
CACHE_FOREVER = "public, max-age=31536000, immutable"
VERSION_PARAMETER = "v"  # `?v=DIGEST`: an address that changes whenever the content does


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(header: str, etag: str) -> bool:
    candidates = {value.strip().removeprefix("W/") for value in header.split(",")}
    return "*" in candidates or etag in candidates


def _not_modified_since(header: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= since


def page_headers(page: Page, content: bytes, *, versioned: bool = False) -> dict[str, str]:
    """The validators and caching rule of a page's answer (a 200's and its 304's)."""
    headers = {
        "ETag": _etag(content),
        "Cache-Control": CACHE_FOREVER if versioned else CACHE_CONTROL,
    }
    if page.last_modified is not None:
        headers["Last-Modified"] = format_datetime(page.last_modified.astimezone(UTC), usegmt=True)
    return headers


def conditional_response(request: Request, page: Page) -> Response:
    """The full response, or a bodiless 304 when the client's copy is current."""
    content = page.body.encode()
    versioned = bool(page.immutable and request.query_params.get(VERSION_PARAMETER))
    headers = page_headers(page, content, versioned=versioned)
    if is_current(request.headers, headers["ETag"], page.last_modified):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=page.media_type, headers=headers)


def is_current(
    request_headers: Mapping[str, str], etag: str, last_modified: datetime | None
) -> bool:
    """Whether the client's copy (by If-None-Match, else If-Modified-Since) is this one."""
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        return _matches(if_none_match, etag)
    if_modified_since = request_headers.get("if-modified-since")
    return bool(
        if_modified_since
        and last_modified
        and _not_modified_since(if_modified_since, last_modified)
    )
