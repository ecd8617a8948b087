"""Each tool's arguments, as pydantic models: their JSON schema is the tool's input schema,
and a call's arguments are validated against them before anything runs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from masthead.actions.cursors import MAX_ID
from masthead.domain.posts import PostStatus
from masthead.domain.text import MAX_NAME, MAX_TITLE, printable

__all__ = [
    "MAX_WAIT_SECONDS",
    "AddTagArgs",
    "ArchiveArgs",
    "ChangeArgs",
    "CreateDraftArgs",
    "EditPostArgs",
    "ListPostsArgs",
    "NoArgs",
    "PostArgs",
    "PreviewArgs",
    "PublishArgs",
    "ReceiptArgs",
    "RestoreArgs",
    "ScheduleArgs",
    "SearchPostsArgs",
    "TaskArgs",
    "WriteArgs",
]

MAX_WAIT_SECONDS = 30.0
"""The longest a publish, unpublish or archive waits for its receipt (as the API's `?wait`)."""
DEFAULT_WAIT_SECONDS = 10.0
MAX_KEY_LENGTH = 200
MAX_SEARCH_CHARS = 20_000
"""A search_posts query may be long (it is cut to the search's own limit), never huge."""


Printable = AfterValidator(printable)
Slug = Annotated[str, Field(min_length=1, max_length=80), Printable]
SlugList = Annotated[list[Slug], Field(max_length=50)]
Title = Annotated[str, Field(max_length=MAX_TITLE), Printable]
LongText = Annotated[str, Field(max_length=20_000), Printable]
Body = Annotated[str, Field(max_length=500_000), Printable]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Arguments(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoArgs(Arguments):
    pass


class WriteArgs(Arguments):
    idempotency_key: Annotated[str, Field(min_length=1, max_length=MAX_KEY_LENGTH)] | None = Field(
        default=None,
        description="Recommended. A retry with the same key and arguments replays the first "
        "answer instead of acting twice; the same key with other arguments is refused "
        "(idempotency_key_reused). Kept per token for at least 24 hours.",
    )


class PostArgs(Arguments):
    post_id: Id = Field(description="The post's id.")


class ChangeArgs(WriteArgs):
    post_id: Id = Field(description="The post's id.")
    revision: Id | None = Field(
        default=None,
        description="Required: the post's revision this change is based on (get_post's "
        "`revision`). Without it: precondition_required; an older one: stale_revision, "
        "naming the current revision.",
    )


class ListPostsArgs(Arguments):
    status: PostStatus | None = Field(default=None, description="Only posts in this state.")
    tag: Slug | None = Field(default=None, description="Only posts with this tag's slug.")
    author: Slug | None = Field(default=None, description="Only posts by this staff slug.")
    q: Annotated[str, Field(max_length=200), Printable] | None = Field(
        default=None, description="Words to look for in the title, dek and body."
    )
    cursor: Annotated[str, Field(max_length=100)] | None = Field(
        default=None, description="The `next_cursor` of the previous page."
    )
    limit: int = Field(default=20, ge=1, le=100, description="At most this many posts.")


class SearchPostsArgs(Arguments):
    query: Annotated[str, Field(min_length=1, max_length=MAX_SEARCH_CHARS)] = Field(
        description='Words to find in the title, dek or body; "two words" for a phrase, '
        "word* for every word it begins. Any text is valid: operators and stray quotes only "
        "separate words, and only the first 1,000 characters are read."
    )
    status: PostStatus | None = Field(default=None, description="Only posts in this state.")
    cursor: Annotated[str, Field(max_length=100)] | None = Field(
        default=None, description="The `next_cursor` of the previous page."
    )
    limit: int = Field(default=20, ge=1, le=100, description="At most this many posts.")


class CreateDraftArgs(WriteArgs):
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE), Printable]
    slug: Slug | None = Field(default=None, description="Made from the title when left out.")
    dek: LongText | None = Field(default=None, description="The summary under the title.")
    body: Body | None = Field(default=None, description="Markdown (CommonMark with GFM).")
    tags: SlugList | None = Field(default=None, description="Tag slugs; the first is primary.")
    authors: SlugList | None = Field(default=None, description="Staff slugs; you by default.")


class EditPostArgs(ChangeArgs):
    title: Title | None = None
    slug: Slug | None = None
    dek: LongText | None = None
    body: Body | None = Field(default=None, description="Markdown (CommonMark with GFM).")
    tags: SlugList | None = None
    authors: SlugList | None = None


class PublishArgs(ChangeArgs):
    wait_seconds: float = Field(
        default=DEFAULT_WAIT_SECONDS,
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Seconds to wait, after the change has committed, for its receipt to "
        "be verified or unverified on the live site; 0 answers the pending receipt at once.",
    )


class ArchiveArgs(PublishArgs):
    confirm: Literal[True] = Field(
        description="Must be true: archiving takes the post out of every view for good."
    )


class RestoreArgs(ChangeArgs):
    number: Id = Field(description="The revision to make current again (as a new revision).")


class ScheduleArgs(ChangeArgs):
    at: AwareDatetime = Field(description="When to publish: ISO 8601 with a time zone.")


class PreviewArgs(Arguments):
    post_id: Id | None = Field(default=None, description="A post whose working copy to show.")
    body: Body | None = Field(default=None, description="Markdown to render, unsaved.")

    @model_validator(mode="after")
    def _one_of(self) -> PreviewArgs:
        if (self.post_id is None) == (self.body is None):
            raise ValueError("give either post_id or body")
        return self


class ReceiptArgs(Arguments):
    receipt_id: Id = Field(description="The receipt's id (publish answers it).")


class TaskArgs(Arguments):
    task_id: Id = Field(description="The task's id.")


class AddTagArgs(WriteArgs):
    slug: Slug
    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME), Printable]
    description: LongText = ""
