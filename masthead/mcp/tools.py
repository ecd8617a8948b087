"""The tools: each one use case of `masthead.actions`, its arguments, output and role.

A tool's `run` takes the transaction's connection, the call (who, with which revision and
key) and the validated arguments, calls the action and answers the resource's shape. The
tool list a caller sees is shaped by their role (`tools_for`); a tool called by name
outside it still runs into the action's own permission check (`forbidden`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy import Connection

from masthead.actions import approvals, drafts, gates, publishing, receipts, scheduling
from masthead.actions import staff as staff_actions
from masthead.actions import tags as tag_actions
from masthead.actions import tasks as task_actions
from masthead.actions.context import Call
from masthead.actions.cursors import decode_cursor, decode_offset, encode_cursor, encode_offset
from masthead.actions.shapes import (
    post_shape,
    receipt_shape,
    revision_shape,
    staff_shape,
    tag_shape,
)
from masthead.actions.site_info import site_values
from masthead.domain.gates import GATES as GATE_TABLE
from masthead.domain.gates import blocking
from masthead.domain.posts import Post, PostQuery
from masthead.domain.staff import Role, Tag
from masthead.errors import NotFound
from masthead.mcp import arguments as a
from masthead.mcp import outputs as o

__all__ = ["TOOLS", "Tool", "tools_for"]

WRITER = frozenset(Role)
EDITOR = frozenset({Role.EDITOR, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})

Run = Callable[[Connection, Call, Any], dict[str, Any]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    arguments: type[BaseModel]
    output: dict[str, Any]
    roles: frozenset[Role]
    run: Run
    writes: bool = False
    destructive: bool = False
    idempotent: bool = True
    settles: bool = False
    """A publish, unpublish or archive: after the commit, wait for the receipt."""

    @property
    def changes_post(self) -> bool:
        return issubclass(self.arguments, a.ChangeArgs)


def jsonable(value: Any) -> dict[str, Any]:
    """A shape as JSON values: datetimes ISO 8601 (`Z` for UTC), enums their values."""
    converted: dict[str, Any] = to_jsonable_python(value)
    return converted


def _post(call: Call, post: Post) -> dict[str, Any]:
    return jsonable(post_shape(post, call.settings.public_url))


def _context(connection: Connection, call: Call, _args: a.NoArgs) -> dict[str, Any]:
    actor = call.actor
    if actor.staff_id is None:
        raise NotFound("this caller is not a staff member")
    member = staff_actions.find_staff(connection, actor.slug)
    me = {**staff_shape(member), "token_id": actor.token_id}
    severities = gates.gate_severities(connection)
    settings = call.settings
    return jsonable(
        {
            "me": me,
            "role": actor.role,
            "tools": [tool.name for tool in tools_for(actor.role)],
            "site": {**site_values(connection, settings), "public_url": settings.public_url},
            "gates": [
                {"code": gate.code, "severity": severities[gate.code], "meaning": gate.meaning}
                for gate in GATE_TABLE
            ],
            "tags": [tag_shape(tag) for tag in tag_actions.all_tags(connection)],
            "limits": {
                "max_request_bytes": settings.max_body_bytes,
                "calls_per_minute": settings.rate_limit_per_minute,
                "idempotency_keep_hours": settings.idempotency_keep_hours,
                "max_wait_seconds": min(a.MAX_WAIT_SECONDS, settings.idempotency_lock_seconds),
                "max_list_limit": 100,
            },
        }
    )


def _list_posts(connection: Connection, call: Call, args: a.ListPostsArgs) -> dict[str, Any]:
    query = PostQuery(
        statuses=(args.status,) if args.status else (),
        tag=args.tag,
        author=args.author,
        text=args.q,
        before_id=decode_cursor(args.cursor),
        limit=args.limit + 1,
    )
    found = drafts.list_visible_posts(connection, call.actor, query)
    page, more = found[: args.limit], len(found) > args.limit
    return {
        "items": [_post(call, post) for post in page],
        "next_cursor": encode_cursor(page[-1].id) if more else None,
    }


def _search_posts(connection: Connection, call: Call, args: a.SearchPostsArgs) -> dict[str, Any]:
    offset = decode_offset(args.cursor)
    query = PostQuery(
        statuses=(args.status,) if args.status else (),
        text=args.query,
        ranked=True,
        offset=offset,
        limit=args.limit + 1,
    )
    found = drafts.list_visible_posts(connection, call.actor, query)
    page, more = found[: args.limit], len(found) > args.limit
    return {
        "items": [_post(call, post) for post in page],
        "next_cursor": encode_offset(offset + len(page)) if more else None,
    }


def _get_post(connection: Connection, call: Call, args: a.PostArgs) -> dict[str, Any]:
    return _post(call, drafts.find_post(connection, call.actor, args.post_id))


def _create(connection: Connection, call: Call, args: a.CreateDraftArgs) -> dict[str, Any]:
    return _post(call, drafts.create_post(connection, call, drafts.PostFields.given(args)))


def _edit(connection: Connection, call: Call, args: a.EditPostArgs) -> dict[str, Any]:
    return _post(
        call, drafts.edit_post(connection, call, args.post_id, drafts.PostFields.given(args))
    )


def _gates(connection: Connection, call: Call, args: a.PostArgs) -> dict[str, Any]:
    post = drafts.find_post(connection, call.actor, args.post_id)
    results = gates.check_gates(connection, call, post)
    return {"items": [result.as_dict() for result in results], "blocking": bool(blocking(results))}


def _submit(connection: Connection, call: Call, args: a.ChangeArgs) -> dict[str, Any]:
    submitted = drafts.submit_post(connection, call, args.post_id)
    gates_now = [result.as_dict() for result in submitted.gates]
    return {"post": _post(call, submitted.post), "gates": gates_now}


def _preview(connection: Connection, call: Call, args: a.PreviewArgs) -> dict[str, Any]:
    if args.post_id is not None:
        post = drafts.find_post(connection, call.actor, args.post_id)
        body = post.content.body
    else:
        body = args.body or ""
    rendered = drafts.preview(body)
    return {
        "html": rendered.html,
        "word_count": rendered.word_count,
        "reading_time": rendered.reading_time,
    }


def _revisions(connection: Connection, call: Call, args: a.PostArgs) -> dict[str, Any]:
    found = drafts.post_revisions(connection, call.actor, args.post_id)
    return {"items": [jsonable(revision_shape(revision)) for revision in found]}


def _restore(connection: Connection, call: Call, args: a.RestoreArgs) -> dict[str, Any]:
    return _post(call, drafts.restore_revision(connection, call, args.post_id, args.number))


def _approve(connection: Connection, call: Call, args: a.ChangeArgs) -> dict[str, Any]:
    given = approvals.approve_post(connection, call, args.post_id)
    return jsonable(
        {"staff": given.staff, "kind": given.kind, "revision": given.revision, "at": given.at}
    )


def _changed(call: Call, done: publishing.Published) -> dict[str, Any]:
    receipt = None if done.receipt is None else jsonable(receipt_shape(done.receipt))
    return {"receipt": receipt, "post": _post(call, done.post)}


def _publish(connection: Connection, call: Call, args: a.PublishArgs) -> dict[str, Any]:
    return _changed(call, publishing.publish_post(connection, call, args.post_id))


def _unpublish(connection: Connection, call: Call, args: a.PublishArgs) -> dict[str, Any]:
    return _changed(call, publishing.unpublish_post(connection, call, args.post_id))


def _archive(connection: Connection, call: Call, args: a.ArchiveArgs) -> dict[str, Any]:
    return _changed(call, publishing.archive_post(connection, call, args.post_id))


def _schedule(connection: Connection, call: Call, args: a.ScheduleArgs) -> dict[str, Any]:
    return _post(call, scheduling.schedule_post(connection, call, args.post_id, args.at))


def _unschedule(connection: Connection, call: Call, args: a.ChangeArgs) -> dict[str, Any]:
    return _post(call, scheduling.unschedule_post(connection, call, args.post_id))


def _receipt(connection: Connection, call: Call, args: a.ReceiptArgs) -> dict[str, Any]:
    return jsonable(receipt_shape(receipts.find_receipt(connection, call.actor, args.receipt_id)))


def _tags(connection: Connection, _call: Call, _args: a.NoArgs) -> dict[str, Any]:
    return {"items": [tag_shape(tag) for tag in tag_actions.all_tags(connection)]}


def _add_tag(connection: Connection, call: Call, args: a.AddTagArgs) -> dict[str, Any]:
    tag = Tag(slug=args.slug, name=args.name, description=args.description)
    return tag_shape(tag_actions.add_tag(connection, call, tag))


def _staff(connection: Connection, _call: Call, _args: a.NoArgs) -> dict[str, Any]:
    members = staff_actions.all_staff(connection)
    return jsonable({"items": [staff_shape(member) for member in members]})


def _task(connection: Connection, call: Call, args: a.TaskArgs) -> dict[str, Any]:
    return jsonable(task_actions.show_task(connection, call.actor, args.task_id).as_dict())


def _tool(*args: Any, **options: Any) -> tuple[str, Tool]:
    tool = Tool(*args, **options)
    return tool.name, tool


TOOLS: Mapping[str, Tool] = MappingProxyType(
    dict(
        [
            _tool(
                "get_context",
                "Call first: who you are, your role and tools, the site, the gate table, "
                "tags and limits.",
                a.NoArgs, o.CONTEXT, WRITER, _context,
            ),
            _tool(
                "list_posts",
                "List posts, newest first (a writer sees their own); filter by status, tag, "
                "author or words.",
                a.ListPostsArgs, o.POSTS, WRITER, _list_posts,
            ),
            _tool(
                "search_posts",
                "Find posts by words in their working copies, best match first (a writer "
                "searches their own).",
                a.SearchPostsArgs, o.POSTS, WRITER, _search_posts,
            ),
            _tool(
                "get_post",
                "Read a post's working copy, with the revision to base a change on.",
                a.PostArgs, o.POST, WRITER, _get_post,
            ),
            _tool(
                "create_draft",
                "Create a draft (you are its author unless you name others); answers it with "
                "revision 1.",
                a.CreateDraftArgs, o.POST, WRITER, _create, writes=True, idempotent=False,
            ),
            _tool(
                "edit_post",
                "Change a post's fields as a new revision; pass the revision you read.",
                a.EditPostArgs, o.POST, WRITER, _edit, writes=True,
            ),
            _tool(
                "check_gates",
                "Run the gates on a post's working copy (changes nothing): each result with "
                "its stable code.",
                a.PostArgs, o.GATES, WRITER, _gates,
            ),
            _tool(
                "submit_for_review",
                "Send a draft for review; answers the post and its gates as they stand.",
                a.ChangeArgs, o.SUBMITTED, WRITER, _submit, writes=True,
            ),
            _tool(
                "preview",
                "Render a post's working copy, or Markdown you give, as the site would: HTML "
                "and reading time.",
                a.PreviewArgs, o.PREVIEW, WRITER, _preview,
            ),
            _tool(
                "list_revisions",
                "Every saved revision of a post, newest first.",
                a.PostArgs, o.REVISIONS, WRITER, _revisions,
            ),
            _tool(
                "restore_revision",
                "Make an old revision's content current again, as a new revision.",
                a.RestoreArgs, o.POST, WRITER, _restore, writes=True,
            ),
            _tool(
                "approve",
                "Approve a post's current revision (editors), for the approval gate.",
                a.ChangeArgs, o.APPROVAL, EDITOR, _approve, writes=True,
            ),
            _tool(
                "publish",
                "Publish a post's current revision: gates, then wait for its receipt to be "
                "verified on the live site.",
                a.PublishArgs, o.CHANGE, EDITOR, _publish, writes=True, settles=True,
            ),
            _tool(
                "unpublish",
                "Take a live post off the site; its receipt checks that it is gone.",
                a.PublishArgs, o.CHANGE, EDITOR, _unpublish, writes=True, destructive=True,
                settles=True,
            ),
            _tool(
                "schedule",
                "Schedule a post to be published at a time (the queue publishes it).",
                a.ScheduleArgs, o.POST, EDITOR, _schedule, writes=True,
            ),
            _tool(
                "unschedule",
                "Cancel a post's scheduled publish; it goes back to draft.",
                a.ChangeArgs, o.POST, EDITOR, _unschedule, writes=True,
            ),
            _tool(
                "get_receipt",
                "Read a publish receipt: every check the live site was put to, and its state.",
                a.ReceiptArgs, o.RECEIPT, EDITOR, _receipt,
            ),
            _tool(
                "list_tags",
                "Every tag the site has: the slugs a post may use.",
                a.NoArgs, o.TAGS, WRITER, _tags,
            ),
            _tool(
                "add_tag",
                "Add a tag (admins).",
                a.AddTagArgs, o.TAG, ADMIN, _add_tag, writes=True, idempotent=False,
            ),
            _tool(
                "list_staff",
                "Every staff member: the slugs a post's authors may use.",
                a.NoArgs, o.STAFF_LIST, WRITER, _staff,
            ),
            _tool(
                "get_task",
                "Read a background task and every run it has had (editors).",
                a.TaskArgs, o.TASK, EDITOR, _task,
            ),
            _tool(
                "archive",
                "Archive a post for good (kept for the record); needs confirm: true.",
                a.ArchiveArgs, o.CHANGE, EDITOR, _archive, writes=True, destructive=True,
                settles=True,
            ),
        ]
    )
)  # fmt: skip


def tools_for(role: Role) -> list[Tool]:
    """The tools a role may use, in the table's order."""
    return [tool for tool in TOOLS.values() if role in tool.roles]
