"""Backups on disk: SQLite's online backup, `pg_dump`/`pg_restore`, files written whole.

Every file is written to a temporary name in its target's folder, fsynced, then renamed
over the target (and the folder fsynced): the target name only ever holds a whole file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, func, select, text
from sqlalchemy.engine import make_url

from masthead.errors import BackupRefused
from masthead.store.schema import metadata

__all__ = [
    "Progress",
    "database_counts",
    "export_snapshot",
    "file_counts",
    "file_revision",
    "pg_dump",
    "pg_restore",
    "sha256_of",
    "sqlite_backup",
    "sqlite_restore",
    "written_whole",
]

Progress = Callable[[int, int], None] | None
CHUNK = 1024 * 1024
TABLES = [table.name for table in metadata.sorted_tables]


@contextmanager
def written_whole(target: Path) -> Iterator[Path]:
    """A temporary path beside `target`; when the block ends well, its file is fsynced and
    renamed to `target`. When it does not, the temporary file is removed."""
    _remove_stale(target)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        yield temporary
        _fsync(temporary)
        os.replace(temporary, target)
        _fsync(target.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _remove_stale(target: Path) -> None:
    """Temporary files (and their journals) of earlier runs that were killed."""
    for path in target.parent.glob(f".{target.name}.*.tmp*"):
        pid = path.name.removeprefix(f".{target.name}.").split(".")[0]
        if pid.isdigit() and not _running(int(pid)):
            path.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sqlite_backup(database: Path, target: Path, progress: Progress = None) -> None:
    """A consistent copy of a live SQLite database (its online backup API, in one step so
    that writers never restart it), into `target`."""
    source = sqlite3.connect(database, timeout=60)
    copy = sqlite3.connect(target)
    try:
        _copy_whole(source, copy, progress)
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        source.close()


def sqlite_restore(backup: Path, database: Path, progress: Progress = None) -> None:
    """Copy `backup` over the live database through SQLite (so its WAL stays coherent)."""
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    live = sqlite3.connect(database, timeout=60)
    try:
        _copy_whole(source, live, progress)
    finally:
        live.close()
        source.close()


def _copy_whole(source: sqlite3.Connection, target: sqlite3.Connection, progress: Progress) -> None:
    def step(_status: int, remaining: int, total: int) -> None:
        if progress is not None:
            progress(total - remaining, total)

    source.backup(target, pages=-1, progress=step)


def file_counts(path: Path) -> dict[str, int]:
    """Rows per table of an SQLite database file (a table it lacks counts 0)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as database:
        present = {row[0] for row in database.execute("SELECT name FROM sqlite_master")}
        return {
            name: int(database.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
            if name in present
            else 0
            for name in TABLES
        }


def file_revision(path: Path) -> str | None:
    """The schema revision an SQLite database file is at; raises sqlite3.DatabaseError
    when the file is not a database."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as database:
        database.execute("PRAGMA schema_version").fetchone()
        try:
            row = database.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
        return str(row[0]) if row else None


def database_counts(connection: Connection) -> dict[str, int]:
    """Rows per table of the connected database."""
    return {
        table.name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
        for table in metadata.sorted_tables
    }


def export_snapshot(connection: Connection) -> str:
    """PostgreSQL: name the transaction's snapshot so that `pg_dump` sees the same rows."""
    return str(connection.execute(text("SELECT pg_export_snapshot()")).scalar_one())


def _libpq_url(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupRefused(
            f"`{name}` is not on PATH: install PostgreSQL's client programs", code="tool_missing"
        )
    return found


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupRefused(
            f"{Path(command[0]).name} failed: {result.stderr.strip()[-500:]}", code="backup_failed"
        )


def pg_dump(database_url: str, target: Path, snapshot: str | None = None) -> None:
    """`pg_dump` in its custom format into `target`."""
    command = [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}"]
    if snapshot:
        command.append(f"--snapshot={snapshot}")
    _run([*command, _libpq_url(database_url)])


def pg_restore(database_url: str, backup: Path) -> None:
    """`pg_restore`: drop what the dump holds, then create it again from the dump."""
    command = [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    _run([*command, f"--dbname={_libpq_url(database_url)}", str(backup)])
