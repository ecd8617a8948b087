"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("dek", sa.Text(), server_default="", nullable=False),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column("body_html", sa.Text(), server_default="", nullable=False),
        sa.Column("word_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reading_time", sa.Integer(), server_default="1", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("published_revision", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
        sa.UniqueConstraint("slug", name=op.f("uq_posts_slug")),
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posts_status"), ["status"], unique=False)

    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role_title", sa.String(length=200), server_default="", nullable=False),
        sa.Column("department", sa.String(length=200), server_default="", nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("bio", sa.Text(), server_default="", nullable=False),
        sa.Column("role", sa.String(length=16), server_default="writer", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("slug", name=op.f("uq_staff_slug")),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("slug", name=op.f("uq_tags_slug")),
    )
    op.create_table(
        "post_authors",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_authors_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_post_authors_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("post_id", "position", name=op.f("pk_post_authors")),
        sa.UniqueConstraint("post_id", "staff_id", name=op.f("uq_post_authors_post_id_staff_id")),
    )
    with op.batch_alter_table("post_authors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_authors_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "post_revisions",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("dek", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("word_count", sa.Integer(), nullable=False),
        sa.Column("reading_time", sa.Integer(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False, comment="JSON list of tag slugs, in order"),
        sa.Column(
            "authors", sa.Text(), nullable=False, comment="JSON list of staff slugs, in order"
        ),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_post_revisions_created_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_revisions_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", "number", name=op.f("pk_post_revisions")),
    )
    op.create_table(
        "post_tags",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_tags_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], name=op.f("fk_post_tags_tag_id_tags")),
        sa.PrimaryKeyConstraint("post_id", "position", name=op.f("pk_post_tags")),
        sa.UniqueConstraint("post_id", "tag_id", name=op.f("uq_post_tags_post_id_tag_id")),
    )
    with op.batch_alter_table("post_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_tags_tag_id"), ["tag_id"], unique=False)

    op.create_table(
        "published_posts",
        sa.Column("post_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("dek", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("reading_time", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id", "revision"],
            ["post_revisions.post_id", "post_revisions.number"],
            name=op.f("fk_published_posts_post_id_revision_post_revisions"),
        ),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_published_posts")),
        sa.UniqueConstraint("slug", name=op.f("uq_published_posts_slug")),
    )
    with op.batch_alter_table("published_posts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_published_posts_published_at_post_id"),
            ["published_at", "post_id"],
            unique=False,
        )

    op.create_table(
        "published_authors",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["published_posts.post_id"],
            name=op.f("fk_published_authors_post_id_published_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_published_authors_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("post_id", "position", name=op.f("pk_published_authors")),
    )
    with op.batch_alter_table("published_authors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_published_authors_staff_id_post_id"),
            ["staff_id", "post_id"],
            unique=False,
        )

    op.create_table(
        "published_tags",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["published_posts.post_id"],
            name=op.f("fk_published_tags_post_id_published_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name=op.f("fk_published_tags_tag_id_tags")
        ),
        sa.PrimaryKeyConstraint("post_id", "position", name=op.f("pk_published_tags")),
    )
    with op.batch_alter_table("published_tags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_published_tags_tag_id_post_id"), ["tag_id", "post_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("published_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_published_tags_tag_id_post_id"))

    op.drop_table("published_tags")
    with op.batch_alter_table("published_authors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_published_authors_staff_id_post_id"))

    op.drop_table("published_authors")
    with op.batch_alter_table("published_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_published_posts_published_at_post_id"))

    op.drop_table("published_posts")
    with op.batch_alter_table("post_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_tags_tag_id"))

    op.drop_table("post_tags")
    op.drop_table("post_revisions")
    with op.batch_alter_table("post_authors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_authors_staff_id"))

    op.drop_table("post_authors")
    op.drop_table("tags")
    op.drop_table("staff")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posts_status"))

    op.drop_table("posts")
