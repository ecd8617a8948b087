"""What every command needs: the settings, the database, and the operator's call."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from masthead.actions.context import OPERATOR, Call
from masthead.cli.output import errors_to_exit_codes
from masthead.domain.posts import RevisionSource
from masthead.settings import Settings, load_settings
from masthead.store.engine import open_engine

__all__ = ["load_configuration", "now", "open_database", "operator_call"]


def now() -> datetime:
    return datetime.now(UTC)


def load_configuration() -> Settings:
    with errors_to_exit_codes():
        return load_settings()


def open_database() -> Engine:
    return open_engine(load_configuration().database_url)


def operator_call() -> Call:
    """The operator at the command line acts as an admin; audit entries say `cli`."""
    return Call(actor=OPERATOR, at=now(), source=RevisionSource.CLI)
