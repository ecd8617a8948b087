"""What every command needs: the settings, the database, and the operator's call."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from masthead.actions.context import OPERATOR, Call
from masthead.actions.setup import open_database as engine_for
from masthead.actions.setup import require_schema
from masthead.cli.output import errors_to_exit_codes
from masthead.domain.posts import RevisionSource
from masthead.settings import Settings, load_settings

__all__ = ["load_configuration", "now", "open_database", "operator_call"]


def now() -> datetime:
    return datetime.now(UTC)


def load_configuration() -> Settings:
    with errors_to_exit_codes():
        return load_settings()


def open_database(settings: Settings | None = None, *, schema: bool = True) -> Engine:
    """The process's engine; refused (exit 4) unless the database has its schema, for every
    command but those that create it (`schema=False`)."""
    engine = engine_for(settings or load_configuration())
    if schema:
        with errors_to_exit_codes():
            require_schema(engine)
    return engine


def operator_call(source: RevisionSource = RevisionSource.CLI) -> Call:
    """The operator at the command line acts as an admin; audit entries say `cli`."""
    return Call(actor=OPERATOR, at=now(), settings=load_configuration(), source=source)
