"""A `masthead worker` process for the queue benchmark: `python -m bench.queue_worker`."""

import typer

from masthead.cli.queue import worker_command

if __name__ == "__main__":
    typer.run(worker_command)
