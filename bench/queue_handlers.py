"""The benchmark's task kind: a no-op, so the figures measure the queue alone."""

from __future__ import annotations

from masthead.queue import Registry, TaskContext


def noop(context: TaskContext) -> None:
    return None


def register_handlers(registry: Registry) -> None:
    registry.register("bench.noop", noop)
