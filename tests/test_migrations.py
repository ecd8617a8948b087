"""Migrations build exactly the declared schema, on both databases, and re-run safely."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from masthead.store.migrations import current_revision, head_revision, migrate
from masthead.store.schema import metadata


def test_migrations_produce_the_declared_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_the_database_is_at_head_and_migrating_again_changes_nothing(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    tables_before = sorted(inspect(engine).get_table_names())
    migrate(engine)
    migrate(engine)
    assert current_revision(engine) == head_revision()
    assert sorted(inspect(engine).get_table_names()) == tables_before


def test_constraint_names_follow_the_naming_convention(engine: Engine) -> None:
    inspector = inspect(engine)
    foreign_keys = inspector.get_foreign_keys("post_tags")
    assert {key["name"] for key in foreign_keys} == {
        "fk_post_tags_post_id_posts",
        "fk_post_tags_tag_id_tags",
    }
    indexes = {index["name"] for index in inspector.get_indexes("published_posts")}
    assert "ix_published_posts_published_at_post_id" in indexes
