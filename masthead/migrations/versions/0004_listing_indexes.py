"""Listing indexes: tag and author listings read their own indexed copies of the dates.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LINKS = {"published_tags": "tag_id", "published_authors": "staff_id"}


def upgrade() -> None:
    for table, key in LINKS.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
            batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        for column in ("published_at", "updated_at"):
            op.execute(
                f"UPDATE {table} SET {column} = (SELECT p.{column} FROM published_posts p "
                f"WHERE p.post_id = {table}.post_id)"
            )
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "published_at", existing_type=sa.DateTime(timezone=True), nullable=False
            )
            batch.alter_column(
                "updated_at", existing_type=sa.DateTime(timezone=True), nullable=False
            )
            batch.drop_index(f"ix_{table}_{key}_post_id")
            batch.create_index(
                f"ix_{table}_{key}_published_at_post_id", [key, "published_at", "post_id"]
            )
            batch.create_index(f"ix_{table}_{key}_updated_at", [key, "updated_at"])
    with op.batch_alter_table("published_posts") as batch:
        batch.create_index("ix_published_posts_updated_at", ["updated_at"])


def downgrade() -> None:
    with op.batch_alter_table("published_posts") as batch:
        batch.drop_index("ix_published_posts_updated_at")
    for table, key in LINKS.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_{key}_updated_at")
            batch.drop_index(f"ix_{table}_{key}_published_at_post_id")
            batch.create_index(f"ix_{table}_{key}_post_id", [key, "post_id"])
            batch.drop_column("updated_at")
            batch.drop_column("published_at")
