"""Old addresses of imported sites: a redirect keyed by the old path, to a post.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "path_redirects",
        sa.Column("old_path", sa.String(length=500), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_path_redirects_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("old_path", name=op.f("pk_path_redirects")),
    )
    with op.batch_alter_table("path_redirects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_path_redirects_post_id"), ["post_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("path_redirects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_path_redirects_post_id"))
    op.drop_table("path_redirects")
