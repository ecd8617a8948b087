"""Helpers for the queue tests that run real worker processes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Row, select, text
from sqlalchemy.engine import make_url

from masthead.actions.lifecycle import DISPATCH
from masthead.actions.tasks import enqueue
from masthead.domain.tasks import NewTask
from masthead.store.engine import is_sqlite, reading, writing
from masthead.store.schema import task_runs, tasks, workers

REPO = Path(__file__).resolve().parent.parent

# Timings for a busy machine (load 8 on 2 cores). A live worker's run is lost only if no
# heartbeat lands for 5.5 s; the longest gap between two renewals measured at load 11
# was 0.9 s (a 2 s lease left 1.5 s of slack). A dead worker's run is rescued within a
# lease and a reaper interval, about 6.5 s.
LEASE_SECONDS = 6.0
QUEUE_TIMINGS: dict[str, object] = {
    "lease_seconds": LEASE_SECONDS,
    "heartbeat_seconds": 0.5,
    "reaper_seconds": 0.5,
    "poll_seconds": 0.2,
    "grace_seconds": 20,
    "task_modules": "tests.queue_handlers",
}
# How long to wait for what must happen. Only a failing test waits it out, so it is
# sized for the slowest machine: a worker takes ~1.2 s of CPU to start, 5 s or more
# of wall time at load 8.
PATIENCE = 90.0


def now() -> datetime:
    return datetime.now(UTC)


def enqueue_all(
    engine: Engine, kind: str, payloads: Sequence[dict[str, Any]], priority: int = 0
) -> list[int]:
    with writing(engine) as connection:
        return [
            enqueue(connection, NewTask(kind, payload, priority), at=now()).task_id
            for payload in payloads
        ]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll until `predicate()` holds; returns the seconds it took."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - start


def task_states(engine: Engine) -> Counter[str]:
    """The states of the tests' tasks: the event dispatcher's aside (a task that fails
    records a `task.failed` event, which queues a dispatcher)."""
    with reading(engine) as connection:
        rows = connection.execute(select(tasks.c.state).where(tasks.c.kind != DISPATCH))
        return Counter(row.state for row in rows)


def all_runs(engine: Engine) -> list[Row[Any]]:
    with reading(engine) as connection:
        query = select(task_runs).order_by(task_runs.c.task_id, task_runs.c.attempt)
        return list(connection.execute(query))


def open_run_pids(engine: Engine) -> dict[int, int]:
    """pid → number of open runs, for workers holding at least one."""
    query = (
        select(workers.c.pid, task_runs.c.task_id)
        .join(workers, workers.c.id == task_runs.c.worker_id)
        .where(task_runs.c.outcome.is_(None))
    )
    with reading(engine) as connection:
        return dict(Counter(row.pid for row in connection.execute(query)))


def registered_pids(engine: Engine) -> set[int]:
    with reading(engine) as connection:
        return {row.pid for row in connection.execute(select(workers.c.pid))}


class Workers:
    """Worker processes (`python -m tests.queue_commands worker`) over one database."""

    def __init__(self, database_url: str, log_dir: Path, **queue: object) -> None:
        self.database_url = database_url
        self.log_dir = log_dir
        settings = {**QUEUE_TIMINGS, **queue}
        self.env = {
            **os.environ,
            "MASTHEAD_DATABASE_URL": database_url,
            "PYTHONPATH": str(REPO),
            "PYTHONFAULTHANDLER": "1",  # SIGABRT prints every thread's stack to the log
            **{f"MASTHEAD_QUEUE_{name.upper()}": str(value) for name, value in settings.items()},
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, concurrency: int = 1, url: str | None = None) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"worker-{len(self.processes)}.log", "wb")  # noqa: SIM115
        env = {**self.env, "MASTHEAD_DATABASE_URL": url or self.database_url}
        command = [sys.executable, "-m", "tests.queue_commands", "worker"]
        command += ["--concurrency", str(concurrency)]
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)
        self.processes.append(process)
        return process

    def wait_for_exit(self, process: subprocess.Popen[bytes], timeout: float) -> int:
        """The worker's exit code; if it hangs, fail with its threads' stacks from its log."""
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGABRT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        raise AssertionError(
            f"worker {process.pid} did not exit within {timeout:g} s:\n{self.logs()[-8000:]}"
        )

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.kill()
            process.wait(10)

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.log_dir.glob("worker-*.log")))


@contextmanager
def worker_processes(database_url: str, log_dir: Path, **queue: object) -> Iterator[Workers]:
    group = Workers(database_url, log_dir, **queue)
    try:
        yield group
    finally:
        group.close()


def with_application_name(database_url: str, name: str) -> str:
    """The URL, naming its PostgreSQL sessions, so a test can find a worker's transactions."""
    if is_sqlite(database_url):
        return database_url
    url = make_url(database_url).update_query_dict({"application_name": name})
    return url.render_as_string(hide_password=False)


def pause_between_transactions(process: subprocess.Popen[bytes], engine: Engine, name: str) -> None:
    """SIGSTOP the worker at a moment when it holds no transaction open.

    A worker frozen inside a transaction would block the others (SQLite's write lock,
    PostgreSQL's row locks) until it wakes, which is not what a zombie test is about.
    """
    for _ in range(100):
        os.kill(process.pid, signal.SIGSTOP)
        time.sleep(0.05)
        if not _holds_transaction(engine, name):
            return
        os.kill(process.pid, signal.SIGCONT)
        time.sleep(0.02)
    raise AssertionError("the worker never paused outside a transaction")


def _holds_transaction(engine: Engine, name: str) -> bool:
    if is_sqlite(str(engine.url)):
        probe = sqlite3.connect(str(engine.url.database), timeout=0.2, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
        "AND state <> 'idle' AND datname = current_database()"
    )
    with reading(engine) as connection:
        return bool(connection.execute(query, {"name": name}).scalar_one())
