"""`masthead worker`, `masthead workers …`, `masthead tasks …`: the task queue's commands."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType
from typing import Annotated

import typer

from masthead.actions import tasks as task_actions
from masthead.actions.context import OPERATOR
from masthead.actions.webhook_secrets import require_webhook_key
from masthead.cli.context import load_configuration, now, open_database, operator_call
from masthead.cli.output import ExitCode, emit_json, errors_to_exit_codes, text_lines
from masthead.domain.tasks import Task, TaskDetail, TaskState
from masthead.errors import InvalidInput
from masthead.queue.registry import Registry, load_registry
from masthead.queue.worker import QueueWorker
from masthead.settings import Settings
from masthead.store.engine import reading, writing

__all__ = ["tasks_app", "worker_command", "workers_app"]

workers_app = typer.Typer(no_args_is_help=True, help="Workers of the task queue.")
tasks_app = typer.Typer(no_args_is_help=True, help="Tasks of the task queue and their runs.")
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON document instead of text.")]
TaskId = Annotated[int, typer.Argument(help="The task's id.")]
SIGNAL_CHECK_SECONDS = 0.5


def worker_command(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Handlers run at once (default: MASTHEAD_QUEUE_CONCURRENCY)."),
    ] = None,
    kinds: Annotated[
        str | None,
        typer.Option(help="Comma-separated task kinds to run (default: every registered kind)."),
    ] = None,
) -> None:
    """Run task handlers until SIGTERM or SIGINT; a second signal hands runs back at once."""
    settings = load_configuration()
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    registry = _registry(settings, kinds)
    with errors_to_exit_codes():
        require_webhook_key(settings)
        worker = QueueWorker(
            settings=settings,
            engine=open_database(settings),
            registry=registry,
            concurrency=concurrency,
        )
        _stop_on_signals(worker)
        _run_until_stopped(worker)


def _run_until_stopped(worker: QueueWorker) -> None:
    """Run the loop on a thread of its own, the main thread only waiting for it.

    A signal handler runs on the main thread between two of its instructions; had the
    main thread been the loop, a signal arriving while the loop held its wake-up event's
    lock (inside `Event.wait`) would deadlock in the handler's `Event.set`.
    """
    failed: list[BaseException] = []

    def run() -> None:
        try:
            worker.run()
        except BaseException as error:
            failed.append(error)

    loop = threading.Thread(target=run, name="masthead-worker-loop")
    loop.start()
    while loop.is_alive():
        loop.join(SIGNAL_CHECK_SECONDS)
    if failed:
        raise failed[0]


def _registry(settings: Settings, kinds: str | None) -> Registry:
    try:
        registry = load_registry(settings)
    except (ImportError, AttributeError) as error:
        typer.echo(f"bad configuration: MASTHEAD_QUEUE_TASK_MODULES: {error}", err=True)
        raise typer.Exit(int(ExitCode.USAGE)) from error
    if kinds is None:
        return registry
    try:
        return registry.only(kind.strip() for kind in kinds.split(",") if kind.strip())
    except InvalidInput as error:
        raise typer.BadParameter(str(error), param_hint="--kinds") from error


def _stop_on_signals(worker: QueueWorker) -> None:
    received: list[int] = []

    def stop(number: int, _frame: FrameType | None) -> None:
        received.append(number)
        worker.request_stop(immediately=len(received) > 1)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


@workers_app.command("list")
def workers_list(as_json: JsonOption = False) -> None:
    """Registered workers, with when each was last seen and whether it is alive."""
    settings = load_configuration()
    with errors_to_exit_codes(), reading(open_database()) as connection:
        found = task_actions.list_workers(connection, OPERATOR, at=now(), settings=settings)
    if as_json:
        emit_json([status.as_dict() for status in found])
        return
    for status in found:
        worker = status.worker
        alive = "alive" if status.alive else "silent"
        seen = worker.last_seen_at.isoformat(timespec="seconds")
        fields = (worker.id, alive, worker.host, str(worker.pid), str(worker.concurrency), seen)
        typer.echo("\t".join((*fields, ",".join(worker.kinds))))


@tasks_app.command("list")
def tasks_list(
    state: Annotated[TaskState | None, typer.Option(help="Only tasks in this state.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only tasks of this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Tasks, newest first: id, state, kind, runs, errors, not before, last error."""
    with errors_to_exit_codes(), reading(open_database()) as connection:
        page = task_actions.list_tasks(connection, OPERATOR, state=state, kind=kind, limit=limit)
    if as_json:
        emit_json(page.as_dict())
        return
    for task in page.items:
        typer.echo(_task_line(task))


def _task_line(task: Task) -> str:
    fields = (
        str(task.id),
        task.state.value,
        task.kind,
        f"runs={task.run_count}",
        f"errors={task.error_count}",
        f"lost={task.lost_count}",
        task.not_before.isoformat(timespec="seconds"),
        task.last_error_code or "-",
    )
    return "\t".join(fields)


@tasks_app.command("show")
def tasks_show(task_id: TaskId, as_json: JsonOption = False) -> None:
    """A task and every run it has had, with times and errors."""
    with errors_to_exit_codes(), reading(open_database()) as connection:
        detail = task_actions.show_task(connection, OPERATOR, task_id)
    if as_json:
        emit_json(detail.as_dict())
        return
    _print_detail(detail)


def _print_detail(detail: TaskDetail) -> None:
    for line in text_lines(detail.task.as_dict()):
        typer.echo(line)
    for run in detail.runs:
        ended = run.ended_at.isoformat(timespec="milliseconds") if run.ended_at else "-"
        outcome = run.outcome.value if run.outcome else "running"
        started = run.started_at.isoformat(timespec="milliseconds")
        line = f"run {run.attempt}\t{outcome}\t{run.worker_id}\t{started}\t{ended}"
        typer.echo(line + (f"\t{run.error_code}" if run.error_code else ""))
        if run.error:
            typer.echo("\t" + run.error.strip().replace("\n", "\n\t"))


@tasks_app.command("retry")
def tasks_retry(task_id: TaskId, as_json: JsonOption = False) -> None:
    """Queue a failed or cancelled task again, now, with fresh budgets."""
    with errors_to_exit_codes(), writing(open_database()) as connection:
        task = task_actions.retry_task(connection, operator_call(), task_id)
    _report(task, as_json)


@tasks_app.command("cancel")
def tasks_cancel(task_id: TaskId, as_json: JsonOption = False) -> None:
    """Cancel a queued or running task (a running handler's result is then refused)."""
    with errors_to_exit_codes(), writing(open_database()) as connection:
        task = task_actions.cancel_task(connection, operator_call(), task_id)
    _report(task, as_json)


def _report(task: Task, as_json: bool) -> None:
    if as_json:
        emit_json(task.as_dict())
    else:
        typer.echo(f"task {task.id}: {task.state.value}")
