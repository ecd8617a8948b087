"""The public site's routes, one per kind of page in the page table, `/healthz` and `/readyz`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from anyio import CapacityLimiter
from anyio.to_thread import run_sync
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from masthead.actions.health import check_database, is_migrated
from masthead.actions.public_site import PublicSite
from masthead.actions.redirects import moved_to
from masthead.domain.pages import Page, Redirect
from masthead.web.cached_pages import cache_key
from masthead.web.conditional import conditional_response, is_current
from masthead.web.database import DATABASE_AWAY, request_unit
from masthead.web.negotiation import MARKDOWN_VARIANT, page_variant
from masthead.web.render_cache import Entry, page_entry
from masthead.web.state import app_state

__all__ = ["error_page", "not_found_page", "old_address", "on_page_thread", "public_routes"]

T = TypeVar("T")

NEGOTIATED = {"post": "post_markdown"}
"""Pages that answer `Accept: text/markdown` with another kind of page (`Vary: Accept`)."""


def _endpoint(
    name: str, pattern: str, *, dynamic: bool
) -> Callable[[Request], Awaitable[Response]]:
    negotiated = name in NEGOTIATED
    vary = {"Vary": "Accept"} if negotiated else None

    def answer(request: Request) -> Response:
        state = app_state(request)
        site, cache = state.site, state.cache
        kind = name
        if negotiated and page_variant(request) == MARKDOWN_VARIANT:
            kind = NEGOTIATED[name]
        params = dict(request.path_params)
        key = None
        if dynamic:
            params["query"] = request.query_params
        elif cache.enabled:
            key = cache_key(request.scope, request.headers.get("accept", ""))
        epoch = cache.epoch  # before the read: a change after it keeps this page out
        unit = request_unit(request)
        with unit.transaction() as connection:
            found = site.answer(connection, kind, params)
        unit.close()  # the page's one read is done: its connection goes back from this thread
        if isinstance(found, Redirect):
            response: Response = RedirectResponse(found.location, status_code=301)
        elif dynamic:
            response = Response(found.body, media_type=found.media_type, headers=NO_STORE)
        elif key is None or not found.found:
            response = conditional_response(request, found)
        else:
            entry = page_entry(found, pattern, vary)
            cache.put(key, entry, epoch)
            return _from_entry(request, entry)
        if vary:
            response.headers.update(vary)
        return response

    async def rendered(request: Request) -> Response:
        return await on_page_thread(app_state(request).page_threads, answer, request)

    rendered.__name__ = name
    return rendered


async def on_page_thread(threads: CapacityLimiter, work: Callable[..., T], *args: object) -> T:
    """`work(*args)` on one of the few threads that render pages (`Settings.page_threads`)."""
    return await run_sync(work, *args, limiter=threads)


def _from_entry(request: Request, entry: Entry) -> Response:
    """A miss answers with what the cache keeps, as a hit would: a 200, or a 304."""
    if is_current(request.headers, entry.etag, entry.last_modified):
        return Response(status_code=304, headers=_decoded(entry.not_modified_headers))
    return Response(entry.body, headers=_decoded(entry.headers))


def _decoded(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}


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
        Route(pattern, _endpoint(name, pattern, dynamic=name in site.dynamic), name=name)
        for name, pattern in site.routes
    ]
    routes.append(Route("/healthz", healthz))
    routes.append(Route("/readyz", readyz))
    return routes
