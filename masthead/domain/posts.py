"""Posts: their states, and the facts a revision pins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from masthead.domain.staff import StaffMember, Tag

__all__ = [
    "Post",
    "PostContent",
    "PostQuery",
    "PostStatus",
    "PublishedPost",
    "Revision",
    "RevisionSource",
]


class PostStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"
    ARCHIVED = "archived"


class RevisionSource(StrEnum):
    API = "api"
    CLI = "cli"
    IMPORT = "import"
    WORKER = "worker"
    MCP = "mcp"


@dataclass(frozen=True)
class PostContent:
    """What an author writes: the fields a revision records."""

    slug: str
    title: str
    dek: str
    body: str
    tags: tuple[str, ...]
    authors: tuple[str, ...]


@dataclass(frozen=True)
class Post:
    """A post's working copy, in any state, as staff see it."""

    id: int
    content: PostContent
    status: PostStatus
    published_at: datetime | None
    revision: int
    published_revision: int | None
    created_at: datetime
    updated_at: datetime
    body_html: str = ""
    reading_time: int = 1


@dataclass(frozen=True)
class PublishedPost:
    """The pinned published revision of a live post: all the public site may show."""

    id: int
    revision: int
    slug: str
    title: str
    dek: str
    body_html: str
    reading_time: int
    published_at: datetime
    updated_at: datetime
    tags: tuple[Tag, ...]
    authors: tuple[StaffMember, ...]


@dataclass(frozen=True)
class Revision:
    """One saved change: the content as it was, who made it, through what, and when."""

    post_id: int
    number: int
    content: PostContent
    body_html: str
    reading_time: int
    source: RevisionSource
    created_at: datetime
    created_by: str | None
    token_id: int | None


@dataclass(frozen=True)
class PostQuery:
    """Which working copies a staff list shows: filters, and the page after a cursor."""

    statuses: tuple[PostStatus, ...] = ()
    tag: str | None = None
    author: str | None = None
    text: str | None = None
    before_id: int | None = None
    limit: int | None = None
    ranked: bool = False
    """With `text`: best match first (title over dek over body), then newest; a page
    starts `offset` matches in, and `before_id` is not used."""
    offset: int = 0
