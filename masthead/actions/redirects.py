"""Old addresses: a path the site used to answer at, redirecting to the post it became.

Import makes them (`masthead import --from …`); an admin lists, adds and removes them
(`masthead redirects`, `/api/v1/redirects`). Public serving asks `moved_to` only when no
page of the page table answers a path, so a page always wins over an old address.
"""

from __future__ import annotations

from sqlalchemy import Connection

from masthead.actions.auth import require_admin
from masthead.actions.context import Call, record_audit
from masthead.domain.permissions import Actor
from masthead.domain.redirects import PathRedirect, old_path
from masthead.errors import FieldProblem, InvalidInput, NotFound
from masthead.site import urls
from masthead.site.taken import is_page_path
from masthead.store import path_redirects as store
from masthead.store.posts import get_post_id
from masthead.store.public import find_published_slug, live_slugs

__all__ = [
    "add_path_redirect",
    "checked_old_path",
    "list_redirects",
    "moved_to",
    "old_addresses",
    "remove_path_redirect",
    "save_imported_redirect",
]


def checked_old_path(text: str) -> str:
    """The old path as stored; raises ValueError for one that is not usable, or that is
    an address of the site's own pages (a page always wins: such a redirect never runs)."""
    path = old_path(text)
    if is_page_path(path):
        raise ValueError(f"{path} is an address of the site's own pages")
    return path


def list_redirects(connection: Connection, actor: Actor) -> list[PathRedirect]:
    require_admin(actor)
    return [
        PathRedirect(path, slug, urls.post_url(slug), created)
        for path, slug, created in store.list_path_redirects(connection)
    ]


def add_path_redirect(connection: Connection, call: Call, path: str, slug: str) -> PathRedirect:
    """Redirect `path` to the post `slug` (replacing where it pointed before)."""
    require_admin(call.actor)
    try:
        checked = checked_old_path(path)
    except ValueError as error:
        raise InvalidInput([FieldProblem("path", str(error))]) from None
    post_id = get_post_id(connection, slug)
    if post_id is None:
        raise NotFound(f"no post {slug!r}")
    if store.save_path_redirect(connection, checked, post_id, call.at):
        record_audit(connection, call, "redirect.add", "redirect", checked, slug=slug)
    return PathRedirect(checked, slug, urls.post_url(slug), call.at)


def save_imported_redirect(connection: Connection, call: Call, path: str, post_id: int) -> bool:
    """Import's redirect (its path checked already); True when anything was written."""
    written = store.save_path_redirect(connection, path, post_id, call.at)
    if written:
        record_audit(connection, call, "redirect.add", "redirect", path, post_id=post_id)
    return written


def remove_path_redirect(connection: Connection, call: Call, path: str) -> None:
    require_admin(call.actor)
    try:
        checked = old_path(path)
    except ValueError as error:
        raise InvalidInput([FieldProblem("path", str(error))]) from None
    if not store.delete_path_redirect(connection, checked):
        raise NotFound(f"no redirect from {checked}")
    record_audit(connection, call, "redirect.remove", "redirect", checked)


def old_addresses(connection: Connection) -> dict[str, str]:
    """Every old path whose post is live, and the URL it answers 301 with (static export
    writes these as redirects; live serving asks `moved_to`)."""
    live = live_slugs(connection)
    return {
        path: urls.post_url(live[post_id])
        for path, post_id in store.path_redirect_posts(connection).items()
        if post_id in live
    }


def moved_to(connection: Connection, path: str) -> str | None:
    """Where an old path now lives: the URL of its post, when the post is live. The exact
    path first, then the same with or without its trailing slash."""
    other = path[:-1] if path.endswith("/") else path + "/"
    for candidate in (path, other):
        post_id = store.path_redirect_target(connection, candidate)
        if post_id is not None:
            slug = find_published_slug(connection, post_id)
            return None if slug is None else urls.post_url(slug)
    return None
