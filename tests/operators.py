"""The operator's calls, as tests make them: through the real use cases, in real units of work."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from masthead.actions.context import OPERATOR, Call
from masthead.actions.importing import ImportSummary, import_folder
from masthead.domain.permissions import Actor
from masthead.domain.posts import RevisionSource
from masthead.settings import Settings
from masthead.store.engine import writing

TEST_SETTINGS = Settings(public_url="https://blog.example.test")  # type: ignore[call-arg]


def call_as(
    actor: Actor = OPERATOR,
    at: datetime | None = None,
    *,
    source: RevisionSource = RevisionSource.CLI,
    settings: Settings = TEST_SETTINGS,
    **options: Any,
) -> Call:
    return Call(actor, at or datetime.now(UTC), settings, source=source, **options)


def import_into(
    engine: Engine,
    folder: Path,
    *,
    at: datetime | None = None,
    dry_run: bool = False,
    create_missing: bool = False,
    settings: Settings = TEST_SETTINGS,
) -> ImportSummary:
    """`masthead import`, as the CLI runs it: one unit of work, rolled back on a dry run."""
    call = call_as(at=at, source=RevisionSource.IMPORT, settings=settings)
    with writing(engine, commit=not dry_run) as connection:
        return import_folder(connection, call, folder, create_missing=create_missing)
