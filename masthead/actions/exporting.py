"""Exporting posts, staff and tags in the import format (a lossless round trip)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from masthead.actions.importing import STAFF_FILE, TAGS_FILE
from masthead.content.bundle import write_post, write_staff, write_tags
from masthead.domain.posts import Post, PostStatus
from masthead.domain.staff import StaffMember, Tag
from masthead.errors import UnusablePath
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
    """Write every post that is not archived, and all staff and tags, into `folder`.

    A `folder` that is a file, or that cannot be written, raises `UnusablePath`."""
    if folder.exists() and not folder.is_dir():
        raise UnusablePath(f"{folder} is not a folder: give a folder to export into")
    members, all_tags = list_staff(connection), list_tags(connection)
    posts = [post for post in list_posts(connection) if post.status is not PostStatus.ARCHIVED]
    try:
        _write(folder, members, all_tags, posts, progress)
    except OSError as error:
        raise UnusablePath(f"cannot write the export to {folder}: {error.strerror}") from error
    return ExportSummary(posts=len(posts), staff=len(members), tags=len(all_tags))


def _write(
    folder: Path,
    members: list[StaffMember],
    all_tags: list[Tag],
    posts: list[Post],
    progress: Callable[[int, int], None] | None,
) -> None:
    posts_folder = folder / POSTS_FOLDER
    posts_folder.mkdir(parents=True, exist_ok=True)
    (folder / STAFF_FILE).write_text(write_staff(members), encoding="utf-8")
    (folder / TAGS_FILE).write_text(write_tags(all_tags), encoding="utf-8")
    for done, post in enumerate(posts, start=1):
        text = write_post(post.content, post.status, post.published_at)
        (posts_folder / f"{post.content.slug}.md").write_text(text, encoding="utf-8")
        if progress:
            progress(done, len(posts))
