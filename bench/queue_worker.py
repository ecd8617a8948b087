"""A `masthead worker` process for the queue benchmark: `python -m bench.queue_worker`.

With `BENCH_NO_WRITE_TURNS=1` the worker takes no write turns on SQLite (see
`masthead.store.turns`), so the benchmark can show the split without them.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from masthead.cli.queue import worker_command
from masthead.store.turns import WriteTurns


@contextmanager
def _no_turn(_turns: WriteTurns) -> Iterator[bool]:
    yield False


if __name__ == "__main__":
    if os.environ.get("BENCH_NO_WRITE_TURNS"):
        WriteTurns.take = _no_turn  # type: ignore[method-assign]
    typer.run(worker_command)
