"""Each resource as every face shows it: one plain dict per post, staff member, token,
audit entry and publish receipt, shared by the API (which validates it into its schema)
and the CLI's `--json`.

Values stay Python values (datetimes, enums); each face writes them out its own way, the
same way: a datetime as ISO 8601 with its zone.
"""

from __future__ import annotations

from typing import Any

from masthead.domain.audit import AuditEntry
from masthead.domain.posts import Post, PostContent, Revision
from masthead.domain.receipts import Attempt, Receipt
from masthead.domain.redirects import PathRedirect
from masthead.domain.staff import StaffMember, Tag
from masthead.domain.tokens import TokenRecord
from masthead.domain.webhooks import Delivery, Webhook, event_id_of

__all__ = [
    "audit_shape",
    "content_shape",
    "post_shape",
    "receipt_shape",
    "redirect_shape",
    "revision_shape",
    "staff_shape",
    "tag_shape",
    "token_shape",
    "webhook_delivery_shape",
    "webhook_shape",
]


def content_shape(content: PostContent) -> dict[str, Any]:
    return {
        "slug": content.slug,
        "title": content.title,
        "dek": content.dek,
        "body": content.body,
        "tags": list(content.tags),
        "authors": list(content.authors),
    }


def post_shape(post: Post, public_url: str) -> dict[str, Any]:
    return {
        "id": post.id,
        **content_shape(post.content),
        "status": post.status,
        "published_at": post.published_at,
        "revision": post.revision,
        "published_revision": post.published_revision,
        "body_html": post.body_html,
        "reading_time": post.reading_time,
        "url": f"{public_url}/posts/{post.content.slug}/",
        "created_at": post.created_at,
        "updated_at": post.updated_at,
    }


def revision_shape(revision: Revision) -> dict[str, Any]:
    return {
        **content_shape(revision.content),
        "number": revision.number,
        "body_html": revision.body_html,
        "reading_time": revision.reading_time,
        "source": revision.source,
        "created_at": revision.created_at,
        "created_by": revision.created_by,
        "token_id": revision.token_id,
    }


def tag_shape(tag: Tag) -> dict[str, Any]:
    return {"slug": tag.slug, "name": tag.name, "description": tag.description}


def staff_shape(member: StaffMember) -> dict[str, Any]:
    return {
        "slug": member.slug,
        "name": member.name,
        "role_title": member.role_title,
        "department": member.department,
        "kind": member.kind,
        "role": member.role,
        "bio": member.bio,
        "active": member.active,
    }


def token_shape(record: TokenRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "staff": record.staff_slug,
        "hint": record.hint,
        "created_at": record.created_at,
        "last_used_at": record.last_used_at,
        "revoked_at": record.revoked_at,
        "scope": record.scope.value,
    }


def audit_shape(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id or 0,
        "at": entry.at,
        "actor": entry.staff_slug,
        "token_id": entry.token_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "request_id": entry.request_id,
        "idempotency_key": entry.idempotency_key,
        "detail": entry.detail,
    }


def receipt_shape(receipt: Receipt) -> dict[str, Any]:
    return {
        "id": receipt.id,
        "post": receipt.post_id,
        "revision": receipt.revision,
        "action": receipt.action,
        "state": receipt.state,
        "published_by": {
            "staff": receipt.actor,
            "kind": receipt.actor_kind,
            "token_id": receipt.token_id,
        },
        "approval": dict(receipt.approval) if receipt.approval else None,
        "gates": [dict(result) for result in receipt.gates],
        "flipped_at": receipt.flipped_at,
        "pages": list(receipt.pages),
        "attempts": [_attempt_shape(attempt) for attempt in receipt.attempts],
        "checks": [check.as_dict() for check in receipt.checks],
        "verified_at": receipt.verified_at,
        "seconds_to_verified": receipt.seconds_to_verified,
    }


def _attempt_shape(attempt: Attempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "at": attempt.at,
        "ok": attempt.ok,
        "checks": [check.as_dict() for check in attempt.checks],
    }


def webhook_shape(webhook: Webhook) -> dict[str, Any]:
    """Never the secret: it is answered once, beside this shape, when it is made."""
    return {
        "id": webhook.id,
        "url": webhook.url,
        "events": [event.value for event in webhook.events],
        "active": webhook.active,
        "paused_reason": webhook.paused_reason,
        "previous_secret_until": webhook.previous_until,
        "created_by": webhook.created_by,
        "created_at": webhook.created_at,
        "updated_at": webhook.updated_at,
    }


def webhook_delivery_shape(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "webhook_id": delivery.webhook_id,
        "event_id": event_id_of(delivery.event_id),
        "event_type": delivery.event_type,
        "state": delivery.state.value,
        "task_id": delivery.task_id,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "ended_at": delivery.ended_at,
        "log": [
            {
                "at": attempt.at,
                "status": attempt.status,
                "latency_ms": attempt.latency_ms,
                "answer": attempt.answer,
                "error": attempt.error,
            }
            for attempt in delivery.log
        ],
    }


def redirect_shape(redirect: PathRedirect) -> dict[str, Any]:
    """An old address and where it leads (the post's URL, once the post is live)."""
    return {
        "path": redirect.old_path,
        "slug": redirect.slug,
        "location": redirect.location,
        "created_at": redirect.created_at,
    }
