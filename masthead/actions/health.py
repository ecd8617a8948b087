"""Is the site able to serve? The checks behind `/healthz` and `/readyz`."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Connection

from masthead.store import migrations
from masthead.store.public import count_published

__all__ = ["check_database", "is_migrated"]


def check_database(connection: Connection) -> None:
    """Read what every page reads; raises when the database cannot answer."""
    count_published(connection)


@cache
def _head() -> str | None:
    return migrations.head_revision()


def is_migrated(connection: Connection) -> bool:
    """Whether the database's schema is the newest this code knows (raises when it is away)."""
    return migrations.revision_on(connection) == _head()
