"""Old paths of an imported site, each redirecting to the post it became."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from masthead.store.schema import path_redirects, posts

__all__ = [
    "delete_path_redirect",
    "list_path_redirects",
    "path_redirect_posts",
    "path_redirect_target",
    "path_redirects_of",
    "save_path_redirect",
]


def save_path_redirect(connection: Connection, old_path: str, post_id: int, at: datetime) -> bool:
    """Point `old_path` at the post; False when it already does (nothing written)."""
    current = path_redirect_target(connection, old_path)
    if current == post_id:
        return False
    if current is not None:
        delete_path_redirect(connection, old_path)
    connection.execute(
        insert(path_redirects).values(old_path=old_path, post_id=post_id, created_at=at)
    )
    return True


def path_redirect_target(connection: Connection, old_path: str) -> int | None:
    found = connection.execute(
        select(path_redirects.c.post_id).where(path_redirects.c.old_path == old_path)
    ).scalar()
    return None if found is None else int(found)


def path_redirects_of(connection: Connection, paths: Iterable[str]) -> dict[str, int]:
    """The post each of these old paths redirects to (those that have one)."""
    wanted = list(paths)
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        rows = connection.execute(
            select(path_redirects.c.old_path, path_redirects.c.post_id).where(
                path_redirects.c.old_path.in_(wanted[start : start + 500])
            )
        )
        found.update({str(path): int(post_id) for path, post_id in rows})
    return found


def delete_path_redirect(connection: Connection, old_path: str) -> bool:
    result = connection.execute(delete(path_redirects).where(path_redirects.c.old_path == old_path))
    return bool(result.rowcount)


def list_path_redirects(connection: Connection) -> list[tuple[str, str, datetime]]:
    """(old path, the post's working slug, when made), by path."""
    rows = connection.execute(
        select(path_redirects.c.old_path, posts.c.slug, path_redirects.c.created_at)
        .join(posts, posts.c.id == path_redirects.c.post_id)
        .order_by(path_redirects.c.old_path)
    )
    return [(str(path), str(slug), created) for path, slug, created in rows]


def path_redirect_posts(connection: Connection) -> dict[str, int]:
    """Every old path and the post it leads to."""
    rows = connection.execute(select(path_redirects.c.old_path, path_redirects.c.post_id))
    return {str(path): int(post_id) for path, post_id in rows}
