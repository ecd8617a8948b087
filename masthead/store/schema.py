"""The declared schema. Migrations must produce exactly this (a test checks it).

The public site reads only the `published_*` tables, which hold the pinned published
revision of each live post; drafts and working copies cannot leak into a page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from masthead.domain.text import MAX_NAME, MAX_TITLE

__all__ = [
    "approvals",
    "audit_log",
    "edge_secrets",
    "event_cursors",
    "events",
    "idempotency_keys",
    "is_declared_object",
    "metadata",
    "path_redirects",
    "post_authors",
    "post_revisions",
    "post_tags",
    "posts",
    "public_search",
    "published_authors",
    "published_posts",
    "published_tags",
    "receipts",
    "site_settings",
    "slug_redirects",
    "staff",
    "staff_search",
    "tags",
    "task_runs",
    "tasks",
    "tokens",
    "webhook_attempts",
    "webhook_deliveries",
    "webhooks",
    "workers",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        moment = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _timestamp(name: str, nullable: bool = False) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable)


staff = Table(
    "staff",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(80), nullable=False, unique=True),
    Column("name", String(MAX_NAME), nullable=False),
    Column("role_title", String(MAX_NAME), nullable=False, server_default=""),
    Column("department", String(MAX_NAME), nullable=False, server_default=""),
    Column("kind", String(16), nullable=False),
    Column("bio", Text, nullable=False, server_default=""),
    Column("role", String(16), nullable=False, server_default="writer"),
    Column("active", Boolean, nullable=False, server_default="1"),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

tags = Table(
    "tags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(80), nullable=False, unique=True),
    Column("name", String(MAX_NAME), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

posts = Table(
    "posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(80), nullable=False, unique=True),
    Column("title", String(MAX_TITLE), nullable=False),
    Column("dek", Text, nullable=False, server_default=""),
    Column("body", Text, nullable=False, server_default=""),
    Column("body_html", Text, nullable=False, server_default=""),
    Column("word_count", Integer, nullable=False, server_default="0"),
    Column("reading_time", Integer, nullable=False, server_default="1"),
    Column("status", String(16), nullable=False, index=True),
    _timestamp("published_at", nullable=True),
    Column("revision", Integer, nullable=False),
    Column("published_revision", Integer, nullable=True),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

post_tags = Table(
    "post_tags",
    metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("tag_id", ForeignKey("tags.id"), nullable=False, index=True),
    PrimaryKeyConstraint("post_id", "position"),
    UniqueConstraint("post_id", "tag_id"),
)

post_authors = Table(
    "post_authors",
    metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("staff_id", ForeignKey("staff.id"), nullable=False, index=True),
    PrimaryKeyConstraint("post_id", "position"),
    UniqueConstraint("post_id", "staff_id"),
)

post_revisions = Table(
    "post_revisions",
    metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("slug", String(80), nullable=False),
    Column("title", String(MAX_TITLE), nullable=False),
    Column("dek", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("word_count", Integer, nullable=False),
    Column("reading_time", Integer, nullable=False),
    Column("tags", Text, nullable=False, comment="JSON list of tag slugs, in order"),
    Column("authors", Text, nullable=False, comment="JSON list of staff slugs, in order"),
    Column("source", String(16), nullable=False),
    Column("created_by", ForeignKey("staff.id"), nullable=True),
    _timestamp("created_at"),
    Column("token_id", ForeignKey("tokens.id"), nullable=True),
    PrimaryKeyConstraint("post_id", "number"),
)

published_posts = Table(
    "published_posts",
    metadata,
    Column("post_id", Integer, primary_key=True, autoincrement=False),
    Column("revision", Integer, nullable=False),
    Column("slug", String(80), nullable=False, unique=True),
    Column("title", String(MAX_TITLE), nullable=False),
    Column("dek", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("reading_time", Integer, nullable=False),
    _timestamp("published_at"),
    _timestamp("updated_at"),
    ForeignKeyConstraint(
        ["post_id", "revision"], ["post_revisions.post_id", "post_revisions.number"]
    ),
    Index(None, "published_at", "post_id"),
    Index(None, "updated_at"),
)

published_tags = Table(
    "published_tags",
    metadata,
    Column("post_id", ForeignKey("published_posts.post_id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("tag_id", ForeignKey("tags.id"), nullable=False),
    # Copied from the post, so that a tag's listing, count and last change come from
    # this table's indexes alone: no sort over the (wide) post rows.
    _timestamp("published_at"),
    _timestamp("updated_at"),
    PrimaryKeyConstraint("post_id", "position"),
    Index(None, "tag_id", "published_at", "post_id"),
    Index(None, "tag_id", "updated_at"),
)

published_authors = Table(
    "published_authors",
    metadata,
    Column("post_id", ForeignKey("published_posts.post_id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("staff_id", ForeignKey("staff.id"), nullable=False),
    _timestamp("published_at"),
    _timestamp("updated_at"),
    PrimaryKeyConstraint("post_id", "position"),
    Index(None, "staff_id", "published_at", "post_id"),
    Index(None, "staff_id", "updated_at"),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("staff_id", ForeignKey("staff.id"), nullable=False, index=True),
    Column("name", String(MAX_NAME), nullable=False, server_default=""),
    Column("digest", String(64), nullable=False, unique=True, comment="SHA-256 of the token"),
    Column("hint", String(16), nullable=False, comment="the token's last characters"),
    Column(
        "scope",
        String(16),
        nullable=False,
        server_default="staff",
        comment="staff: what the role allows; metrics: only /api/v1/metrics",
    ),
    _timestamp("created_at"),
    _timestamp("last_used_at", nullable=True),
    _timestamp("revoked_at", nullable=True),
)

edge_secrets = Table(
    "edge_secrets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", String(64), nullable=False, unique=True, comment="SHA-256 of the secret"),
    Column("label", String(200), nullable=False, server_default=""),
    _timestamp("created_at"),
    _timestamp("retired_at", nullable=True),
)

site_settings = Table(
    "site_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False, comment="JSON"),
    _timestamp("updated_at"),
)

slug_redirects = Table(
    "slug_redirects",
    metadata,
    Column("old_slug", String(80), primary_key=True),
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), nullable=False, index=True),
    _timestamp("created_at"),
)

# Old addresses of an imported site (issue 17): the exact old path, to the post it became.
path_redirects = Table(
    "path_redirects",
    metadata,
    Column("old_path", String(500), primary_key=True),
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), nullable=False, index=True),
    _timestamp("created_at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    _timestamp("at"),
    Column("staff_id", ForeignKey("staff.id"), nullable=True, index=True),
    Column("token_id", ForeignKey("tokens.id"), nullable=True),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32), nullable=False),
    Column("target_id", String(200), nullable=False),
    Column("request_id", String(64), nullable=True),
    Column("idempotency_key", String(200), nullable=True),
    Column("detail", Text, nullable=False, server_default="{}", comment="JSON"),
    Index(None, "target_type", "target_id"),
    Index(None, "at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("token_id", ForeignKey("tokens.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("request_digest", String(64), nullable=False),
    Column("state", String(16), nullable=False, comment="in_flight or done"),
    Column("status_code", Integer, nullable=True),
    Column("response_headers", Text, nullable=True, comment="JSON"),
    Column("response_body", LargeBinary, nullable=True),
    _timestamp("created_at"),
    _timestamp("locked_until"),
    _timestamp("expires_at"),
    PrimaryKeyConstraint("token_id", "key"),
    Index(None, "expires_at"),
)

# --- task queue ---
# The partial indexes hold only live rows (queued tasks, pending keys, open runs), so
# claiming, deduplicating and reaping stay cheap however many finished tasks are kept.

tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(100), nullable=False),
    Column("payload", Text, nullable=False, server_default="{}", comment="JSON object"),
    Column("state", String(16), nullable=False),
    Column("priority", Integer, nullable=False, server_default="0", comment="higher runs first"),
    _timestamp("not_before"),
    Column("run_count", Integer, nullable=False, server_default="0"),
    Column("error_count", Integer, nullable=False, server_default="0"),
    Column("lost_count", Integer, nullable=False, server_default="0"),
    Column("unique_key", String(200), nullable=True),
    Column("last_error_code", String(64), nullable=True),
    Column("last_error", Text, nullable=True),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    _timestamp("finished_at", nullable=True),
)
Index(
    "ix_tasks_claim",
    tasks.c.priority.desc(),
    tasks.c.id,
    sqlite_where=tasks.c.state == "queued",
    postgresql_where=tasks.c.state == "queued",
)
Index(
    "ix_tasks_pending_unique_key",
    tasks.c.unique_key,
    unique=True,
    sqlite_where=tasks.c.state.in_(["queued", "running"]),
    postgresql_where=tasks.c.state.in_(["queued", "running"]),
)

task_runs = Table(
    "task_runs",
    metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False, comment="1 for the first run: the fencing token"),
    Column("worker_id", String(64), nullable=False),
    _timestamp("started_at"),
    _timestamp("heartbeat_at"),
    _timestamp("lease_expires_at"),
    _timestamp("ended_at", nullable=True),
    Column("outcome", String(16), nullable=True, comment="NULL while the run is open"),
    Column("error_code", String(64), nullable=True),
    Column("error", Text, nullable=True),
    PrimaryKeyConstraint("task_id", "attempt"),
)
Index(
    "ix_task_runs_open_lease",
    task_runs.c.lease_expires_at,
    sqlite_where=task_runs.c.outcome.is_(None),
    postgresql_where=task_runs.c.outcome.is_(None),
)

workers = Table(
    "workers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("kinds", Text, nullable=False, server_default="", comment="comma-separated"),
    Column("concurrency", Integer, nullable=False),
    _timestamp("started_at"),
    _timestamp("last_seen_at"),
)

# --- lifecycle events (an outbox) ---
# Written in the same transaction as the change they describe; consumers read them in
# id order, each from its own cursor.

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("type", String(64), nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", String(200), nullable=False),
    Column("revision", Integer, nullable=True),
    Column("actor", String(80), nullable=False, comment="a staff slug, operator or worker"),
    Column("source", String(16), nullable=False),
    _timestamp("at"),
    Column("request_id", String(64), nullable=True),
    Column("facts", Text, nullable=False, server_default="{}", comment="JSON"),
    Column("affected", Text, nullable=False, server_default="{}", comment="JSON: public pages"),
    Index(None, "subject_type", "subject_id"),
)

event_cursors = Table(
    "event_cursors",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("position", Integer, nullable=False, comment="the last event id handed over"),
    _timestamp("updated_at"),
)

# --- verified publishing ---

approvals = Table(
    "approvals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("revision", Integer, nullable=False),
    Column("staff_id", ForeignKey("staff.id"), nullable=False),
    Column("token_id", ForeignKey("tokens.id"), nullable=True),
    _timestamp("at"),
)

receipts = Table(
    "receipts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("revision", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("actor", String(80), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("token_id", ForeignKey("tokens.id"), nullable=True),
    Column("approval", Text, nullable=True, comment="JSON"),
    Column("gates", Text, nullable=False, server_default="[]", comment="JSON"),
    _timestamp("flipped_at"),
    Column("pages", Text, nullable=False, server_default="[]", comment="JSON"),
    Column("expect", Text, nullable=False, server_default="{}", comment="JSON"),
    Column("attempts", Text, nullable=False, server_default="[]", comment="JSON"),
    _timestamp("verified_at", nullable=True),
    _timestamp("ended_at", nullable=True),
)

# --- webhooks ---

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False, server_default="[]", comment="JSON: event types"),
    Column("secret", Text, nullable=False, comment="encrypted with MASTHEAD_WEBHOOK_KEY"),
    Column("previous_secret", Text, nullable=True, comment="encrypted; signs until below"),
    _timestamp("previous_until", nullable=True),
    Column("active", Boolean, nullable=False),
    Column("paused_reason", String(200), nullable=True),
    Column("since_event", Integer, nullable=False, comment="gets the events after this id"),
    Column("created_by", String(80), nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("webhook_id", ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("event_id", Integer, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("body", Text, nullable=False, comment="the JSON body sent, byte for byte"),
    Column("state", String(16), nullable=False, index=True),
    Column("task_id", Integer, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    _timestamp("created_at"),
    _timestamp("ended_at", nullable=True),
    UniqueConstraint("webhook_id", "event_id"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "delivery_id",
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    _timestamp("at"),
    Column("status", Integer, nullable=True, comment="the HTTP status; null: no answer"),
    Column("latency_ms", Integer, nullable=False),
    Column("answer", Text, nullable=False, server_default="", comment="its first bytes"),
    Column("error", Text, nullable=True),
)


# --- search ---
# The text each index holds: a live post's published revision (public), and every post's
# working copy (staff), bodies as plain text. Each database indexes these rows its own
# way, made by migration 0009 and kept in step with the rows by the database itself: on
# SQLite an FTS5 table over each (triggers), on PostgreSQL a generated, weighted
# `document` tsvector with a GIN index (and `heading`, title and dek, that ranking
# reads). Those objects are not declared here.


def _search_table(name: str, post_key: str) -> Table:
    return Table(
        name,
        metadata,
        Column(
            "post_id",
            ForeignKey(post_key, ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        Column("title", Text, nullable=False),
        Column("dek", Text, nullable=False),
        Column("body", Text, nullable=False),
    )


public_search = _search_table("public_search", "published_posts.post_id")
staff_search = _search_table("staff_search", "posts.id")

SEARCH_TABLES = ("public_search", "staff_search")
_FTS_TABLES = {
    f"{table}_fts{suffix}"
    for table in SEARCH_TABLES
    for suffix in ("", "_data", "_idx", "_docsize", "_config")
}
_SEARCH_INDEXES = {f"ix_{table}_document" for table in SEARCH_TABLES}


def is_declared_object(
    item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Whether migrations compare this object with the declaration: not the databases' own
    search index objects (an Alembic `include_object` hook)."""
    if type_ == "table":
        return name not in _FTS_TABLES
    if type_ == "index":
        return name not in _SEARCH_INDEXES
    if type_ == "column":
        return not (name in {"document", "heading"} and item.table.name in SEARCH_TABLES)
    return True
