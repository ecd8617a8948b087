"""Alembic environment: always given a live connection by `masthead.store.migrations`."""

from __future__ import annotations

from alembic import context

from masthead.store.schema import is_declared_object, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=is_declared_object,
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
