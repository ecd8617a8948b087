"""The public site's routes: each reads page data, renders it, answers conditionally."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from masthead.domain.listing import PageOutOfRange
from masthead.errors import NotFound
from masthead.site import pages, urls
from masthead.site.render import STYLESHEET, FeedInfo
from masthead.store import public
from masthead.store.engine import reading
from masthead.web.conditional import conditional_response
from masthead.web.state import site_state

__all__ = ["public_routes"]

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
FEED_SIZE = 20


def _page_number(request: Request) -> int:
    number: int = request.path_params.get("number", 1)
    return number


def _first_page_redirect(request: Request) -> Response | None:
    """`/page/1/` is not canonical: send it to the listing's own URL."""
    if request.path_params.get("number") == 1:
        return RedirectResponse(request.url.path.rsplit("page/", 1)[0], status_code=301)
    return None


def index(request: Request) -> Response:
    return _listing(
        request,
        lambda connection, site: pages.index_listing(connection, site, _page_number(request)),
    )


def tag(request: Request) -> Response:
    slug = request.path_params["slug"]
    return _listing(
        request,
        lambda connection, site: pages.tag_listing(connection, site, slug, _page_number(request)),
    )


def author(request: Request) -> Response:
    slug = request.path_params["slug"]
    return _listing(
        request,
        lambda connection, site: pages.author_listing(
            connection, site, slug, _page_number(request)
        ),
    )


def _listing(request: Request, build: pages.ListingBuilder) -> Response:
    redirect = _first_page_redirect(request)
    if redirect is not None:
        return redirect
    state = site_state(request)
    try:
        with reading(state.engine) as connection:
            page = build(connection, state.site)
    except PageOutOfRange as error:
        raise NotFound("no such page") from error
    return conditional_response(
        request, state.renderer.listing(page), HTML, last_modified=page.last_modified
    )


def post(request: Request) -> Response:
    state = site_state(request)
    with reading(state.engine) as connection:
        page = pages.post_page(connection, state.site, request.path_params["slug"])
    return conditional_response(
        request, state.renderer.post(page), HTML, last_modified=page.post.updated_at
    )


def _feed(request: Request, feed: FeedInfo, which: public.Filter) -> Response:
    state = site_state(request)
    with reading(state.engine) as connection:
        posts = public.list_published(connection, which, limit=FEED_SIZE)
    entries = [pages.post_page_for(post, state.site) for post in posts]
    body = state.renderer.feed(feed, entries)
    last = max((post.updated_at for post in posts), default=None)
    return conditional_response(request, body, ATOM, last_modified=last)


def site_feed(request: Request) -> Response:
    site = site_state(request).site
    return _feed(request, FeedInfo(site.title, "/feed.xml", "/"), public.Filter())


def tag_feed(request: Request) -> Response:
    state, slug = site_state(request), request.path_params["slug"]
    with reading(state.engine) as connection:
        found = public.published_tag(connection, slug)
    if found is None:
        raise NotFound(f"no tag {slug!r}")
    tag_id, found_tag = found
    info = FeedInfo(
        f"{found_tag.name} · {state.site.title}", urls.tag_feed_url(slug), urls.tag_url(slug)
    )
    return _feed(request, info, public.Filter(tag_id=tag_id))


def author_feed(request: Request) -> Response:
    state, slug = site_state(request), request.path_params["slug"]
    with reading(state.engine) as connection:
        found = public.published_author(connection, slug)
    if found is None:
        raise NotFound(f"no author {slug!r}")
    staff_id, member = found
    info = FeedInfo(
        f"{member.name} · {state.site.title}", urls.author_feed_url(slug), urls.author_url(slug)
    )
    return _feed(request, info, public.Filter(staff_id=staff_id))


def sitemap(request: Request) -> Response:
    state = site_state(request)
    with reading(state.engine) as connection:
        posts = public.list_published(connection, limit=50_000)
        tag_groups, author_groups = public.sitemap_groups(connection)
    body = state.renderer.sitemap(posts, tag_groups, author_groups)
    last = max((post.updated_at for post in posts), default=None)
    return conditional_response(request, body, XML, last_modified=last)


async def robots(request: Request) -> Response:
    return conditional_response(request, site_state(request).renderer.robots(), "text/plain")


async def stylesheet(request: Request) -> Response:
    response = conditional_response(request, STYLESHEET, "text/css; charset=utf-8")
    if request.query_params.get("v"):
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def healthz(request: Request) -> Response:
    state = site_state(request)
    with reading(state.engine) as connection:
        public.count_published(connection)
    return PlainTextResponse("ok\n", headers={"Cache-Control": "no-store"})


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
