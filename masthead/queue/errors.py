"""What handlers raise to steer the queue, and what the queue raises inside handlers."""

from __future__ import annotations

from masthead.errors import MastheadError

__all__ = [
    "PermanentError",
    "RunRevoked",
    "RunStopped",
    "RunSuperseded",
    "TaskTimedOut",
    "WorkerStopping",
]


class PermanentError(MastheadError):
    """Raised by a handler whose work can never succeed: the task fails at once.

    Any other exception is taken as a passing failure and the task is retried. The
    handler may name its own `code` (it becomes the task's `last_error_code`).
    """

    code = "permanent_error"
    free_codes = True


class RunSuperseded(MastheadError):
    """The run no longer holds its task (lost, cancelled or timed out): stop writing."""

    code = "run_superseded"


class RunStopped(BaseException):
    """Raised inside a running handler by the worker to stop it.

    A BaseException, like KeyboardInterrupt, so `except Exception` in a handler does
    not swallow it; use `finally` for clean-up. By the time it is raised the run has
    already been recorded, so nothing the handler does afterwards changes its outcome.
    """


class TaskTimedOut(RunStopped):
    """The handler ran past its kind's timeout; the run ended `errored` (`timeout`)."""


class RunRevoked(RunStopped):
    """The run lost its task: its lease expired and another took over, or it was cancelled."""


class WorkerStopping(RunStopped):
    """The worker's grace period is over; the run was handed back (`interrupted`)."""
