"""The API's JSON shapes. Separate from domain objects and tables, on purpose."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path as FastAPIPath
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)

from masthead.actions.cursors import MAX_ID
from masthead.actions.shapes import (
    post_shape,
    revision_shape,
    staff_shape,
    tag_shape,
    token_shape,
)
from masthead.domain.posts import Post, PostStatus, Revision, RevisionSource
from masthead.domain.staff import Role, StaffKind, StaffMember, Tag
from masthead.domain.text import MAX_NAME, MAX_TITLE, printable
from masthead.domain.tokens import TokenRecord, TokenScope

Printable = AfterValidator(printable)
Slug = Annotated[str, StringConstraints(min_length=1, max_length=80), Printable]
RowId = Annotated[int, FastAPIPath(ge=1, le=MAX_ID)]
"""An id or number in a URL: the range both databases can hold."""
ShortText = Annotated[str, StringConstraints(max_length=MAX_TITLE), Printable]
Name = Annotated[str, StringConstraints(max_length=MAX_NAME), Printable]
LongText = Annotated[str, StringConstraints(max_length=20_000), Printable]
Body = Annotated[str, StringConstraints(max_length=500_000), Printable]
SlugList = Annotated[list[Slug], Field(max_length=50)]
Moment = Annotated[AwareDatetime, Field(description="ISO 8601 with a time zone.")]
"""Every time the API reads (a parameter or a field): one without a zone is refused (422)."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PostCreate(Strict):
    title: ShortText
    slug: Slug | None = None
    dek: LongText | None = None
    body: Body | None = None
    tags: SlugList | None = None
    authors: SlugList | None = None


class PostPatch(Strict):
    title: ShortText | None = None
    slug: Slug | None = None
    dek: LongText | None = None
    body: Body | None = None
    tags: SlugList | None = None
    authors: SlugList | None = None


class PostOut(BaseModel):
    id: int
    slug: str
    title: str
    dek: str
    body: str
    tags: list[str]
    authors: list[str]
    status: PostStatus
    published_at: datetime | None
    revision: int
    published_revision: int | None
    body_html: str
    reading_time: int
    url: str
    created_at: datetime
    updated_at: datetime


class PostList(BaseModel):
    items: list[PostOut]
    next_cursor: str | None


class RevisionOut(BaseModel):
    number: int
    slug: str
    title: str
    dek: str
    body: str
    tags: list[str]
    authors: list[str]
    body_html: str
    reading_time: int
    source: RevisionSource
    created_at: datetime
    created_by: str | None
    token_id: int | None


class RevisionList(BaseModel):
    items: list[RevisionOut]
    next_cursor: str | None = None


class TagCreate(Strict):
    slug: Slug
    name: Name
    description: LongText = ""


class TagPatch(Strict):
    name: Name | None = None
    description: LongText | None = None


class TagOut(BaseModel):
    slug: str
    name: str
    description: str


class TagList(BaseModel):
    items: list[TagOut]
    next_cursor: str | None = None


class StaffCreate(Strict):
    slug: Slug
    name: Name
    role_title: Name = ""
    department: Name = ""
    kind: StaffKind = StaffKind.PERSON
    role: Role = Role.WRITER
    bio: LongText = ""


class StaffPatch(Strict):
    name: Name | None = None
    role_title: Name | None = None
    department: Name | None = None
    kind: StaffKind | None = None
    role: Role | None = None
    bio: LongText | None = None
    active: bool | None = None


class StaffOut(BaseModel):
    slug: str
    name: str
    role_title: str
    department: str
    kind: StaffKind
    role: Role
    bio: str
    active: bool


class StaffList(BaseModel):
    items: list[StaffOut]
    next_cursor: str | None = None


class MeOut(StaffOut):
    token_id: int | None


class TokenCreate(Strict):
    staff: Slug
    name: Name = ""
    scope: TokenScope = Field(
        TokenScope.STAFF,
        description="`staff`: what the owner's role allows; `metrics`: only GET /api/v1/metrics.",
    )


class TokenOut(BaseModel):
    id: int
    name: str
    staff: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    scope: TokenScope


class TokenCreated(TokenOut):
    token: str | None = Field(
        description="The secret: shown this once, never again. A replay of the same request "
        "(same Idempotency-Key) answers null: secrets are never stored."
    )


class TokenList(BaseModel):
    items: list[TokenOut]
    next_cursor: str | None


class RenderIn(Strict):
    body: Body


class RenderOut(BaseModel):
    html: str
    word_count: int
    reading_time: int


class NavLinkOut(Strict):
    text: Annotated[str, StringConstraints(max_length=40)]
    url: Annotated[str, StringConstraints(max_length=300)]


class SiteSettings(BaseModel):
    title: str
    kicker: str
    headline: str
    intro: str
    page_size: int
    timezone: str
    navigation: list[NavLinkOut] = Field(description="The header's links, in order.")
    mark_agents: bool = Field(description='Whether an agent author carries the "agent" marker.')
    theme_color: str = Field(description="The favicon's and the web manifest's colour.")
    gates: dict[str, Literal["block", "warn"]] = Field(
        description="Every gate's severity, by code: `block` stops a publish, `warn` does not."
    )


class SiteSettingsPatch(Strict):
    title: ShortText | None = None
    kicker: ShortText | None = None
    headline: ShortText | None = None
    intro: ShortText | None = None
    page_size: Annotated[int, Field(ge=1, le=100)] | None = None
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = None
    navigation: list[NavLinkOut] | None = Field(None, max_length=8)
    mark_agents: StrictBool | None = None
    theme_color: Annotated[str, StringConstraints(max_length=7)] | None = None
    gates: dict[str, Literal["block", "warn"]] | None = Field(
        None,
        description="The gates to change, by code; the others keep their severity. null: "
        "every gate back to its default.",
        max_length=64,
    )


def post_out(post: Post, public_url: str) -> PostOut:
    return PostOut(**post_shape(post, public_url))


def revision_out(revision: Revision) -> RevisionOut:
    return RevisionOut(**revision_shape(revision))


def tag_out(tag: Tag) -> TagOut:
    return TagOut(**tag_shape(tag))


def staff_out(member: StaffMember) -> StaffOut:
    return StaffOut(**staff_shape(member))


def token_out(record: TokenRecord) -> dict[str, Any]:
    return token_shape(record)
