"""Running the Alembic migrations against a database (idempotent: safe to re-run)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

__all__ = [
    "current_revision",
    "downgrade",
    "head_revision",
    "is_known_revision",
    "migrate",
    "migration_config",
    "revision_on",
]

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def migration_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, target: str = "head") -> None:
    """Upgrade to `target`; each migration commits on its own, so a cut-off run resumes."""
    with engine.connect() as connection:
        command.upgrade(migration_config(connection), target)
        connection.commit()


def downgrade(engine: Engine, target: str) -> None:
    """Step back to `target` (for operators undoing an upgrade, and for tests of migrations)."""
    with engine.connect() as connection:
        command.downgrade(migration_config(connection), target)
        connection.commit()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return revision_on(connection)


def revision_on(connection: Connection) -> str | None:
    """The schema revision of the database behind `connection` (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(migration_config()).get_current_head()


def is_known_revision(revision: str) -> bool:
    """Whether this code's migrations name `revision` (a newer schema's are unknown)."""
    script = ScriptDirectory.from_config(migration_config())
    return any(step.revision == revision for step in script.walk_revisions())
