"""Handlers for the queue tests' worker processes (`MASTHEAD_QUEUE_TASK_MODULES`).

Each records its effect in `queue_test_effects`, keyed by task id, idempotently: a
task run twice (its first run lost) still has one effect.
"""

from __future__ import annotations

import os
import random
import time

from sqlalchemy import Column, Engine, Integer, MetaData, Table, text

from masthead.queue import Registry, TaskContext
from masthead.store.engine import writing

EFFECTS = Table(
    "queue_test_effects",
    MetaData(),
    Column("task_id", Integer, primary_key=True),
    Column("attempt", Integer, nullable=False),
    Column("pid", Integer, nullable=False),
)
RECORD = text(
    "INSERT INTO queue_test_effects (task_id, attempt, pid) VALUES (:task, :attempt, :pid) "
    "ON CONFLICT (task_id) DO NOTHING"
)


def create_effects_table(engine: Engine) -> None:
    EFFECTS.metadata.create_all(engine)


def _record(context: TaskContext, *, fenced: bool) -> None:
    with writing(context.engine) as connection:
        if fenced:
            context.fence(connection)
        values = {"task": context.task_id, "attempt": context.attempt, "pid": os.getpid()}
        connection.execute(RECORD, values)


def sleep_then_record(context: TaskContext) -> None:
    """Sleep a random time in [low, high) seconds, then record the effect."""
    time.sleep(random.uniform(context.payload["low"], context.payload["high"]))
    _record(context, fenced=False)


def sleep_then_record_fenced(context: TaskContext) -> None:
    """Sleep `seconds` on the first attempt (`later` on the next ones), then record, fenced."""
    seconds = context.payload["seconds"] if context.attempt == 1 else context.payload["later"]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # short sleeps: a stop request lands promptly
        time.sleep(0.05)
    _record(context, fenced=True)


def register_handlers(registry: Registry) -> None:
    registry.register("test.sleep", sleep_then_record)
    registry.register("test.fenced", sleep_then_record_fenced)
