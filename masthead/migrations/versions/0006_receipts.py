"""Verified publishing: approvals bound to a revision, and publish receipts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_approvals_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_approvals_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["tokens.id"], name=op.f("fk_approvals_token_id_tokens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_index(op.f("ix_approvals_post_id"), "approvals", ["post_id"])
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("approval", sa.Text(), nullable=True, comment="JSON"),
        sa.Column("gates", sa.Text(), server_default="[]", nullable=False, comment="JSON"),
        sa.Column("flipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pages", sa.Text(), server_default="[]", nullable=False, comment="JSON"),
        sa.Column("expect", sa.Text(), server_default="{}", nullable=False, comment="JSON"),
        sa.Column("attempts", sa.Text(), server_default="[]", nullable=False, comment="JSON"),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_receipts_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["tokens.id"], name=op.f("fk_receipts_token_id_tokens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
    )
    op.create_index(op.f("ix_receipts_post_id"), "receipts", ["post_id"])
    op.create_index(op.f("ix_receipts_state"), "receipts", ["state"])


def downgrade() -> None:
    op.drop_index(op.f("ix_receipts_state"), table_name="receipts")
    op.drop_index(op.f("ix_receipts_post_id"), table_name="receipts")
    op.drop_table("receipts")
    op.drop_index(op.f("ix_approvals_post_id"), table_name="approvals")
    op.drop_table("approvals")
