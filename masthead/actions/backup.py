"""`masthead ops backup` and `masthead ops restore`: a consistent copy of a live database,
with a manifest to check a restore against.

Given an engine rather than a connection (as `migrate_database` is): a backup reads in a
snapshot of its own, and a restore replaces the database wholesale, then migrates it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from masthead.domain.backups import Manifest, count_differences, manifest_path
from masthead.errors import BackupRefused, NotFound, UnusablePath
from masthead.store import backups as files
from masthead.store import migrations
from masthead.store.engine import reading

__all__ = ["BackupReport", "RestoreReport", "backup_database", "restore_database"]

CONTENT_TABLES = ("posts", "staff", "tags", "tokens")
"""A database holding a row in any of these has content a restore would overwrite."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    manifest: Manifest
    seconds: float
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "manifest": str(manifest_path(self.path)),
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            **self.manifest.as_dict(),
        }


@dataclass(frozen=True)
class RestoreReport:
    path: Path
    manifest: Manifest
    seconds: float
    dry_run: bool
    differences: dict[str, list[int]] = field(default_factory=dict)
    migrated_to: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "revision": self.manifest.revision,
            "migrated_to": self.migrated_to,
            "counts": dict(self.manifest.counts),
            "differences": self.differences,
        }


def _dialect(engine: Engine) -> str:
    return "sqlite" if engine.dialect.name == "sqlite" else "postgresql"


def _sqlite_file(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise UnusablePath("an in-memory SQLite database has no file to back up")
    return Path(database)


def backup_database(
    engine: Engine,
    target: Path,
    *,
    now: datetime,
    force: bool = False,
    dry_run: bool = False,
    progress: files.Progress = None,
) -> BackupReport:
    """Write a consistent backup of the database to `target`, and its manifest beside it."""
    began = time.perf_counter()
    if not target.parent.is_dir():
        raise UnusablePath(f"{target.parent} is not a folder")
    if not force and (target.exists() or manifest_path(target).exists()):
        raise BackupRefused(f"{target} exists: give --force to replace it", code="backup_exists")
    if dry_run:
        empty = Manifest(_dialect(engine), migrations.current_revision(engine), {}, "", 0, "")
        return BackupReport(target, empty, time.perf_counter() - began, dry_run=True)
    with files.written_whole(target) as temporary:
        revision, counts = _copy(engine, temporary, progress)
        manifest = Manifest(
            dialect=_dialect(engine),
            revision=revision,
            counts=counts,
            sha256=files.sha256_of(temporary),
            size=temporary.stat().st_size,
            created_at=now.isoformat(),
        )
    with files.written_whole(manifest_path(target)) as temporary:
        temporary.write_text(json.dumps(manifest.as_dict(), indent=2) + "\n", encoding="utf-8")
    return BackupReport(target, manifest, time.perf_counter() - began)


def _copy(engine: Engine, temporary: Path, progress: files.Progress) -> tuple[str | None, Any]:
    """The copy, and the schema revision and row counts of exactly what it holds."""
    if engine.dialect.name == "sqlite":
        files.sqlite_backup(_sqlite_file(engine), temporary, progress)
        return files.file_revision(temporary), files.file_counts(temporary)
    url = engine.url.render_as_string(hide_password=False)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        snapshot = files.export_snapshot(connection)
        revision = migrations.revision_on(connection)
        counts = files.database_counts(connection)
        files.pg_dump(url, temporary, snapshot)
    return revision, counts


def _manifest(source: Path) -> Manifest:
    path = manifest_path(source)
    try:
        return Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise BackupRefused(f"{path} is missing", code="backup_corrupt") from None
    except (ValueError, KeyError, TypeError) as error:
        raise BackupRefused(f"{path} is not a manifest: {error}", code="backup_corrupt") from None


def check_backup(engine: Engine, source: Path) -> Manifest:
    """The backup's manifest, once the file matches it and this code knows its schema."""
    if not source.is_file():
        raise NotFound(f"{source}: no such backup")
    manifest = _manifest(source)
    if manifest.dialect != _dialect(engine):
        raise UnusablePath(
            f"a {manifest.dialect} backup cannot be restored into {_dialect(engine)}"
        )
    if files.sha256_of(source) != manifest.sha256:
        raise BackupRefused(
            f"{source} does not match its manifest's checksum", code="backup_corrupt"
        )
    if manifest.revision is not None and not migrations.is_known_revision(manifest.revision):
        raise BackupRefused(
            f"the backup's schema ({manifest.revision}) is newer than this code knows: "
            "upgrade Masthead first",
            code="schema_newer",
        )
    return manifest


def _holds_content(engine: Engine) -> bool:
    if migrations.current_revision(engine) is None:
        return False
    with reading(engine) as connection:
        counts = files.database_counts(connection)
    return any(counts.get(name, 0) for name in CONTENT_TABLES)


def restore_database(
    engine: Engine,
    source: Path,
    *,
    force: bool = False,
    dry_run: bool = False,
    progress: files.Progress = None,
) -> RestoreReport:
    """Replace the database with a checked backup, compare its rows with the manifest,
    then migrate it to the newest schema."""
    began = time.perf_counter()
    manifest = check_backup(engine, source)
    if not force and _holds_content(engine):
        raise BackupRefused(
            "the database holds content: give --force to replace it", code="database_not_empty"
        )
    if dry_run:
        return RestoreReport(source, manifest, time.perf_counter() - began, dry_run=True)
    engine.dispose()
    if manifest.dialect == "sqlite":
        files.sqlite_restore(source, _sqlite_file(engine), progress)
    else:
        files.pg_restore(engine.url.render_as_string(hide_password=False), source)
    engine.dispose()
    with reading(engine) as connection:
        differences = count_differences(manifest.counts, files.database_counts(connection))
    migrations.migrate(engine)
    return RestoreReport(
        source,
        manifest,
        time.perf_counter() - began,
        dry_run=False,
        differences=differences,
        migrated_to=migrations.current_revision(engine),
    )
