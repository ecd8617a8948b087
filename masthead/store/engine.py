"""Opening the database: SQLite (WAL, foreign keys on) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

__all__ = [
    "is_sqlite",
    "open_engine",
    "reading",
    "sqlalchemy_url",
    "write_lock",
    "write_turn",
    "writing",
]

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_POOL_SIZE = 10
SQLITE_POOL_OVERFLOW = 40


def sqlalchemy_url(database_url: str) -> str:
    """Accept `postgresql://` and `postgres://` URLs and use psycopg 3 for them."""
    url = make_url(database_url)
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def open_engine(database_url: str, **options: Any) -> Engine:
    url = sqlalchemy_url(database_url)
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True, **options)
    # Writers queue on SQLite's lock while holding a pooled connection; a pool as large as
    # the server's thread pool keeps readers from starving behind them.
    pooled = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_OVERFLOW, **options}
    engine = create_engine(url, **pooled)
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy drive transactions; pysqlite's own implicit BEGIN is switched off.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    # A writer takes the lock up front (IMMEDIATE), so two writers queue on the busy
    # timeout instead of failing when one upgrades its read lock; readers never block.
    immediate = connection.get_execution_options().get("masthead_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction: commits when the block ends, rolls back if it raises."""
    with write_turn(engine), engine.connect() as connection:
        connection.execution_options(masthead_write=True)
        with connection.begin():
            yield connection


_WRITE_TURNS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_TURNS_GUARD = threading.Lock()


def write_lock(engine: Engine) -> threading.Lock | None:
    """On SQLite, the lock this process's writers take turns on; None elsewhere.

    SQLite lets one writer in at a time and makes the others retry with growing sleeps,
    so under load a writer could wait seconds while others keep slipping in. Queuing on
    a lock in the process first keeps the waits short and fair; SQLite's own lock still
    guards against other processes.
    """
    if engine.dialect.name != "sqlite":
        return None
    with _TURNS_GUARD:
        return _WRITE_TURNS.setdefault(engine, threading.Lock())


@contextmanager
def write_turn(engine: Engine) -> Iterator[None]:
    lock = write_lock(engine)
    if lock is None:
        yield
        return
    with lock:
        yield


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """One read transaction: a consistent snapshot, never a lock on writers."""
    with engine.connect() as connection, connection.begin():
        yield connection
