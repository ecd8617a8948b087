"""The public site's routes, one per kind of page in the page table, `/healthz` and `/readyz`."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from masthead.actions.health import check_database, is_migrated
from masthead.actions.public_site import PublicSite
from masthead.actions.redirects import moved_to
from masthead.domain.pages import Page, Redirect
from masthead.web.conditional import conditional_response
from masthead.web.database import DATABASE_AWAY, request_unit
from masthead.web.negotiation import MARKDOWN_VARIANT, page_variant
from masthead.web.state import app_state

__all__ = ["error_page", "not_found_page", "old_address", "public_routes"]

NEGOTIATED = {"post": "post_markdown"}
"""Pages that answer `Accept: text/markdown` with another kind of page (`Vary: Accept`)."""


def _endpoint(name: str, *, dynamic: bool) -> Callable[[Request], Response]:
    negotiated = name in NEGOTIATED

    def answer(request: Request) -> Response:
        site = app_state(request).site
        kind = name
        if negotiated and page_variant(request) == MARKDOWN_VARIANT:
            kind = NEGOTIATED[name]
        params = dict(request.path_params)
        if dynamic:
            params["query"] = request.query_params
        with request_unit(request).transaction() as connection:
            found = site.answer(connection, kind, params)
        if isinstance(found, Redirect):
            response: Response = RedirectResponse(found.location, status_code=301)
        elif dynamic:
            response = Response(found.body, media_type=found.media_type, headers=NO_STORE)
        else:
            response = conditional_response(request, found)
        if negotiated:
            response.headers["Vary"] = "Accept"
        return response

    answer.__name__ = name
    return answer


def not_found_page(site: PublicSite, request: Request) -> Page:
    """The public 404 page: the same bytes for any unknown address, database or not."""
    try:
        with request_unit(request).transaction() as connection:
            return site.not_found(connection)
    except DATABASE_AWAY:
        return site.not_found(None)


def old_address(request: Request) -> str | None:
    """Where an old address of an imported site now lives (asked only when no page of the
    page table answers), or None; with the database away, None (the 404 follows)."""
    if request.method not in {"GET", "HEAD"}:
        return None
    try:
        with request_unit(request).transaction() as connection:
            return moved_to(connection, request.scope["path"])
    except DATABASE_AWAY:
        return None


def error_page(site: PublicSite, request: Request, status: int) -> Response:
    """A page with no body of its own (404, 503) as HTML, never cached."""
    page = not_found_page(site, request) if status == 404 else site.unavailable()
    return Response(page.body, status_code=status, media_type=page.media_type, headers=NO_STORE)


NO_STORE = {"Cache-Control": "no-store"}


def healthz(request: Request) -> Response:
    """`ok` while the database answers; 503 when it does not."""
    try:
        with request_unit(request).transaction() as connection:
            check_database(connection)
    except DATABASE_AWAY:
        return PlainTextResponse("database unavailable\n", status_code=503, headers=NO_STORE)
    return PlainTextResponse("ok\n", headers=NO_STORE)


def readyz(request: Request) -> Response:
    """`ready` while the database answers and its schema is the newest; 503 otherwise."""
    try:
        with request_unit(request).transaction() as connection:
            ready = is_migrated(connection)
    except DATABASE_AWAY:
        ready = False
    if not ready:
        return PlainTextResponse("not ready\n", status_code=503, headers=NO_STORE)
    return PlainTextResponse("ready\n", headers=NO_STORE)


def public_routes(site: PublicSite) -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route(pattern, _endpoint(name, dynamic=name in site.dynamic), name=name)
        for name, pattern in site.routes
    ]
    routes.append(Route("/healthz", healthz))
    routes.append(Route("/readyz", readyz))
    return routes
