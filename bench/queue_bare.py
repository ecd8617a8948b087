"""A bare, hand-written claim loop: the floor the queue is measured against.

No runs, leases or fencing: claim a row (`FOR UPDATE SKIP LOCKED` on PostgreSQL, an
immediate transaction on SQLite), run nothing, mark it done — two commits a job.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg

PG_CLAIM = (
    "UPDATE bare_jobs SET state = 'doing' WHERE id = (SELECT id FROM bare_jobs "
    "WHERE state = 'todo' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
)
SQLITE_CLAIM = (
    "UPDATE bare_jobs SET state = 'doing' WHERE id = (SELECT id FROM bare_jobs "
    "WHERE state = 'todo' ORDER BY id LIMIT 1) RETURNING id"
)
DONE = "UPDATE bare_jobs SET state = 'done', done_by = {mark} WHERE id = {mark}"


def prepare(target: str, jobs: int) -> None:
    """A fresh job table with `jobs` rows to do and a partial index on them."""
    connection = connect(target)
    statements = [
        "DROP TABLE IF EXISTS bare_jobs",
        "CREATE TABLE bare_jobs (id INTEGER PRIMARY KEY, state TEXT NOT NULL, done_by INTEGER)",
        "CREATE INDEX bare_jobs_todo ON bare_jobs (id) WHERE state = 'todo'",
    ]
    for statement in statements:
        connection.execute(statement)
    rows = [(number, "todo") for number in range(1, jobs + 1)]
    if isinstance(connection, sqlite3.Connection):
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO bare_jobs (id, state) VALUES (?, ?)", rows)
        connection.execute("COMMIT")
    else:
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO bare_jobs (id, state) VALUES (%s, %s)", rows)
    connection.close()


def connect(target: str) -> Any:
    if target.startswith("sqlite:"):
        connection = sqlite3.connect(
            target.removeprefix("sqlite:"), isolation_level=None, timeout=30
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection
    return psycopg.connect(target, autocommit=True)


def work(target: str, worker: int) -> int:
    """Claim and finish jobs until none is left; returns how many this process did."""
    connection = connect(target)
    sqlite = isinstance(connection, sqlite3.Connection)
    mark = "?" if sqlite else "%s"
    done = DONE.format(mark=mark)
    count = 0
    while True:
        if sqlite:
            connection.execute("BEGIN IMMEDIATE")
            row = connection.execute(SQLITE_CLAIM).fetchone()
            connection.execute("COMMIT")
        else:
            row = connection.execute(PG_CLAIM).fetchone()
        if row is None:
            break
        connection.execute(done, (worker, row[0]))
        count += 1
    connection.close()
    return count
