"""Old slugs of published posts: they keep answering with a redirect, and stay reserved."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from masthead.store.schema import posts, published_posts, slug_redirects

__all__ = ["add_redirect", "redirect_target", "remove_redirect", "slug_owner"]


def add_redirect(connection: Connection, old_slug: str, post_id: int, at: datetime) -> None:
    connection.execute(delete(slug_redirects).where(slug_redirects.c.old_slug == old_slug))
    connection.execute(
        insert(slug_redirects).values(old_slug=old_slug, post_id=post_id, created_at=at)
    )


def redirect_target(connection: Connection, old_slug: str) -> int | None:
    found = connection.execute(
        select(slug_redirects.c.post_id).where(slug_redirects.c.old_slug == old_slug)
    ).scalar()
    return int(found) if found is not None else None


def slug_owner(connection: Connection, slug: str) -> int | None:
    """The post that holds `slug`: its working slug, the slug it is live under, or one it
    used to have."""
    for query in (
        select(posts.c.id).where(posts.c.slug == slug),
        select(published_posts.c.post_id).where(published_posts.c.slug == slug),
    ):
        found = connection.execute(query).scalar()
        if found is not None:
            return int(found)
    return redirect_target(connection, slug)


def remove_redirect(connection: Connection, slug: str, post_id: int) -> None:
    """A post that takes back one of its old slugs no longer redirects from it."""
    connection.execute(
        delete(slug_redirects).where(
            slug_redirects.c.old_slug == slug, slug_redirects.c.post_id == post_id
        )
    )
