"""Handlers by task kind, each with its own timeout, retry budget and backoff.

A module that provides handlers defines `register_handlers(registry)`; the worker
calls it for every module named in `MASTHEAD_QUEUE_TASK_MODULES` (and for Masthead's
own), so importing a module registers nothing by itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from masthead.actions.events import Consumer
from masthead.domain.retry import Backoff
from masthead.errors import FieldProblem, InvalidInput
from masthead.queue.context import TaskContext
from masthead.settings import Settings

__all__ = [
    "BUILTIN_TASK_MODULES",
    "Consumer",
    "Handler",
    "HandlerSpec",
    "Registry",
    "load_registry",
]

Handler = Callable[[TaskContext], None]

# Masthead's own handler modules, loaded by every worker before the configured ones.
BUILTIN_TASK_MODULES: tuple[str, ...] = (
    "masthead.queue.handlers",
    "masthead.queue.webhooks",
    "masthead.queue.static",
)


@dataclass(frozen=True)
class HandlerSpec:
    kind: str
    handler: Handler
    timeout: float  # seconds
    max_attempts: int  # errored runs before the task fails
    backoff: Backoff


class Registry:
    """Maps task kinds to handlers, and holds the consumers of lifecycle events.

    The handlers' defaults come from the settings.
    """

    def __init__(
        self,
        *,
        timeout: float,
        max_attempts: int,
        backoff: Backoff,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings
        """The settings it was made from, for handlers with settings of their own."""
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._specs: dict[str, HandlerSpec] = {}
        self._consumers: dict[str, Consumer] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Registry:
        return cls(
            timeout=settings.queue_handler_timeout_seconds,
            max_attempts=settings.queue_max_attempts,
            backoff=Backoff(
                settings.queue_backoff_base_seconds, settings.queue_backoff_cap_seconds
            ),
            settings=settings,
        )

    def register(
        self,
        kind: str,
        handler: Handler,
        *,
        timeout: float | None = None,
        max_attempts: int | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        if kind in self._specs:
            raise ValueError(f"task kind {kind!r} already has a handler")
        if timeout is not None and timeout <= 0:
            raise ValueError("a handler's timeout must be positive")
        if max_attempts is not None and max_attempts < 1:
            raise ValueError("a handler needs at least one attempt")
        self._specs[kind] = HandlerSpec(
            kind,
            handler,
            timeout if timeout is not None else self._timeout,
            max_attempts if max_attempts is not None else self._max_attempts,
            backoff or self._backoff,
        )

    def handler(
        self, kind: str, **options: float | int | Backoff | None
    ) -> Callable[[Handler], Handler]:
        """The decorator form of `register`."""

        def add(function: Handler) -> Handler:
            self.register(kind, function, **options)  # type: ignore[arg-type]
            return function

        return add

    def consume(self, consumer: Consumer) -> None:
        """Hand lifecycle events to `consumer` (it gets every event once, in order)."""
        if consumer.name in self._consumers:
            raise ValueError(f"an event consumer named {consumer.name!r} exists")
        self._consumers[consumer.name] = consumer

    @property
    def consumers(self) -> tuple[Consumer, ...]:
        return tuple(self._consumers.values())

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted(self._specs))

    def spec(self, kind: str) -> HandlerSpec:
        return self._specs[kind]

    def only(self, kinds: Iterable[str]) -> Registry:
        """The same registry restricted to some kinds (a worker's `--kinds`)."""
        wanted = set(kinds)
        unknown = sorted(wanted - set(self._specs))
        if unknown:
            raise InvalidInput([FieldProblem("kinds", f"no handler for {', '.join(unknown)}")])
        subset = Registry(
            timeout=self._timeout,
            max_attempts=self._max_attempts,
            backoff=self._backoff,
            settings=self.settings,
        )
        subset._specs = {kind: spec for kind, spec in self._specs.items() if kind in wanted}
        subset._consumers = self._consumers
        return subset


def load_registry(settings: Settings) -> Registry:
    """A registry holding Masthead's handlers and those of the configured modules."""
    registry = Registry.from_settings(settings)
    configured = (name.strip() for name in settings.queue_task_modules.split(","))
    for name in (*BUILTIN_TASK_MODULES, *(name for name in configured if name)):
        module = importlib.import_module(name)
        module.register_handlers(registry)
    return registry
