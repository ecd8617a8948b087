"""The static build task, and its consumer of lifecycle events when
`MASTHEAD_STATIC_DIR` is set (docs/deploying.md, "Static export")."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from masthead.actions.static_events import STATIC_BUILD, build_while_behind, static_consumer
from masthead.queue.context import TaskContext
from masthead.queue.registry import Registry

__all__ = ["register_handlers"]

log = logging.getLogger("masthead.queue")
BUILD_TIMEOUT_SECONDS = 900.0


def build_static(context: TaskContext) -> None:
    if not context.settings.static_dir:
        return
    for summary in build_while_behind(context.engine, context.settings, _now, time.sleep):
        log.info(
            "static build",
            extra={
                "release": summary.release,
                "rendered": summary.rendered,
                "reused": summary.reused,
                "events_through": summary.events_through,
            },
        )


def _now() -> datetime:
    return datetime.now(UTC)


def register_handlers(registry: Registry) -> None:
    registry.register(STATIC_BUILD, build_static, timeout=BUILD_TIMEOUT_SECONDS)
    if registry.settings is not None and registry.settings.static_dir:
        registry.consume(static_consumer())
