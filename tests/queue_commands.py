"""The queue's commands mounted as `masthead` mounts them: `python -m tests.queue_commands …`.

The worker tests start real processes with `worker`; the CLI tests run `tasks` and
`workers` subcommands. They are the very functions behind `masthead worker`,
`masthead tasks …` and `masthead workers …`.
"""

import typer

from masthead.cli.queue import tasks_app, worker_command, workers_app

app = typer.Typer(no_args_is_help=True)
app.command("worker")(worker_command)
app.add_typer(workers_app, name="workers")
app.add_typer(tasks_app, name="tasks")

if __name__ == "__main__":
    app()
