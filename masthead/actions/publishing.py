"""Putting a post's current revision live, taking it down, archiving it: the publish pipeline.

This is the one place a post goes public or leaves the public site. A publish runs the
gates (a blocking result refuses it, and nothing changes); then, in the caller's one
transaction, it pins the revision, flips the status, writes the audit entry and the
lifecycle event, creates the receipt and queues its verification. Taking a live post
down is symmetric: its receipt checks that the page and every listing let it go.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from masthead.actions.context import Call, record_audit
from masthead.actions.drafts import find_post, require_action
from masthead.actions.gates import GateResult, GatesFailed, check_gates
from masthead.actions.lifecycle import PublicChange, live_facts
from masthead.actions.verification import queue_verification
from masthead.domain.events import AffectedPages, EventType
from masthead.domain.gates import blocking
from masthead.domain.permissions import PostAction
from masthead.domain.posts import Post, PostStatus, RevisionSource
from masthead.domain.receipts import NewReceipt, Receipt, ReceiptAction, ReceiptState
from masthead.site.changes import PublicState, Scope, listing_url
from masthead.site.pages import FEED_SIZE
from masthead.site.pagetable import expand
from masthead.site.urls import listing_page_url
from masthead.store import posts as post_store
from masthead.store import published, slugs
from masthead.store import receipts as receipt_store
from masthead.store.approvals import latest_approval
from masthead.store.placements import INDEX, ListingKey
from masthead.store.staff import staff_kinds
from masthead.store.tasks import cancel_pending_with_key

__all__ = [
    "Published",
    "archive_post",
    "block_receipt",
    "cancel_scheduled_publish",
    "expect_live",
    "publish_post",
    "put_live",
    "scheduled_publish_key",
    "take_down",
    "unpublish_post",
]


@dataclass(frozen=True)
class Published:
    """What a publish (or a take-down) did: the post now, its receipt, its gates."""

    post: Post
    receipt: Receipt | None  # None for an import, and for a post that was not live
    gates: list[GateResult] = field(default_factory=list)


def publish_post(
    connection: Connection, call: Call, post_id: int, *, published_at: datetime | None = None
) -> Published:
    """Publish now. A scheduled post goes live now, and its scheduled publish is dropped.

    `published_at` dates the post (an import keeps its posts' dates); without it a post
    keeps the date of its first publish. An import runs the gates as a report only, and
    makes no receipt.
    """
    post = find_post(connection, call.actor, post_id, lock=True)
    require_action(connection, call, PostAction.PUBLISH, post)
    results = check_gates(connection, call, post)
    importing = call.source is RevisionSource.IMPORT
    if blocking(results) and not importing:
        raise GatesFailed(results)
    early = post.status is PostStatus.SCHEDULED
    if early:
        cancel_scheduled_publish(connection, post_id, call.at)
    live_since = published_at or (call.at if early else post.published_at or call.at)
    return put_live(connection, call, post, results, published_at=live_since, receipt=not importing)


def put_live(
    connection: Connection,
    call: Call,
    post: Post,
    gates: list[GateResult],
    *,
    published_at: datetime,
    receipt: bool = True,
    **detail: Any,
) -> Published:
    """Pin the post's current revision as its live version, dated `published_at`.

    The mechanism behind every publish (the caller has checked who may do it and run the
    gates). When the live slug changes, the old one keeps answering with a redirect.
    """
    change = PublicChange(connection, call, _reach(post))
    was_live = change.before.posts.get(post.id)
    if was_live is not None and was_live.slug != post.content.slug:
        slugs.add_redirect(connection, was_live.slug, post.id, call.at)
    slugs.remove_redirect(connection, post.content.slug, post.id)
    published.pin_working_copy(connection, post, published_at, call.at)
    live = _moved(connection, call, post, PostStatus.PUBLISHED, published_at, post.revision)
    record_audit(
        connection, call, "post.publish", "post", post.id, revision=post.revision, **detail
    )
    after = change.after()
    affected = change.record(
        EventType.POST_UPDATED if was_live else EventType.POST_PUBLISHED,
        "post",
        post.id,
        revision=post.revision,
        facts=_facts(live, change.before, after),
        after=after,
    )
    if not receipt:
        return Published(live, None, gates)
    expect = _expect_live(live, after)
    made = _receipt(connection, call, live, ReceiptAction.PUBLISH, gates, affected, expect)
    return Published(live, made, gates)


def take_down(
    connection: Connection,
    call: Call,
    post: Post,
    status: PostStatus,
    event: EventType,
    action: ReceiptAction,
) -> Published:
    """Take the post off every public page (if it is live) and give it `status`.

    It keeps its revisions and its date. A post that was live gets a receipt whose checks
    are that its page answers 404 and no listing, feed or sitemap shows it any more.
    """
    change = PublicChange(connection, call, _reach(post))
    published.unpin(connection, post.id)
    down = _moved(connection, call, post, status, post.published_at, None)
    after = change.after()
    facts = _facts(down, change.before, after)
    affected = change.record(
        event, "post", post.id, revision=post.revision, facts=facts, after=after
    )
    if post.id not in change.before.posts or call.source is RevisionSource.IMPORT:
        return Published(down, None)
    expect = _expect_gone(change.before, post.id)
    return Published(down, _receipt(connection, call, down, action, [], affected, expect))


def unpublish_post(connection: Connection, call: Call, post_id: int) -> Published:
    post = find_post(connection, call.actor, post_id, lock=True)
    require_action(connection, call, PostAction.UNPUBLISH, post)
    down = take_down(
        connection,
        call,
        post,
        PostStatus.UNPUBLISHED,
        EventType.POST_UNPUBLISHED,
        ReceiptAction.UNPUBLISH,
    )
    record_audit(connection, call, "post.unpublish", "post", post_id)
    return down


def archive_post(connection: Connection, call: Call, post_id: int) -> Published:
    """Deleted from view, kept for the record."""
    post = find_post(connection, call.actor, post_id, lock=True)
    require_action(connection, call, PostAction.ARCHIVE, post)
    cancel_scheduled_publish(connection, post_id, call.at)
    archived = take_down(
        connection,
        call,
        post,
        PostStatus.ARCHIVED,
        EventType.POST_ARCHIVED,
        ReceiptAction.ARCHIVE,
    )
    record_audit(connection, call, "post.archive", "post", post_id)
    return archived


def block_receipt(
    connection: Connection, call: Call, post: Post, gates: list[GateResult]
) -> Receipt:
    """The receipt of a publish the gates blocked at its time: nothing went live."""
    return _receipt(connection, call, post, ReceiptAction.PUBLISH, gates, None, {}, blocked=True)


def scheduled_publish_key(post_id: int) -> str:
    """The unique key of a post's scheduled publish: at most one is pending."""
    return f"publish:{post_id}"


def cancel_scheduled_publish(connection: Connection, post_id: int, at: datetime) -> None:
    cancel_pending_with_key(connection, scheduled_publish_key(post_id), at)


# --- helpers ---------------------------------------------------------------------------------


def _reach(post: Post) -> Scope:
    """What a change of this post's public life can reach: its page, and every listing it
    is in now or will be in (its live version's, and its working copy's)."""
    return Scope.of([post.id], post.content.tags, post.content.authors, headers=False)


def _moved(
    connection: Connection,
    call: Call,
    post: Post,
    status: PostStatus,
    published_at: datetime | None,
    published_revision: int | None,
) -> Post:
    post_store.set_status(
        connection,
        post.id,
        status,
        at=call.at,
        published_at=published_at,
        published_revision=published_revision,
    )
    return replace(
        post,
        status=status,
        published_at=published_at,
        published_revision=published_revision,
        updated_at=call.at,
    )


def _facts(post: Post, before: PublicState, after: PublicState) -> dict[str, Any]:
    """What consumers need that the change erased: how the post stood before, and now."""
    return {
        "status": post.status.value,
        "slug": post.content.slug,
        "live_before": live_facts(before, post.id),
        "live_after": live_facts(after, post.id),
    }


def _listing_checks(state: PublicState, post_id: int) -> list[dict[str, str]]:
    """Each listing the post is in, with the page of it that shows the post."""
    checks = []
    for key, position in sorted(state.posts[post_id].positions.items()):
        number = position // state.page_size + 1
        checks.append({"name": _check_name(key), "url": listing_page_url(listing_url(key), number)})
    return checks


def _check_name(key: ListingKey) -> str:
    kind, slug = key
    return kind if key == INDEX else f"{kind}:{slug}"


def _expect_live(post: Post, after: PublicState) -> dict[str, Any]:
    expect = expect_live(after, post.id)
    assert (expect["slug"], expect["revision"]) == (post.content.slug, post.revision)
    return expect


def expect_live(state: PublicState, post_id: int) -> dict[str, Any]:
    """What the live site must show of a live post: its page, and each listing, feed and
    sitemap it is in (what verification checks, after a publish and in `ops verify-site`)."""
    live = state.posts[post_id]
    _, revision, title, *_ = live.page
    return {
        "slug": live.slug,
        "title": title,
        "revision": revision,
        "listings": _listing_checks(state, post_id),
        "feed": live.positions.get(INDEX, FEED_SIZE) < FEED_SIZE,
    }


def _expect_gone(before: PublicState, post_id: int) -> dict[str, Any]:
    was = before.posts[post_id]
    return {
        "slug": was.slug,
        "listings": _listing_checks(before, post_id),
        "feed": was.positions.get(INDEX, FEED_SIZE) < FEED_SIZE,
    }


def _receipt(
    connection: Connection,
    call: Call,
    post: Post,
    action: ReceiptAction,
    gates: list[GateResult],
    affected: AffectedPages | None,
    expect: dict[str, Any],
    *,
    blocked: bool = False,
) -> Receipt:
    """Write the receipt and, unless the publish was blocked, queue its first check."""
    actor = call.actor
    kinds = staff_kinds(connection, [actor.slug]) if actor.staff_id is not None else {}
    approval = latest_approval(connection, post.id, post.revision)
    new = NewReceipt(
        post_id=post.id,
        revision=post.revision,
        action=action,
        state=ReceiptState.BLOCKED if blocked else ReceiptState.PENDING,
        actor=actor.slug,
        actor_kind=kinds[actor.slug].value if actor.slug in kinds else actor.slug,
        token_id=actor.token_id,
        approval=None if approval is None else _approval_facts(approval),
        gates=[result.as_dict() for result in gates],
        flipped_at=call.at,
        pages=expand(affected) if affected else [],
        expect=expect,
    )
    receipt = receipt_store.insert_receipt(connection, new)
    if not blocked:
        queue_verification(connection, receipt.id, 1, at=call.at, not_before=call.at)
    return receipt


def _approval_facts(approval: Any) -> dict[str, Any]:
    return {
        "staff": approval.staff,
        "kind": approval.kind.value,
        "revision": approval.revision,
        "at": approval.at.isoformat(),
    }
