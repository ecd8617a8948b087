"""Opening the database, and the one unit of work every face uses to talk to it.

SQLite runs in WAL mode with foreign keys on; PostgreSQL through psycopg 3. A
`UnitOfWork` is one pooled connection and one transaction at a time on it: a request,
a command or a worker loop opens one, and actions receive its connection. Actions never
commit; the unit's owner does.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, RootTransaction, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from masthead.errors import DatabaseUnavailable, NotMigrated
from masthead.store.turns import write_turns

__all__ = [
    "DEFAULT_POOL_SIZE",
    "UnitOfWork",
    "after_commit",
    "forget_transactions_of",
    "is_sqlite",
    "open_engine",
    "reading",
    "sqlalchemy_url",
    "thread_in_transaction",
    "writing",
]

SQLITE_BUSY_TIMEOUT_MS = 10_000
DEFAULT_POOL_SIZE = 32
DEFAULT_POOL_OVERFLOW = 8
DEFAULT_POOL_TIMEOUT_SECONDS = 10.0
Hook = TypeVar("Hook", bound=Callable[[], None])
AFTER_COMMIT = "masthead_after_commit"
"""Where a connection keeps the hooks of its open transaction (`Connection.info`)."""


def sqlalchemy_url(database_url: str) -> str:
    """Accept `postgresql://` and `postgres://` URLs and use psycopg 3 for them."""
    url = make_url(database_url)
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def open_engine(
    database_url: str,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = DEFAULT_POOL_OVERFLOW,
    pool_timeout: float = DEFAULT_POOL_TIMEOUT_SECONDS,
    **options: Any,
) -> Engine:
    """An engine whose pool holds `pool_size` connections (plus `max_overflow` for bursts).

    A caller that waits longer than `pool_timeout` for a connection gets SQLAlchemy's
    `TimeoutError`, which the faces report as the database being busy.
    """
    url = sqlalchemy_url(database_url)
    pooled = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True, **pooled, **options)
    engine = create_engine(url, **pooled, **options)
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        _FILES[engine] = _DatabaseFile(os.path.abspath(database))
    return engine


class _DatabaseFile:
    """The file an SQLite engine opened, known by its identity (device and inode).

    Deleted or replaced while the server runs, the pooled connections would go on
    writing to the old, unlinked file: every write acknowledged and lost. So every
    transaction first checks that the file is still the one the engine opened.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.identity: tuple[int, int] | None = None

    def check(self) -> None:
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            if self.identity is None:
                return  # not created yet: the first connection creates it
            raise DatabaseUnavailable(self._gone("was deleted")) from None
        identity = (found.st_dev, found.st_ino)
        if self.identity is None:
            self.identity = identity
        elif identity != self.identity:
            raise DatabaseUnavailable(self._gone("was replaced by another file"))

    def _gone(self, what: str) -> str:
        return (
            f"the database file {self.path} {what} while this process had it open; "
            "restart the process (docs/operating.md: restoring a backup)"
        )


_FILES: WeakKeyDictionary[Engine, _DatabaseFile] = WeakKeyDictionary()


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy drive transactions; pysqlite's own implicit BEGIN is switched off.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


WRITE_OPTION = "masthead_write"


def _begin_sqlite(connection: Connection) -> None:
    # A writer takes the lock up front (IMMEDIATE), so two writers queue on the busy
    # timeout instead of failing when one upgrades its read lock; readers never block.
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_OPEN: Counter[int] = Counter()
"""Transactions each thread has begun and not ended yet (by thread ident)."""
_OPEN_GUARD = threading.Lock()


def _note_open(ident: int, change: int) -> None:
    with _OPEN_GUARD:
        _OPEN[ident] += change
        if _OPEN[ident] <= 0:
            del _OPEN[ident]


def thread_in_transaction(ident: int) -> bool:
    """Whether that thread is between the start and the end of a transaction.

    The queue stops a runaway handler by raising an exception inside its thread; raised
    in the middle of a transaction's start or end, it could leave the write turns held.
    So it waits until the handler is out of its transaction.
    """
    with _OPEN_GUARD:
        return _OPEN[ident] > 0


def forget_transactions_of(ident: int) -> None:
    """A thread is done with all it began (a handler returned): start its count afresh."""
    with _OPEN_GUARD:
        _OPEN.pop(ident, None)


