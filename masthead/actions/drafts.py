"""Writing posts through the API: create, edit, submit, read — with roles enforced."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from masthead.actions.context import Call, record_audit
from masthead.actions.gates import GateResult, check_gates
from masthead.actions.naming import SLUG_RULE
from masthead.content.markdown import RenderedBody, render_markdown
from masthead.domain.permissions import (
    Actor,
    PostAction,
    allowed_on_post,
    is_editor,
    next_status,
    sees_post,
)
from masthead.domain.posts import Post, PostContent, PostQuery, PostStatus, Revision
from masthead.domain.slugs import is_valid_slug, slugify, unique_slug
from masthead.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    StaleRevision,
)
from masthead.store import posts as post_store
from masthead.store.slugs import slug_owner
from masthead.store.staff import staff_ids
from masthead.store.tags import tag_ids

__all__ = [
    "PostFields",
    "Submitted",
    "create_post",
    "edit_post",
    "find_post",
    "find_post_by_slug",
    "list_visible_posts",
    "post_revision",
    "post_revisions",
    "preview",
    "require_action",
    "require_current",
    "restore_revision",
    "submit_post",
]


@dataclass(frozen=True)
class PostFields:
    """Fields a caller sends; None means "not given" (keep, or use the default)."""

    title: str | None = None
    slug: str | None = None
    dek: str | None = None
    body: str | None = None
    tags: tuple[str, ...] | None = None
    authors: tuple[str, ...] | None = None

    @classmethod
    def given(cls, payload: Any) -> PostFields:
        """The fields a face's parsed payload holds (lists of slugs become tuples)."""
        tags, authors = payload.tags, payload.authors
        return cls(
            title=payload.title,
            slug=payload.slug,
            dek=payload.dek,
            body=payload.body,
            tags=None if tags is None else tuple(tags),
            authors=None if authors is None else tuple(authors),
        )

    @classmethod
    def of(cls, content: PostContent) -> PostFields:
        """Every field, as `content` has it."""
        return cls(
            title=content.title,
            slug=content.slug,
            dek=content.dek,
            body=content.body,
            tags=content.tags,
            authors=content.authors,
        )


def find_post(connection: Connection, actor: Actor, post_id: int, *, lock: bool = False) -> Post:
    """The post, if it exists and the actor may see it; otherwise NotFound (no leak).

    Use `lock` before changing it.
    """
    post = post_store.get_post(connection, post_id, lock=lock)
    if post is None or not sees_post(actor, post.content.authors):
        raise NotFound(f"no post with id {post_id}")
    return post


def require_action(
    connection: Connection, call: Call, action: PostAction, post: Post
) -> PostStatus:
    """Check role, base revision and lifecycle; return the state the action leads to."""
    actor = call.actor
    if not allowed_on_post(actor, action, post.content.authors, post.status):
        raise Forbidden(f"your role may not {action.value} this post")
    require_current(connection, call, post)
    target = next_status(action, post.status)
    if target is None:
        raise InvalidTransition(
            f"{action.value} is not a step a post that is {post.status.value} can take",
            current_status=post.status.value,
        )
    return target


def require_current(connection: Connection, call: Call, post: Post) -> None:
    """A change based on an older revision is refused, naming what changed since."""
    if call.base_revision is None or call.base_revision == post.revision:
        return
    current = post_store.get_revision(connection, post.id, post.revision)
    base = post_store.get_revision(connection, post.id, call.base_revision)
    assert current is not None
    changed = [
        name
        for name in PostContent.__dataclass_fields__
        if base is None or getattr(base.content, name) != getattr(current.content, name)
    ]
    raise StaleRevision(
        f"the post is at revision {post.revision}, not {call.base_revision}",
        current_revision=post.revision,
        revised_by=current.created_by,
        revised_at=current.created_at.isoformat(),
        changed_fields=changed,
    )


def list_visible_posts(connection: Connection, actor: Actor, query: PostQuery) -> list[Post]:
    """Editors see every post; a writer sees only posts they are an author of."""
    if is_editor(actor):
        return post_store.list_posts(connection, query)
    if query.author not in (None, actor.slug):
        return []
    return post_store.list_posts(connection, replace(query, author=actor.slug))


def create_post(connection: Connection, call: Call, fields: PostFields) -> Post:
    actor = call.actor
    authors = fields.authors if fields.authors is not None else (actor.slug,)
    if actor.staff_id is None and fields.authors is None:
        raise InvalidInput([FieldProblem("authors", "give the authors' staff slugs", "required")])
    if not is_editor(actor) and actor.slug not in authors:
        raise Forbidden("a writer must be one of the authors")
    title = (fields.title or "").strip()
    if not title:
        raise InvalidInput([FieldProblem("title", "a post needs a title", "required")])
    slug = fields.slug or _free_slug(connection, slugify(title))
    content = PostContent(
        slug=slug,
        title=title,
        dek=fields.dek or "",
        body=fields.body or "",
        tags=fields.tags or (),
        authors=authors,
    )
    _check_content(connection, content, post_id=None)
    revision = _revision(content, call)
    post_id = post_store.insert_post(connection, revision, PostStatus.DRAFT, None)
    record_audit(connection, call, "post.create", "post", post_id, revision=1)
    return _reload(connection, post_id)


