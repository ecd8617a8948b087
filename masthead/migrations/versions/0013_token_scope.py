"""Token scopes: a token made only for scraping metrics.

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tokens",
        sa.Column(
            "scope",
            sa.String(length=16),
            nullable=False,
            server_default="staff",
            comment="staff: what the role allows; metrics: only /api/v1/metrics",
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("scope")
