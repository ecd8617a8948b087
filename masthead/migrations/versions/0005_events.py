"""Lifecycle events: an outbox written with each change, and the consumers' cursors.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column(
            "actor",
            sa.String(length=80),
            nullable=False,
            comment="a staff slug, operator or worker",
        ),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("facts", sa.Text(), server_default="{}", nullable=False, comment="JSON"),
        sa.Column(
            "affected",
            sa.Text(),
            server_default="{}",
            nullable=False,
            comment="JSON: public pages",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(
        op.f("ix_events_subject_type_subject_id"), "events", ["subject_type", "subject_id"]
    )
    op.create_table(
        "event_cursors",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column(
            "position", sa.Integer(), nullable=False, comment="the last event id handed over"
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name=op.f("pk_event_cursors")),
    )


def downgrade() -> None:
    op.drop_table("event_cursors")
    op.drop_index(op.f("ix_events_subject_type_subject_id"), table_name="events")
    op.drop_table("events")