class UnitOfWork:
    """One connection, then one transaction at a time on it.

    The connection is taken from the pool when first needed and given back by `close()`.
    Its steps may run on different threads (an ASGI request's steps run in worker
    threads between awaits), one at a time. A write transaction holds the database's
    write turns (`masthead.store.turns`) from its start to its end.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None
        self._turn = ExitStack()
        self._began_on: int | None = None
        self.writing = False

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = self.engine.connect()
        return self._connection

    @property
    def idle(self) -> bool:
        """Whether it holds nothing: no connection taken, or it was given back."""
        return self._connection is None and self._began_on is None

    @property
    def in_transaction(self) -> bool:
        return self._transaction is not None and self._transaction.is_active

    def begin(self, *, write: bool) -> Connection:
        """Start a transaction; a write one takes the write turns first."""
        assert not self.in_transaction, "a transaction is already open on this unit of work"
        database_file = _FILES.get(self.engine)
        if database_file is not None:
            database_file.check()
        self._began_on = threading.get_ident()
        _note_open(self._began_on, +1)
        try:
            if write:
                self._turn.enter_context(write_turns(self.engine).take())
            connection = self.connection
            connection.execution_options(**{WRITE_OPTION: write})
            self._transaction = connection.begin()
        except BaseException:
            self._end()
            raise
        self.writing = write
        return connection

    def commit(self) -> None:
        committed = False
        try:
            if self._transaction is not None:
                self._transaction.commit()
                committed = True
        finally:
            hooks = self._take_hooks()
            self._end()
        if committed:
            for hook in hooks:
                hook()

    def rollback(self) -> None:
        try:
            if self._transaction is not None and self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self._take_hooks()
            self._end()

    def _take_hooks(self) -> list[Callable[[], None]]:
        if self._connection is None:
            return []
        hooks: list[Callable[[], None]] = self._connection.info.pop(AFTER_COMMIT, [])
        return hooks

    def _end(self) -> None:
        self._transaction = None
        self.writing = False
        try:
            self._turn.close()
        finally:
            if self._began_on is not None:
                _note_open(self._began_on, -1)
                self._began_on = None

    def close(self) -> None:
        """End any open transaction (rolled back) and give the connection back."""
        try:
            if self.in_transaction:
                self.rollback()
        finally:
            self._end()
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[Connection]:
        """Commits when the block ends, rolls back if it raises.

        Inside a transaction already open on this unit, the block joins it: the owner of
        that transaction commits. A write block cannot join a read transaction.
        """
        if self.in_transaction:
            assert self.writing or not write, "a write cannot join a read transaction"
            with _schema_checked():
                yield self.connection
            return
        connection = self.begin(write=write)
        try:
            with _schema_checked():
                yield connection
        except BaseException:
            self.rollback()
            raise
        self.commit()


def after_commit(connection: Connection, hook: Hook) -> Hook:
    """Call `hook` once the transaction open on `connection` has committed (never if it
    rolls back). Only transactions of a `UnitOfWork` run their hooks. A hook equal to
    one the transaction has already is not added again: that one is returned."""
    hooks: list[Callable[[], None]] = connection.info.setdefault(AFTER_COMMIT, [])
    for registered in hooks:
        if registered == hook:
            return registered
    hooks.append(hook)
    return hook


UNDEFINED_TABLE = "42P01"
"""PostgreSQL's SQLSTATE for a table that does not exist."""


@contextmanager
def _schema_checked() -> Iterator[None]:
    """A query on a table the database lacks: the database was never migrated (or was
    created anew), which is `NotMigrated`, not a fault of the query."""
    try:
        yield
    except DBAPIError as error:
        original = error.orig
        missing = getattr(original, "sqlstate", None) == UNDEFINED_TABLE or str(
            original
        ).startswith("no such table")
        if missing:
            raise NotMigrated(
                "the database has no tables (new, or created again): run `masthead migrate`"
            ) from error
        raise


@contextmanager
def _unit_transaction(engine: Engine, *, write: bool, commit: bool = True) -> Iterator[Connection]:
    unit = UnitOfWork(engine)
    try:
        with unit.transaction(write=write) as connection:
            yield connection
            if not commit:
                unit.rollback()
    finally:
        unit.close()


@contextmanager
def writing(engine: Engine, *, commit: bool = True) -> Iterator[Connection]:
    """One write transaction on its own unit of work: commits when the block ends (or, with
    `commit=False`, rolls back: a rehearsal, such as a dry run)."""
    with _unit_transaction(engine, write=True, commit=commit) as connection:
        yield connection


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """One read transaction: a consistent snapshot, never a lock on writers."""
    with _unit_transaction(engine, write=False) as connection:
        yield connection
