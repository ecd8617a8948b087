"""What a handler receives: which task and run it serves, the payload, and the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from masthead.actions.runs import run_is_current
from masthead.queue.errors import RunSuperseded
from masthead.settings import Settings

__all__ = ["TaskContext"]


@dataclass(frozen=True)
class TaskContext:
    """One run of one task. Handlers may be run more than once per task: be idempotent."""

    task_id: int
    attempt: int  # 1 for the first run; with task_id, the run's fencing token
    kind: str
    payload: Mapping[str, Any]
    engine: Engine
    settings: Settings

    def fence(self, connection: Connection) -> None:
        """Raise `RunSuperseded` unless this run still holds its task.

        Call it inside the write transaction that records the handler's effect: if it
        returns, no other run of the task can record anything before that transaction
        ends (PostgreSQL holds a share lock on the task row; SQLite has one writer).
        """
        if not run_is_current(connection, (self.task_id, self.attempt)):
            raise RunSuperseded(f"task {self.task_id} is no longer held by run {self.attempt}")
