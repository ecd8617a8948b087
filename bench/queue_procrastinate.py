"""procrastinate (PostgreSQL), measured side by side with Masthead's queue."""

from __future__ import annotations

import procrastinate


def _app(conninfo: str) -> procrastinate.App:
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))

    @app.task(name="noop", queue="bench")
    def noop() -> None:
        return None

    return app


def prepare(conninfo: str, jobs: int) -> None:
    """Install procrastinate's schema in an empty database and defer `jobs` no-op jobs."""
    app = _app(conninfo)
    with app.open():
        app.schema_manager.apply_schema()
        task = app.tasks["noop"]
        for start in range(0, jobs, 1000):
            task.batch_defer(*[{} for _ in range(min(1000, jobs - start))])


def work(conninfo: str, concurrency: int) -> None:
    """Run a worker until the queue is empty."""
    app = _app(conninfo)
    with app.open():
        app.run_worker(queues=["bench"], concurrency=concurrency, wait=False)
