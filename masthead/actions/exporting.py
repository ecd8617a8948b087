"""Exporting posts, staff and tags in the import format (a lossless round trip)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from masthead.actions.importing import STAFF_FILE, TAGS_FILE
from masthead.content.bundle import write_post, write_staff, write_tags
from masthead.domain.posts import PostStatus
from masthead.store.posts import list_posts
from masthead.store.staff import list_staff
from masthead.store.tags import list_tags

__all__ = ["ExportSummary", "export_folder"]

POSTS_FOLDER = "posts"


@dataclass(frozen=True)
class ExportSummary:
    posts: int
    staff: int
    tags: int

    def as_dict(self) -> dict[str, int]:
        return {"posts": self.posts, "staff": self.staff, "tags": self.tags}


def export_folder(
    connection: Connection,
    folder: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ExportSummary:
    """Write every post that is not archived, and all staff and tags, into `folder`."""
    members, all_tags = list_staff(connection), list_tags(connection)
    posts = [post for post in list_posts(connection) if post.status is not PostStatus.ARCHIVED]
    posts_folder = folder / POSTS_FOLDER
    posts_folder.mkdir(parents=True, exist_ok=True)
    (folder / STAFF_FILE).write_text(write_staff(members), encoding="utf-8")
    (folder / TAGS_FILE).write_text(write_tags(all_tags), encoding="utf-8")
    for done, post in enumerate(posts, start=1):
        text = write_post(post.content, post.status, post.published_at)
        (posts_folder / f"{post.content.slug}.md").write_text(text, encoding="utf-8")
        if progress:
            progress(done, len(posts))
    return ExportSummary(posts=len(posts), staff=len(members), tags=len(all_tags))
