"""The application factory: `create_app(settings)` builds the public site and the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp

from masthead.actions.edge import MIN_EDGE_SECRET_LENGTH, stored_digests
from masthead.actions.invalidation import listen
from masthead.actions.public_site import PublicSite
from masthead.actions.setup import open_database
from masthead.actions.webhook_secrets import require_webhook_key
from masthead.errors import InsecureConfiguration, NotFound
from masthead.settings import Settings
from masthead.store.engine import reading
from masthead.web.api.app import API_PREFIX, create_api
from masthead.web.api.limits import BodyLimits
from masthead.web.cached_pages import CachedPages
from masthead.web.database import DATABASE_AWAY, RequestDatabase
from masthead.web.edge import EdgeGuard, is_internal
from masthead.web.headers import SecurityHeaders
from masthead.web.hygiene import RefuseControlCharacters
from masthead.web.idempotency import Idempotency
from masthead.web.mcp import McpEndpoint, WithMcp
from masthead.web.problems import RETRY_AFTER_SECONDS, problem
from masthead.web.public import error_page, old_address, on_page_thread, public_routes
from masthead.web.rate_limits import RateLimits
from masthead.web.render_cache import EventFollower, RenderCache
from masthead.web.request_log import RequestLog
from masthead.web.state import AppState, app_state
from masthead.web.waiting import ReceiptWait

__all__ = ["create_app"]

Responder = Callable[[Request], Awaitable[Response]]


def create_app(settings: Settings, engine: Engine | None = None) -> ASGIApp:
    """The public site and, behind the edge guard, the internal API, as one ASGI app."""
    engine = engine or open_database(settings)
    _refuse_weak_production(settings, engine)
    cache = RenderCache(settings.render_cache_bytes)
    state = AppState(settings=settings, site=PublicSite(settings), cache=cache)
    site = FastAPI(
        title="Masthead",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    site.state.masthead = state
    site.router.redirect_slashes = False  # our 404 handler answers 301, not 307
    site.router.routes.extend(public_routes(state.site))
    api = ReceiptWait(Idempotency(create_api(state), settings))
    internal = WithMcp(api, McpEndpoint(settings))
    site.mount(API_PREFIX, RateLimits(BodyLimits(internal, settings.max_body_bytes), settings))
    site.add_exception_handler(NotFound, _not_found)
    site.add_exception_handler(HTTPException, _http_error)
    for away in DATABASE_AWAY:
        site.add_exception_handler(away, _unavailable)
    not_found = _not_found_responder(state)
    guarded = RefuseControlCharacters(site, _refusal(not_found))
    edge = EdgeGuard(guarded, settings, not_found)
    app = RequestLog(
        SecurityHeaders(RequestDatabase(edge, settings, engine)), state.metrics.observe
    )
    if not cache.enabled:
        return app
    listen(cache)  # changes committed in this process
    state.metrics.watch_cache(cache)
    return CachedPages(app, cache, EventFollower(cache, engine), state.metrics.observe)


def _refuse_weak_production(settings: Settings, engine: Engine) -> None:
    """In production, the internal API must sit behind a strong edge secret, and webhook
    secrets must be encrypted with a key of the site's own."""
    if settings.env != "production":
        return
    strong = [s for s in settings.edge_secret_list if len(s) >= MIN_EDGE_SECRET_LENGTH]
    if not strong:
        with reading(engine) as connection:
            strong = stored_digests(connection)
    if strong:
        require_webhook_key(settings)
        return
    raise InsecureConfiguration(
        "refusing to start in production without an edge secret: set MASTHEAD_EDGE_SECRETS "
        f"to a secret of at least {MIN_EDGE_SECRET_LENGTH} characters"
    )


def _refusal(not_found: Responder) -> Responder:
    """An address with a control character: the API says why; the public site, 404."""

    async def refuse(request: Request) -> Response:
        if is_internal(request.url.path):  # past the edge guard: an API caller
            return problem("validation_failed", "the address holds a control character")
        return await not_found(request)

    return refuse


def _not_found_responder(state: AppState) -> Responder:
    """The public 404: the same bytes for any unknown address."""

    async def not_found(request: Request) -> Response:
        return await on_page_thread(state.page_threads, error_page, state.site, request, 404)

    return not_found


async def _not_found(request: Request, _error: Exception) -> Response:
    if is_internal(request.url.path):  # past the edge guard: an API caller, who reads JSON
        return problem("not_found", "there is nothing at this address")
    moved = await on_page_thread(app_state(request).page_threads, old_address, request)
    if moved is not None:
        return RedirectResponse(moved, status_code=301)
    canonical = _canonical_path(request)
    if canonical is not None:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(canonical + query, status_code=301)
    return await _not_found_responder(app_state(request))(request)


async def _unavailable(request: Request, _error: Exception) -> Response:
    """The database is locked past its timeout, busy, or gone: say so, and when to come back."""
    state = app_state(request)
    response = await on_page_thread(state.page_threads, error_page, state.site, request, 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        return await _not_found(request, error)
    return Response(status_code=error.status_code, headers=error.headers)


def _canonical_path(request: Request) -> str | None:
    """Lowercase, with a trailing slash: where an almost-right public address really lives."""
    if request.method not in {"GET", "HEAD"}:
        return None
    path = request.url.path
    candidate = path.lower()
    if not candidate.endswith("/") and "." not in candidate.rsplit("/", 1)[-1]:
        candidate += "/"
    if candidate == path:
        return None
    scope = {**request.scope, "path": candidate}
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.matches(scope)[0] is Match.FULL:
            return candidate
    return None
