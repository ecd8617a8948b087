"""Migrations build exactly the declared schema, on both databases, and re-run safely."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from masthead.store.engine import reading
from masthead.store.migrations import current_revision, downgrade, head_revision, migrate
from masthead.store.public import (
    Filter,
    count_published,
    last_change,
    list_published,
    listed_tag,
)
from masthead.store.schema import is_declared_object, metadata


def test_migrations_produce_the_declared_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        options = {"compare_type": True, "include_object": is_declared_object}
        context = MigrationContext.configure(connection, opts=options)
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


def test_listing_dates_survive_a_downgrade_and_upgrade_with_content(
    demo_engine: Engine,
) -> None:
    """0004 copies the dates into the listing tables from the posts already published."""
    which = Filter(tag_id=_tag_id(demo_engine, "operations"))
    with reading(demo_engine) as connection:
        before = [post.slug for post in list_published(connection, which, limit=50)]
    downgrade(demo_engine, "0003")
    columns = {column["name"] for column in inspect(demo_engine).get_columns("published_tags")}
    assert "published_at" not in columns
    migrate(demo_engine)
    with reading(demo_engine) as connection:
        after = [post.slug for post in list_published(connection, which, limit=50)]
        assert count_published(connection, which) == 12
        assert last_change(connection, which) is not None
    assert after == before
    assert len(after) == 12


def _tag_id(engine: Engine, slug: str) -> int:
    with reading(engine) as connection:
        found = listed_tag(connection, slug)
    assert found is not None
    return found[0]
