"""`masthead ops backup` and `masthead ops restore`, run as an operator runs them (real
processes) against real databases: consistent while a writer writes, checked before a
restore, and never a partial file under the target's name however the run is killed."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from masthead.actions.backup import backup_database
from masthead.actions.drafts import PostFields, create_post
from masthead.store.engine import open_engine, writing
from tests.cli_support import assert_no_traceback, masthead
from tests.databases import DatabaseFactory
from tests.operators import call_as
from tests.ops_support import kill_rounds, row_counts

BODY = " ".join(f"Sentence {n} of a post written while a backup runs." for n in range(9))
_numbers = itertools.count()


def _ops(*args: str, url: str, **env: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    result = masthead("ops", *args, "--json", database_url=url, **env)
    assert_no_traceback(result)
    return result, json.loads(result.stdout) if result.stdout.strip() else None


def _post(engine: Engine) -> None:
    fields = PostFields(
        title=f"Written during a backup {next(_numbers)}", dek="What it says.", body=BODY,
        tags=("operations",), authors=("ledger",),
    )  # fmt: skip
    with writing(engine) as connection:
        create_post(connection, call_as(), fields)


@pytest.fixture
def demo_sqlite(database_factories: dict[str, DatabaseFactory]) -> Iterator[str]:
    url = database_factories["sqlite"].new("demo")
    yield url
    database_factories["sqlite"].drop(url)


def _file_url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_a_backup_taken_while_a_writer_inserts_restores_whole(
    demo_sqlite: str, tmp_path: Path
) -> None:
    engine = open_engine(demo_sqlite)
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        while not stop.is_set():
            _post(engine)
            written.append(1)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        while len(written) < 3:
            time.sleep(0.05)
        result, report = _ops("backup", "--to", str(tmp_path / "site.db"), url=demo_sqlite)
        during = len(written)
    finally:
        stop.set()
        thread.join(30)
    assert result.returncode == 0, result.stderr
    assert during > 3, "the writer kept writing while the backup ran"
    assert report["ok"] is True
    manifest = json.loads((tmp_path / "site.db.manifest.json").read_text())
    assert manifest["sha256"] == hashlib.sha256((tmp_path / "site.db").read_bytes()).hexdigest()
    assert manifest["revision"] == report["revision"]
    target = _file_url(tmp_path / "restored.db")
    result, restored = _ops("restore", str(tmp_path / "site.db"), url=target)
    assert result.returncode == 0, result.stderr
    assert restored["differences"] == {}
    with sqlite3.connect(tmp_path / "restored.db") as database:
        assert database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    restored_engine = open_engine(target)
    assert row_counts(restored_engine) == manifest["counts"]
    assert manifest["counts"]["posts"] > 16  # some of the writer's posts are in it
    restored_engine.dispose()
    engine.dispose()


def _backup(url: str, target: Path) -> dict[str, Any]:
    result, report = _ops("backup", "--to", str(target), url=url)
    assert result.returncode == 0, result.stderr
    return report  # type: ignore[no-any-return]


def test_a_second_backup_to_the_same_file_is_refused_without_force(
    demo_sqlite: str, tmp_path: Path
) -> None:
    target = tmp_path / "site.db"
    _backup(demo_sqlite, target)
    before = target.read_bytes()
    result, refusal = _ops("backup", "--to", str(target), url=demo_sqlite)
    assert result.returncode == 5
    assert refusal["code"] == "backup_exists"
    assert target.read_bytes() == before
    result, _ = _ops("backup", "--to", str(target), "--force", url=demo_sqlite)
    assert result.returncode == 0


def test_dry_runs_write_nothing(demo_sqlite: str, tmp_path: Path) -> None:
    result, report = _ops("backup", "--to", str(tmp_path / "x.db"), "--dry-run", url=demo_sqlite)
    assert result.returncode == 0
    assert report["dry_run"] is True
    assert list(tmp_path.iterdir()) == []
    _backup(demo_sqlite, tmp_path / "site.db")
    engine = open_engine(demo_sqlite)
    _post(engine)
    before = row_counts(engine)
    result, report = _ops(
        "restore", str(tmp_path / "site.db"), "--force", "--dry-run", url=demo_sqlite
    )
    assert result.returncode == 0
    assert row_counts(engine) == before
    engine.dispose()


def test_a_restore_refuses_a_database_with_content_without_force(
    demo_sqlite: str, tmp_path: Path
) -> None:
    _backup(demo_sqlite, tmp_path / "site.db")
    result, refusal = _ops("restore", str(tmp_path / "site.db"), url=demo_sqlite)
    assert result.returncode == 5
    assert refusal["code"] == "database_not_empty"


def test_a_corrupted_backup_is_refused(demo_sqlite: str, tmp_path: Path) -> None:
    target = tmp_path / "site.db"
    _backup(demo_sqlite, target)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    result, refusal = _ops("restore", str(target), url=_file_url(tmp_path / "new.db"))
    assert result.returncode == 5
    assert refusal["code"] == "backup_corrupt"
    assert "checksum" in result.stderr


def test_a_backup_of_a_newer_schema_is_refused(demo_sqlite: str, tmp_path: Path) -> None:
    target = tmp_path / "site.db"
    _backup(demo_sqlite, target)
    with sqlite3.connect(target) as database:
        database.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    database.close()
    manifest_file = tmp_path / "site.db.manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["revision"] = "9999_from_the_future"
    manifest["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
    manifest_file.write_text(json.dumps(manifest))
    result, refusal = _ops("restore", str(target), url=_file_url(tmp_path / "new.db"))
    assert result.returncode == 5
    assert refusal["code"] == "schema_newer"
    assert not (tmp_path / "new.db").exists() or (tmp_path / "new.db").stat().st_size == 0


def test_a_missing_backup_is_not_found(tmp_path: Path) -> None:
    result, refusal = _ops(
        "restore", str(tmp_path / "nothing.db"), url=_file_url(tmp_path / "n.db")
    )
    assert result.returncode == 3
    assert refusal["code"] == "not_found"


def _whole_database(path: Path) -> bool:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as database:
        return database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def _forked_backup(url: str, target: Path) -> int:
    """A child process running the backup action (forked: no start-up to wait through, so
    the kills land in the backup itself)."""
    pid = os.fork()
    if pid == 0:  # the child: a fresh engine, the backup, and out
        code = 1
        try:
            engine = open_engine(url)
            backup_database(engine, target, now=datetime.now(UTC), force=True)
            code = 0
        finally:
            os._exit(code)
    return pid


def test_a_backup_killed_at_any_point_never_leaves_a_partial_file_under_its_name(
    demo_sqlite: str, tmp_path: Path
) -> None:
    target = tmp_path / "site.db"
    began = time.monotonic()
    _, status = os.waitpid(_forked_backup(demo_sqlite, target), 0)
    whole = time.monotonic() - began
    assert os.waitstatus_to_exitcode(status) == 0
    random_points = random.Random(14)
    for _ in range(kill_rounds(25)):
        pid = _forked_backup(demo_sqlite, target)
        time.sleep(random_points.uniform(0, 1.2 * whole))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        assert _whole_database(target)
        json.loads((tmp_path / "site.db.manifest.json").read_text())
    leftovers = {path.name for path in tmp_path.iterdir()} - {"site.db", "site.db.manifest.json"}
    # a killed run leaves at most its temporary file (and its journal), never the target's name
    assert all(name.startswith(".site.db.") and ".tmp" in name for name in leftovers), leftovers
    result, _ = _ops("backup", "--to", str(target), "--force", url=demo_sqlite)
    assert result.returncode == 0  # and a run again completes, clearing the killed runs' files
    assert sorted(path.name for path in tmp_path.iterdir()) == ["site.db", "site.db.manifest.json"]
    manifest = json.loads((tmp_path / "site.db.manifest.json").read_text())
    assert manifest["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()


def test_a_postgresql_backup_restores_into_an_empty_database(
    database_factories: dict[str, DatabaseFactory], tmp_path: Path
) -> None:
    factory = database_factories["postgres"]
    source, empty = factory.new("demo"), factory.new("empty")
    try:
        report = _backup(source, tmp_path / "site.dump")
        assert report["dialect"] == "postgresql"
        result, restored = _ops("restore", str(tmp_path / "site.dump"), url=empty)
        assert result.returncode == 0, result.stderr
        assert restored["differences"] == {}
        engine = open_engine(empty)
        assert row_counts(engine)["posts"] == report["counts"]["posts"] == 16
        engine.dispose()
    finally:
        factory.drop(source)
        factory.drop(empty)


def test_a_postgresql_backup_without_pg_dump_says_so(
    database_factories: dict[str, DatabaseFactory], tmp_path: Path
) -> None:
    url = database_factories["postgres"].new("empty")
    try:
        result, refusal = _ops(
            "backup", "--to", str(tmp_path / "x.dump"), url=url, PATH="/nonexistent"
        )
        assert result.returncode == 5
        assert refusal["code"] == "tool_missing"
        assert "pg_dump" in result.stderr
        assert not (tmp_path / "x.dump").exists()
    finally:
        database_factories["postgres"].drop(url)
