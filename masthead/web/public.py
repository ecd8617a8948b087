"""The public site's routes: each reads page data, renders it, answers conditionally."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from masthead.actions.site_settings import configured_site, current_site
from masthead.domain.listing import PageOutOfRange
from masthead.errors import NotFound
from masthead.site import pages, urls
from masthead.site.pages import SiteInfo
from masthead.site.render import STYLESHEET, FeedInfo
from masthead.store import public, slugs
from masthead.store.engine import reading
from masthead.web.conditional import conditional_response
from masthead.web.state import AppState, app_state

__all__ = ["HTML", "not_found_body", "public_routes", "unavailable_body"]

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
FEED_SIZE = 20
Found = TypeVar("Found")


@contextmanager
def _site(request: Request) -> Iterator[tuple[Connection, SiteInfo]]:
    """One read transaction, and the site's settings as they are in it."""
    state = app_state(request)
    with reading(state.engine) as connection:
        yield connection, current_site(connection, state.settings)


def not_found_body(state: AppState) -> str:
    try:
        with reading(state.engine) as connection:
            site = current_site(connection, state.settings)
    except OperationalError:  # the 404 must not depend on the database being there
        site = configured_site(state.settings)
    return state.renderer.not_found(site)


def unavailable_body(state: AppState) -> str:
    return state.renderer.unavailable(configured_site(state.settings))


def _page_number(request: Request) -> int:
    number: int = request.path_params.get("number", 1)
    return number


def _listing(request: Request, build: pages.ListingBuilder) -> Response:
    if request.path_params.get("number") == 1:  # `/page/1/` is not canonical
        return RedirectResponse(request.url.path.rsplit("page/", 1)[0], status_code=301)
    with _site(request) as (connection, site):
        try:
            page = build(connection, site)
        except PageOutOfRange as error:
            raise NotFound("no such page") from error
    body = app_state(request).renderer.listing(site, page)
    return conditional_response(request, body, HTML, last_modified=page.last_modified)


def index(request: Request) -> Response:
    number = _page_number(request)
    return _listing(request, lambda connection, site: pages.index_listing(connection, site, number))


def tag(request: Request) -> Response:
    slug, number = request.path_params["slug"], _page_number(request)
    return _listing(
        request, lambda connection, site: pages.tag_listing(connection, site, slug, number)
    )


def author(request: Request) -> Response:
    slug, number = request.path_params["slug"], _page_number(request)
    return _listing(
        request, lambda connection, site: pages.author_listing(connection, site, slug, number)
    )


def post(request: Request) -> Response:
    slug = request.path_params["slug"]
    with _site(request) as (connection, site):
        try:
            page = pages.post_page(connection, site, slug)
        except NotFound:
            moved_to = _moved(connection, slug)
            if moved_to is None:
                raise
            return RedirectResponse(urls.post_url(moved_to), status_code=301)
    body = app_state(request).renderer.post(site, page)
    return conditional_response(request, body, HTML, last_modified=page.post.updated_at)


def _moved(connection: Connection, old_slug: str) -> str | None:
    """The live slug of a post that used to be at `old_slug`."""
    post_id = slugs.redirect_target(connection, old_slug)
    return None if post_id is None else public.find_published_slug(connection, post_id)


def _feed(
    request: Request,
    find: Callable[[Connection, SiteInfo], tuple[FeedInfo, public.Filter]],
) -> Response:
    with _site(request) as (connection, site):
        feed, which = find(connection, site)
        posts = public.list_published(connection, which, limit=FEED_SIZE)
    entries = [pages.post_page_for(post, site) for post in posts]
    body = app_state(request).renderer.feed(site, feed, entries)
    last = max((post.updated_at for post in posts), default=None)
    return conditional_response(request, body, ATOM, last_modified=last)


def _required(found: Found | None, what: str) -> Found:
    if found is None:
        raise NotFound(f"no {what}")
    return found


def site_feed(request: Request) -> Response:
    return _feed(
        request, lambda _c, site: (FeedInfo(site.title, "/feed.xml", "/"), public.Filter())
    )


def tag_feed(request: Request) -> Response:
    slug = request.path_params["slug"]

    def find(connection: Connection, site: SiteInfo) -> tuple[FeedInfo, public.Filter]:
        tag_id, found = _required(public.published_tag(connection, slug), f"tag {slug!r}")
        title = f"{found.name} · {site.title}"
        return FeedInfo(title, urls.tag_feed_url(slug), urls.tag_url(slug)), public.Filter(tag_id)

    return _feed(request, find)


def author_feed(request: Request) -> Response:
    slug = request.path_params["slug"]

    def find(connection: Connection, site: SiteInfo) -> tuple[FeedInfo, public.Filter]:
        staff_id, member = _required(public.published_author(connection, slug), f"author {slug!r}")
        info = FeedInfo(
            f"{member.name} · {site.title}", urls.author_feed_url(slug), urls.author_url(slug)
        )
        return info, public.Filter(staff_id=staff_id)

    return _feed(request, find)


def sitemap(request: Request) -> Response:
    with _site(request) as (connection, site):
        posts = public.list_published(connection, limit=50_000)
        tag_groups, author_groups = public.sitemap_groups(connection)
    body = app_state(request).renderer.sitemap(site, posts, tag_groups, author_groups)
    last: datetime | None = max((post.updated_at for post in posts), default=None)
    return conditional_response(request, body, XML, last_modified=last)


def robots(request: Request) -> Response:
    with _site(request) as (_connection, site):
        body = app_state(request).renderer.robots(site)
    return conditional_response(request, body, "text/plain")


async def stylesheet(request: Request) -> Response:
    response = conditional_response(request, STYLESHEET, "text/css; charset=utf-8")
    if request.query_params.get("v"):
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def healthz(request: Request) -> Response:
    """`ok` while the database answers; 503 when it does not."""
    headers = {"Cache-Control": "no-store"}
    try:
        with reading(app_state(request).engine) as connection:
            public.count_published(connection)
    except OperationalError:
        return PlainTextResponse("database unavailable\n", status_code=503, headers=headers)
    return PlainTextResponse("ok\n", headers=headers)


def public_routes() -> list[BaseRoute]:
    return [
        Route("/", index),
        Route("/page/{number:int}/", index),
        Route("/tag/{slug}/", tag),
        Route("/tag/{slug}/page/{number:int}/", tag),
        Route("/tag/{slug}/feed.xml", tag_feed),
        Route("/author/{slug}/", author),
        Route("/author/{slug}/page/{number:int}/", author),
        Route("/author/{slug}/feed.xml", author_feed),
        Route("/posts/{slug}/", post),
        Route("/feed.xml", site_feed),
        Route("/sitemap.xml", sitemap),
        Route("/robots.txt", robots),
        Route("/healthz", healthz),
        Route("/static/site.css", stylesheet),
    ]
