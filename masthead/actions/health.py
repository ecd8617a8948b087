"""Is the site able to serve? The check behind `/healthz`."""

from __future__ import annotations

from sqlalchemy import Connection

from masthead.store.public import count_published

__all__ = ["check_database"]


def check_database(connection: Connection) -> None:
    """Read what every page reads; raises when the database cannot answer."""
    count_published(connection)
