"""Creating and upgrading a database, and loading the demo content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from masthead.actions.importing import ImportSummary, import_folder
from masthead.demo import DEMO_CONTENT
from masthead.store.migrations import migrate

__all__ = ["initialise"]


def initialise(engine: Engine, *, demo: bool, at: datetime) -> ImportSummary | None:
    """Migrate to the newest schema; with `demo`, load (or refresh) the demo content."""
    migrate(engine)
    if not demo:
        return None
    return import_folder(engine, DEMO_CONTENT, at=at)
