"""Posts: list, create, read, edit, archive; submit, publish, unpublish; revisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from masthead.actions import approvals, drafts, gates, publishing, receipts, scheduling
from masthead.actions.context import Call
from masthead.actions.cursors import decode_cursor, encode_cursor
from masthead.actions.gates import GateResult
from masthead.domain.gates import blocking
from masthead.domain.posts import Post, PostQuery, PostStatus
from masthead.settings import Settings
from masthead.web.api.deps import (
    CallDep,
    ChangeDep,
    ReadDep,
    SettingsDep,
    WriteDep,
    revision_etag,
)
from masthead.web.api.receipts import ReceiptList, ReceiptOut, receipt_list, receipt_out
from masthead.web.api.schemas import (
    Moment,
    PostCreate,
    PostList,
    PostOut,
    PostPatch,
    RevisionList,
    RevisionOut,
    RowId,
    post_out,
    revision_out,
)
from masthead.web.waiting import wait_after_commit

router = APIRouter(prefix="/posts", tags=["posts"])
Limit = Annotated[int, Query(ge=1, le=100)]


def _out(post: Post, settings: SettingsDep, response: Response | None = None) -> PostOut:
    """The post as JSON; with `response`, also its ETag (the revision it is at)."""
    if response is not None:
        response.headers["ETag"] = revision_etag(post.revision)
    return post_out(post, settings.public_url)


@router.get("", response_model=PostList, summary="List posts (writers see their own)")
def list_posts(
    call: CallDep,
    connection: ReadDep,
    settings: SettingsDep,
    status: PostStatus | None = None,
    tag: str | None = None,
    author: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> PostList:
    query = PostQuery(
        statuses=(status,) if status else (),
        tag=tag,
        author=author,
        text=q,
        before_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    found = drafts.list_visible_posts(connection, call.actor, query)
    page, more = found[:limit], len(found) > limit
    return PostList(
        items=[_out(post, settings) for post in page],
        next_cursor=encode_cursor(page[-1].id) if more else None,
    )


@router.post("", status_code=201, response_model=PostOut, summary="Create a draft")
def create_post(
    payload: PostCreate,
    call: CallDep,
    connection: WriteDep,
    settings: SettingsDep,
    response: Response,
) -> PostOut:
    post = drafts.create_post(connection, call, drafts.PostFields.given(payload))
    response.headers["Location"] = f"/api/v1/posts/{post.id}"
    return _out(post, settings, response)


@router.get("/{post_id}", response_model=PostOut, summary="Read a post's working copy")
def get_post(
    post_id: RowId, call: CallDep, connection: ReadDep, settings: SettingsDep, response: Response
) -> PostOut:
    return _out(drafts.find_post(connection, call.actor, post_id), settings, response)


@router.patch("/{post_id}", response_model=PostOut, summary="Edit: saves a new revision")
def edit_post(
    post_id: RowId,
    payload: PostPatch,
    call: ChangeDep,
    connection: WriteDep,
    settings: SettingsDep,
    response: Response,
) -> PostOut:
    return _out(
        drafts.edit_post(connection, call, post_id, drafts.PostFields.given(payload)),
        settings,
        response,
    )


class GateResultOut(BaseModel):
    code: str
    severity: str = Field(description="`block` stops a publish; `warn` lets it through.")
    message: str
    field: str | None
    line: int | None


class GateList(BaseModel):
    items: list[GateResultOut]
    blocking: bool = Field(description="Whether any result would stop a publish now.")


def _gates_out(results: list[GateResult]) -> list[GateResultOut]:
    return [GateResultOut(**result.as_dict()) for result in results]


MAX_WAIT_SECONDS = 30.0
Wait = Annotated[
    float,
    Query(
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Seconds to wait, after the change has committed, for its receipt to be "
        "verified or unverified: `200` with the settled receipt, or `202` with the pending one "
        "when the time runs out. At most 30, and less than the idempotency lock.",
    ),
]


class ChangeOut(BaseModel):
    receipt: ReceiptOut | None = Field(
        description="The receipt of what went live or left the site; null when the public "
        "site did not change (archiving a post that was not live)."
    )
    post: PostOut


@dataclass(frozen=True)
class _PublicChange:
    """What a publish, an unpublish or an archive route needs, `?wait` checked first."""

    call: Call
    connection: Connection
    settings: Settings
    request: Request
    response: Response
    wait: float

    def answer(self, done: publishing.Published) -> ChangeOut:
        """`202` with the pending receipt and where to follow it; `200` when nothing went
        out or came down."""
        post = _out(done.post, self.settings, self.response)
        if done.receipt is None:
            self.response.status_code = 200
            return ChangeOut(receipt=None, post=post)
        self.response.headers["Location"] = f"/api/v1/receipts/{done.receipt.id}"
        if self.wait:
            wait_after_commit(self.request, done.receipt.id, self.wait, self.call.actor)
        return ChangeOut(receipt=receipt_out(done.receipt), post=post)


def _public_change(
    call: ChangeDep,
    connection: WriteDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    wait: Wait = 0,
) -> _PublicChange:
    """A wait must end before an idempotency lock would let a retry run the change again."""
    receipts.require_short_wait(wait, settings, "wait")
    return _PublicChange(call, connection, settings, request, response, wait)


PublicChangeDep = Annotated[_PublicChange, Depends(_public_change)]


CHANGE_ANSWERS: dict[int | str, dict[str, object]] = {
    200: {"description": "Settled (with `?wait`), or nothing left the public site."}
}


@router.delete(
    "/{post_id}",
    status_code=202,
    response_model=ChangeOut,
    responses=CHANGE_ANSWERS,
    summary="Archive (kept for the record); a live post gets a receipt",
)
def archive_post(post_id: RowId, change: PublicChangeDep) -> ChangeOut:
    return change.answer(publishing.archive_post(change.connection, change.call, post_id))


class SubmittedOut(PostOut):
    gates: list[GateResultOut] = Field(
        description="The gates as they stand; blocking results stop a publish, not a submit."
    )


@router.post("/{post_id}/submit", response_model=SubmittedOut, summary="Submit for review")
def submit_post(
    post_id: RowId, call: ChangeDep, connection: WriteDep, settings: SettingsDep, response: Response
) -> SubmittedOut:
    submitted = drafts.submit_post(connection, call, post_id)
    post = _out(submitted.post, settings, response)
    return SubmittedOut(**post.model_dump(), gates=_gates_out(submitted.gates))


@router.post(
    "/{post_id}/publish",
    status_code=202,
    response_model=ChangeOut,
    responses=CHANGE_ANSWERS,
    summary="Publish the current revision: gates, then a receipt verified on the live site",
)
def publish_post(post_id: RowId, change: PublicChangeDep) -> ChangeOut:
    return change.answer(publishing.publish_post(change.connection, change.call, post_id))


@router.post(
    "/{post_id}/unpublish",
    status_code=202,
    response_model=ChangeOut,
    responses=CHANGE_ANSWERS,
    summary="Take a post off the site; its receipt checks that it is gone",
)
def unpublish_post(post_id: RowId, change: PublicChangeDep) -> ChangeOut:
    return change.answer(publishing.unpublish_post(change.connection, change.call, post_id))


@router.get(
    "/{post_id}/receipts", response_model=ReceiptList, summary="A post's receipts (editors)"
)
def post_receipts(
    post_id: RowId,
    call: CallDep,
    connection: ReadDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=receipts.MAX_PAGE - 1)] = 50,
) -> ReceiptList:
    drafts.find_post(connection, call.actor, post_id)
    found = receipts.list_receipts(
        connection, call.actor, post_id=post_id, before_id=decode_cursor(cursor), limit=limit + 1
    )
    return receipt_list(found, limit)


@router.get("/{post_id}/revisions", response_model=RevisionList, summary="Every revision")
def list_revisions(post_id: RowId, call: CallDep, connection: ReadDep) -> RevisionList:
    revisions = drafts.post_revisions(connection, call.actor, post_id)
    return RevisionList(items=[revision_out(revision) for revision in revisions])


@router.get("/{post_id}/revisions/{number}", response_model=RevisionOut, summary="One revision")
def get_revision(post_id: RowId, number: RowId, call: CallDep, connection: ReadDep) -> RevisionOut:
    return revision_out(drafts.post_revision(connection, call.actor, post_id, number))


@router.post(
    "/{post_id}/revisions/{number}/restore",
    response_model=PostOut,
    summary="Restore an old revision (as a new revision)",
)
def restore_revision(
    post_id: RowId,
    number: RowId,
    call: ChangeDep,
    connection: WriteDep,
    settings: SettingsDep,
    response: Response,
) -> PostOut:
    return _out(drafts.restore_revision(connection, call, post_id, number), settings, response)


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: Moment = Field(description="When to publish, ISO 8601 with a time zone.")


@router.post(
    "/{post_id}/schedule", response_model=PostOut, summary="Publish at a time (a worker does it)"
)
def schedule_post(
    post_id: RowId,
    payload: ScheduleIn,
    call: ChangeDep,
    connection: WriteDep,
    settings: SettingsDep,
    response: Response,
) -> PostOut:
    post = scheduling.schedule_post(connection, call, post_id, payload.at)
    return _out(post, settings, response)


@router.delete("/{post_id}/schedule", response_model=PostOut, summary="Cancel a scheduled publish")
def unschedule_post(
    post_id: RowId, call: ChangeDep, connection: WriteDep, settings: SettingsDep, response: Response
) -> PostOut:
    return _out(scheduling.unschedule_post(connection, call, post_id), settings, response)


@router.get("/{post_id}/gates", response_model=GateList, summary="Run the gates (changes nothing)")
def post_gates(post_id: RowId, call: CallDep, connection: ReadDep) -> GateList:
    post = drafts.find_post(connection, call.actor, post_id)
    results = gates.check_gates(connection, call, post)
    return GateList(
        items=_gates_out(results),
        blocking=bool(blocking(results)),
    )


class ApprovalOut(BaseModel):
    staff: str
    kind: str
    revision: int
    at: datetime


@router.post(
    "/{post_id}/approve", response_model=ApprovalOut, summary="Approve the current revision"
)
def approve_post(post_id: RowId, call: ChangeDep, connection: WriteDep) -> ApprovalOut:
    given = approvals.approve_post(connection, call, post_id)
    return ApprovalOut(
        staff=given.staff, kind=given.kind.value, revision=given.revision, at=given.at
    )
