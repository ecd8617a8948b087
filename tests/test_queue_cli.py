"""`masthead tasks …`, `masthead workers list` and the worker command, as operators run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

from masthead.actions.tasks import enqueue
from masthead.domain.tasks import NewTask
from masthead.store.engine import open_engine, writing
from tests.queue_support import REPO


def _masthead(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "MASTHEAD_DATABASE_URL": database_url,
        "PYTHONPATH": str(REPO),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "tests.queue_commands", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def test_tasks_can_be_listed_shown_cancelled_and_retried(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    with writing(engine) as connection:
        at = datetime.now(UTC)
        task_id = enqueue(connection, NewTask("demo.kind", {"post": 1}), at=at).task_id
        enqueue(connection, NewTask("other.kind"), at=at)
    engine.dispose()
    listed = json.loads(_masthead("tasks", "list", "--json", database_url=sqlite_url).stdout)
    assert [task["kind"] for task in listed["items"]] == ["other.kind", "demo.kind"]
    only = _masthead("tasks", "list", "--kind", "demo.kind", database_url=sqlite_url).stdout
    assert only.startswith(f"{task_id}\tqueued\tdemo.kind")
    cancelled = _masthead("tasks", "cancel", str(task_id), database_url=sqlite_url)
    assert cancelled.stdout.strip() == f"task {task_id}: cancelled"
    again = _masthead("tasks", "cancel", str(task_id), database_url=sqlite_url)
    assert (again.returncode, again.stderr.split(":")[0]) == (5, "invalid_transition")
    retried = _masthead("tasks", "retry", str(task_id), "--json", database_url=sqlite_url)
    assert json.loads(retried.stdout)["state"] == "queued"
    shown_out = _masthead("tasks", "show", str(task_id), "--json", database_url=sqlite_url).stdout
    shown = json.loads(shown_out)
    assert (shown["payload"], shown["runs"]) == ({"post": 1}, [])
    assert _masthead("tasks", "show", "424242", database_url=sqlite_url).returncode == 3
    assert json.loads(_masthead("workers", "list", "--json", database_url=sqlite_url).stdout) == []


def test_the_worker_refuses_an_unknown_kind_or_module(sqlite_url: str) -> None:
    unknown = _masthead("worker", "--kinds", "nope", database_url=sqlite_url)
    assert unknown.returncode == 2
    assert "nope" in unknown.stderr
    missing = _masthead(
        "worker", database_url=sqlite_url, MASTHEAD_QUEUE_TASK_MODULES="tests.no_such_module"
    )
    assert missing.returncode == 2
    assert "MASTHEAD_QUEUE_TASK_MODULES" in missing.stderr
