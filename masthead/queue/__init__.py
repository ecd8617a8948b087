"""The durable task queue: handler registry, worker loop, embedded worker.

Handler authors need `Registry`, `TaskContext` and `PermanentError`; see docs/queue.md.
"""

from masthead.queue.context import TaskContext
from masthead.queue.errors import PermanentError, RunStopped, RunSuperseded
from masthead.queue.registry import Registry

__all__ = ["PermanentError", "Registry", "RunStopped", "RunSuperseded", "TaskContext"]
