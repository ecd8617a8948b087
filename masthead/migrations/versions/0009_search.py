"""Full-text search: the text of live posts (public) and of working copies (staff), indexed.

Each table holds a post's title, dek and body as plain text; the write path keeps the
rows in step. The index over them is each database's own: on SQLite an FTS5 table with
external content, kept in step by triggers; on PostgreSQL a generated `document`
tsvector (title weighted A, dek B, body C) with a GIN index, and on the public index a
generated `heading` tsvector (title and dek alone) that ranking reads. Existing posts
are indexed here. Every statement may run again after a cut-off run.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masthead.store.search import plain_text

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SOURCES = {"public_search": ("published_posts", "post_id"), "staff_search": ("posts", "id")}
HEADING = (
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, dek), 'B')"
)
WEIGHTED = HEADING + " || setweight(to_tsvector('english'::regconfig, body), 'C')"


def upgrade() -> None:
    for table, (source, key) in SOURCES.items():
        _create(table, source, key)
        if op.get_bind().dialect.name == "sqlite":
            _sqlite_index(table)
        else:
            _postgres_index(table)
        _fill(table, source, key)


def _create(table: str, source: str, key: str) -> None:
    op.create_table(
        table,
        sa.Column("post_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("dek", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            [f"{source}.{key}"],
            name=op.f(f"fk_{table}_post_id_{source}"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", name=op.f(f"pk_{table}")),
        if_not_exists=True,
    )


def _sqlite_index(table: str) -> None:
    fts = f"{table}_fts"
    op.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(title, dek, body, "
        f"content='{table}', content_rowid='post_id', "
        "tokenize='porter unicode61 remove_diacritics 2', prefix='2 3')"
    )
    new = "new.post_id, new.title, new.dek, new.body"
    old = "'delete', old.post_id, old.title, old.dek, old.body"
    columns = "rowid, title, dek, body"
    op.execute(
        f"CREATE TRIGGER IF NOT EXISTS {table}_inserted AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}({columns}) VALUES ({new}); END"
    )
    op.execute(
        f"CREATE TRIGGER IF NOT EXISTS {table}_deleted AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, {columns}) VALUES ({old}); END"
    )
    op.execute(
        f"CREATE TRIGGER IF NOT EXISTS {table}_updated AFTER UPDATE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, {columns}) VALUES ({old}); "
        f"INSERT INTO {fts}({columns}) VALUES ({new}); END"
    )


def _postgres_index(table: str) -> None:
    op.execute(
        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS document tsvector "
        f"GENERATED ALWAYS AS ({WEIGHTED}) STORED"
    )
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_document ON {table} USING gin (document)")
    if table == "public_search":  # what ranking reads: small enough to stay in the row
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS heading tsvector "
            f"GENERATED ALWAYS AS ({HEADING}) STORED"
        )


def _fill(table: str, source: str, key: str) -> None:
    """Index what is there already (none of it, on a new database)."""
    connection = op.get_bind()
    indexed = sa.text(f"SELECT post_id FROM {table}")
    done = {row[0] for row in connection.execute(indexed)}
    rows = connection.execute(sa.text(f"SELECT {key}, title, dek, body_html FROM {source}"))
    missing = [
        {"post_id": row[0], "title": row[1], "dek": row[2], "body": plain_text(row[3])}
        for row in rows
        if row[0] not in done
    ]
    if missing:
        insert = f"INSERT INTO {table} (post_id, title, dek, body) "
        connection.execute(sa.text(insert + "VALUES (:post_id, :title, :dek, :body)"), missing)


def downgrade() -> None:
    for table in SOURCES:
        if op.get_bind().dialect.name == "sqlite":
            for trigger in ("inserted", "deleted", "updated"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{trigger}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
        op.drop_table(table)