def edit_post(
    connection: Connection,
    call: Call,
    post_id: int,
    fields: PostFields,
    *,
    action: str = "post.edit",
    **detail: object,
) -> Post:
    """Save a change as a new revision. A live post stays live at its pinned revision."""
    post = find_post(connection, call.actor, post_id, lock=True)
    require_action(connection, call, PostAction.EDIT, post)
    current = post.content
    content = PostContent(
        slug=current.slug if fields.slug is None else fields.slug,
        title=current.title if fields.title is None else fields.title.strip(),
        dek=current.dek if fields.dek is None else fields.dek,
        body=current.body if fields.body is None else fields.body,
        tags=current.tags if fields.tags is None else fields.tags,
        authors=current.authors if fields.authors is None else fields.authors,
    )
    if content == current:
        record_audit(connection, call, action, "post", post_id, revision=post.revision, fields=[])
        return post
    if not is_editor(call.actor) and call.actor.slug not in content.authors:
        raise Forbidden("a writer may not remove themselves from the authors")
    if not content.title:
        raise InvalidInput([FieldProblem("title", "a post needs a title", "required")])
    _check_content(connection, content, post_id=post_id)
    number = post_store.add_revision(connection, post_id, _revision(content, call))
    changed = [
        name
        for name in PostContent.__dataclass_fields__
        if getattr(content, name) != getattr(current, name)
    ]
    record_audit(
        connection, call, action, "post", post_id, revision=number, fields=changed, **detail
    )
    return _reload(connection, post_id)


@dataclass(frozen=True)
class Submitted:
    """A post sent for review, with its gates as they stand: blocking results are listed,
    not enforced (they block the publish)."""

    post: Post
    gates: list[GateResult]


def submit_post(connection: Connection, call: Call, post_id: int) -> Submitted:
    post = find_post(connection, call.actor, post_id, lock=True)
    target = require_action(connection, call, PostAction.SUBMIT, post)
    post_store.set_status(
        connection,
        post_id,
        target,
        at=call.at,
        published_at=post.published_at,
        published_revision=post.published_revision,
    )
    record_audit(connection, call, "post.submit", "post", post_id, revision=post.revision)
    submitted = _reload(connection, post_id)
    return Submitted(submitted, check_gates(connection, call, submitted))


def post_revisions(connection: Connection, actor: Actor, post_id: int) -> list[Revision]:
    find_post(connection, actor, post_id)
    return post_store.list_revisions(connection, post_id)


def post_revision(connection: Connection, actor: Actor, post_id: int, number: int) -> Revision:
    find_post(connection, actor, post_id)
    revision = post_store.get_revision(connection, post_id, number)
    if revision is None:
        raise NotFound(f"post {post_id} has no revision {number}")
    return revision


def preview(body: str) -> RenderedBody:
    """A body rendered as a post would show it, without saving anything."""
    return render_markdown(body)


def find_post_by_slug(connection: Connection, actor: Actor, slug: str) -> Post:
    post_id = post_store.get_post_id(connection, slug)
    if post_id is None:
        raise NotFound(f"no post {slug!r}")
    return find_post(connection, actor, post_id)


def _revision(content: PostContent, call: Call) -> post_store.NewRevision:
    return post_store.NewRevision(
        content=content,
        rendered=render_markdown(content.body),
        source=call.source,
        created_by=call.actor.staff_id,
        at=call.at,
        token_id=call.actor.token_id,
    )


def _free_slug(connection: Connection, base: str) -> str:
    class Taken:
        def __contains__(self, slug: object) -> bool:
            return isinstance(slug, str) and slug_owner(connection, slug) is not None

    return unique_slug(base, Taken())


def _check_content(connection: Connection, content: PostContent, post_id: int | None) -> None:
    """Every slug known and well-formed; the post's own slug free (old slugs stay reserved)."""
    problems: list[FieldProblem] = []
    if not is_valid_slug(content.slug):
        problems.append(FieldProblem("slug", SLUG_RULE, "invalid_slug"))
    if not content.authors:
        problems.append(FieldProblem("authors", "a post needs at least one author", "required"))
    for name, slugs, known in (
        ("tags", content.tags, tag_ids(connection, content.tags)),
        ("authors", content.authors, staff_ids(connection, content.authors)),
    ):
        if len(set(slugs)) != len(slugs):
            problems.append(FieldProblem(name, "a slug is listed twice", "duplicate"))
        problems.extend(
            FieldProblem(name, f"unknown slug {slug!r}", "unknown_slug")
            for slug in slugs
            if slug not in known
        )
    if problems:
        raise InvalidInput(problems)
    owner = slug_owner(connection, content.slug)
    if owner is not None and owner != post_id:
        raise Conflict(f"the slug {content.slug!r} belongs to another post", code="slug_taken")


def _reload(connection: Connection, post_id: int) -> Post:
    post = post_store.get_post(connection, post_id)
    assert post is not None, "the post was written in this transaction"
    return post


def restore_revision(connection: Connection, call: Call, post_id: int, number: int) -> Post:
    """Make an old revision's content current again, as a new revision."""
    old = post_revision(connection, call.actor, post_id, number)
    fields = PostFields.of(old.content)
    return edit_post(connection, call, post_id, fields, action="post.restore", restored=number)
