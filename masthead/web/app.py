"""The application factory: `create_app(settings)` builds the whole site."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match

from masthead.errors import NotFound
from masthead.settings import Settings
from masthead.site.render import Renderer
from masthead.store.engine import open_engine
from masthead.web.public import HTML, public_routes
from masthead.web.state import SiteState, site_info, site_state

__all__ = ["create_app"]


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The public site (and, later, the internal API) on one ASGI app."""
    app = FastAPI(
        title="Masthead",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    site = site_info(settings)
    app.state.masthead = SiteState(
        settings=settings,
        engine=engine or open_engine(settings.database_url),
        site=site,
        renderer=Renderer(site),
    )
    app.router.redirect_slashes = False  # our 404 handler answers 301, not 307
    app.router.routes.extend(public_routes())
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(HTTPException, _http_error)
    return app


def not_found_page(request: Request) -> Response:
    """The public 404: the same bytes for any unknown address."""
    body = site_state(request).renderer.not_found()
    return Response(body, status_code=404, media_type=HTML, headers={"Cache-Control": "no-store"})


async def _not_found(request: Request, _error: Exception) -> Response:
    canonical = _canonical_path(request)
    if canonical is not None:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(canonical + query, status_code=301)
    return not_found_page(request)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        return await _not_found(request, error)
    return Response(status_code=error.status_code, headers=error.headers)


def _canonical_path(request: Request) -> str | None:
    """Lowercase, with a trailing slash: where an almost-right address really lives."""
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
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return candidate
    return None
