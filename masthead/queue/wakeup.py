"""PostgreSQL LISTEN/NOTIFY: an idle worker hears of a new task at once instead of polling."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

from masthead.actions.runs import listen_for_tasks
from masthead.store.engine import sqlalchemy_url

__all__ = ["Listener"]

log = logging.getLogger("masthead.queue")
RECONNECT_SECONDS = 1.0
CHECK_STOP_SECONDS = 0.5


class Listener:
    """A thread with its own autocommit connection that calls `on_notify` per notification."""

    def __init__(self, database_url: str, on_notify: Callable[[], None]) -> None:
        url = make_url(sqlalchemy_url(database_url)).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._on_notify = on_notify
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="masthead-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg.Error as error:
                log.warning("task notifications unavailable (%s); polling meanwhile", error)
                self._stop.wait(RECONNECT_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as connection:
            listen_for_tasks(connection)
            self._on_notify()  # anything enqueued while we were not listening
            while not self._stop.is_set():
                for _notification in connection.notifies(timeout=CHECK_STOP_SECONDS):
                    self._on_notify()
