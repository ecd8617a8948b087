"""`python -m bench.queue_bench`: the task queue against a bare claim loop and procrastinate.

Throughput: N no-op tasks enqueued in one transaction while the workers wait, timed
from the commit to the last success. SQLite with 2 processes runs twice: as shipped,
and with the workers' write turns switched off ("no write turns"), for comparison.
Latency: idle workers, one task at a time, enqueue (the task's `created_at`) → claim
(its run's `started_at`). Every goal of issue 5 is printed with its figure and
met / missed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, insert, select

from bench import queue_bare
from masthead.store.engine import open_engine, reading, writing
from masthead.store.migrations import migrate
from masthead.store.schema import task_runs, tasks, workers

REPO = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "MASTHEAD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
POLL_SECONDS = 0.2
CONCURRENCY = 4


@dataclass
class Result:
    system: str
    database: str
    processes: int
    concurrency: int
    jobs_per_second: float
    shares: list[float] = field(default_factory=list)
    p50_ms: float | None = None
    p99_ms: float | None = None
    locked_errors: int = 0


def say(text: str = "") -> None:
    print(text, flush=True)


# --- databases ---------------------------------------------------------------------


def fresh_postgres(name: str) -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def fresh_database(kind: str, workdir: Path, name: str) -> str:
    if kind == "postgres":
        return fresh_postgres(name)
    return f"sqlite:///{workdir / (name + '.db')}"


# --- Masthead's queue ----------------------------------------------------------------


def start_workers(
    url: str, count: int, concurrency: int, log: Path, *, turns: bool = True
) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        **({} if turns else {"BENCH_NO_WRITE_TURNS": "1"}),
        "MASTHEAD_DATABASE_URL": url,
        "MASTHEAD_QUEUE_TASK_MODULES": "bench.queue_handlers",
        "MASTHEAD_QUEUE_POLL_SECONDS": str(POLL_SECONDS),
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-m", "bench.queue_worker", "--concurrency", str(concurrency)]
    with log.open("ab") as output:
        return [
            subprocess.Popen(command, env=env, cwd=REPO, stdout=output, stderr=output)
            for _ in range(count)
        ]


def stop_workers(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(60)


def wait_for(check: Callable[[], bool], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark did not finish in time")
        time.sleep(0.02)


def masthead_throughput(
    kind: str, workdir: Path, processes: int, concurrency: int, jobs: int, *, turns: bool = True
) -> Result:
    name = f"bench_queue_{kind}_{processes}_{concurrency}" + ("" if turns else "_noturns")
    url = fresh_database(kind, workdir, name)
    engine = open_engine(url)
    migrate(engine)
    log = workdir / f"{name}.log"
    started = start_workers(url, processes, concurrency, log, turns=turns)
    wait_for(lambda: _count(engine, select(func.count()).select_from(workers)) == processes)
    now = datetime.now(UTC)
    row = {"kind": "bench.noop", "payload": "{}", "state": "queued", "priority": 0}
    stamps = {"not_before": now, "created_at": now, "updated_at": now}
    with writing(engine) as connection:
        connection.execute(insert(tasks), [{**row, **stamps} for _ in range(jobs)])
        connection.execute(
            select(func.pg_notify("masthead_tasks", ""))
        ) if kind == "postgres" else None
    begun = time.monotonic()
    done = select(func.count()).select_from(tasks).where(tasks.c.state == "succeeded")
    wait_for(lambda: _count(engine, done) == jobs)
    elapsed = time.monotonic() - begun
    shares = _shares(engine, jobs)
    latency = _latency(engine)
    stop_workers(started)
    engine.dispose()
    locked = log.read_text(errors="replace").count("database is locked")
    system = "masthead" if turns else "no write turns"
    result = Result(
        system, kind, processes, concurrency, jobs / elapsed, shares, locked_errors=locked
    )
    result.p50_ms, result.p99_ms = latency
    return result


def _count(engine: Any, query: Any) -> int:
    with reading(engine) as connection:
        return int(connection.execute(query).scalar_one())


def _shares(engine: Any, jobs: int) -> list[float]:
    query = select(task_runs.c.worker_id, func.count()).group_by(task_runs.c.worker_id)
    with reading(engine) as connection:
        counts = [row[1] for row in connection.execute(query)]
    return sorted((count / jobs for count in counts), reverse=True)


def _latency(engine: Any, samples: int = 150) -> tuple[float | None, float | None]:
    """With the workers idle again: one task at a time, enqueue → claim."""
    from masthead.actions.tasks import enqueue
    from masthead.domain.tasks import NewTask

    ids = []
    for _ in range(samples):
        with writing(engine) as connection:
            ids.append(enqueue(connection, NewTask("bench.noop"), at=datetime.now(UTC)).task_id)
        time.sleep(0.03)
    query = (
        select(tasks.c.created_at, task_runs.c.started_at)
        .join(task_runs, task_runs.c.task_id == tasks.c.id)
        .where(tasks.c.id.in_(ids))
    )
    wait_for(lambda: _count(engine, select(func.count()).select_from(query.subquery())) == samples)
    with reading(engine) as connection:
        waits = [
            (row.started_at - row.created_at).total_seconds() * 1000
            for row in connection.execute(query)
        ]
    cuts = statistics.quantiles(waits, n=100)
    return cuts[49], cuts[98]


# --- the others, in plain processes ------------------------------------------------


def _timed_processes(target: Callable[..., Any], arguments: list[tuple[Any, ...]]) -> float:
    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=target, args=args) for args in arguments]
    begun = time.monotonic()
    for child in children:
        child.start()
    for child in children:
        child.join()
    return time.monotonic() - begun


def bare_throughput(kind: str, workdir: Path, processes: int, jobs: int) -> Result:
    url = fresh_database(kind, workdir, f"bench_bare_{kind}_{processes}")
    target = "sqlite:" + url.removeprefix("sqlite:///") if kind == "sqlite" else url
    queue_bare.prepare(target, jobs)
    elapsed = _timed_processes(queue_bare.work, [(target, n) for n in range(processes)])
    return Result("bare loop", kind, processes, 1, jobs / elapsed, _bare_shares(target, jobs))


def _bare_shares(target: str, jobs: int) -> list[float]:
    connection = queue_bare.connect(target)
    rows = connection.execute("SELECT done_by, count(*) FROM bare_jobs GROUP BY done_by").fetchall()
    connection.close()
    return sorted((count / jobs for _, count in rows), reverse=True)


def procrastinate_throughput(
    workdir: Path, processes: int, concurrency: int, jobs: int
) -> Result | None:
    try:
        from bench import queue_procrastinate
    except ImportError:
        return None
    url = fresh_postgres(f"bench_procrastinate_{processes}_{concurrency}")
    queue_procrastinate.prepare(url, jobs)
    elapsed = _timed_processes(queue_procrastinate.work, [(url, concurrency)] * processes)
    return Result("procrastinate", "postgres", processes, concurrency, jobs / elapsed)


# --- report --------------------------------------------------------------------------


WIDTHS = (16, 10, 11, 9, 9, 9)


def _row(cells: tuple[str, ...], shares: str = "") -> str:
    first, second, *numbers = cells
    text = f"{first:<{WIDTHS[0]}}{second:<{WIDTHS[1]}}"
    text += "".join(f"{cell:>{width}}" for cell, width in zip(numbers, WIDTHS[2:], strict=True))
    return f"{text}  {shares}"


def table(results: list[Result]) -> None:
    say(_row(("system", "database", "procs×conc", "jobs/s", "p50 ms", "p99 ms"), "shares"))
    for r in results:
        p50 = f"{r.p50_ms:.1f}" if r.p50_ms is not None else "-"
        p99 = f"{r.p99_ms:.1f}" if r.p99_ms is not None else "-"
        shares = " ".join(f"{share:.0%}" for share in r.shares) if len(r.shares) > 1 else ""
        size = f"{r.processes}×{r.concurrency}"
        cells = (r.system, r.database, size, f"{r.jobs_per_second:.0f}", p50, p99)
        say(_row(cells, shares))


def _find(
    results: list[Result],
    system: str,
    database: str,
    processes: int,
    concurrency: int | None = None,
) -> Result | None:
    for r in results:
        if (r.system, r.database, r.processes) == (system, database, processes) and (
            concurrency is None or r.concurrency == concurrency
        ):
            return r
    return None


def goals(results: list[Result]) -> list[tuple[str, str, bool | None]]:
    checks: list[tuple[str, str, bool | None]] = []
    for processes in (1, 4):
        ours = _find(results, "masthead", "postgres", processes, CONCURRENCY)
        theirs = _find(results, "procrastinate", "postgres", processes)
        bare = _find(results, "bare loop", "postgres", processes)
        if ours and theirs:
            ratio = ours.jobs_per_second / theirs.jobs_per_second
            checks.append(
                (
                    f"PostgreSQL, {processes} process(es): ≥3× procrastinate",
                    f"{ratio:.1f}×",
                    ratio >= 3,
                )
            )
        if ours and bare:
            ratio = ours.jobs_per_second / bare.jobs_per_second
            checks.append(
                (
                    f"PostgreSQL, {processes} process(es): ≥0.6× bare loop",
                    f"{ratio:.2f}×",
                    ratio >= 0.6,
                )
            )
    best_sqlite = max(
        (r.jobs_per_second for r in results if (r.system, r.database) == ("masthead", "sqlite")),
        default=0,
    )
    checks.append(
        (
            "SQLite: ≥1,000 jobs/s durable (WAL, synchronous=NORMAL)",
            f"{best_sqlite:.0f}/s",
            best_sqlite >= 1000,
        )
    )
    pair = _find(results, "masthead", "sqlite", 2)
    if pair:
        fair = min(pair.shares) >= 0.3 and len(pair.shares) == 2
        checks.append(
            (
                "SQLite, 2 processes: each ≥30 % of the jobs",
                " / ".join(f"{s:.0%}" for s in pair.shares),
                fair,
            )
        )
        checks.append(
            ("SQLite: no 'database is locked'", str(pair.locked_errors), pair.locked_errors == 0)
        )
    idle_pg = _find(results, "masthead", "postgres", 1, CONCURRENCY)
    if idle_pg and idle_pg.p99_ms is not None:
        checks.append(
            (
                "PostgreSQL: enqueue → start p99 < 20 ms (idle worker)",
                f"{idle_pg.p99_ms:.1f} ms",
                idle_pg.p99_ms < 20,
            )
        )
    idle_sqlite = _find(results, "masthead", "sqlite", 1, CONCURRENCY)
    if idle_sqlite and idle_sqlite.p99_ms is not None:
        limit = POLL_SECONDS * 1000
        checks.append(
            (
                f"SQLite: enqueue → start p99 < one poll ({limit:.0f} ms)",
                f"{idle_sqlite.p99_ms:.1f} ms",
                idle_sqlite.p99_ms < limit,
            )
        )
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.queue_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("QUEUE_JOBS", "5000")))
    parser.add_argument("--no-procrastinate", action="store_true")
    args = parser.parse_args(argv)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="masthead-queue-bench-") as folder:
        workdir = Path(folder)
        for kind, counts in (("sqlite", (1, 2, 4)), ("postgres", (1, 2, 4))):
            for processes in counts:
                say(f"masthead {kind} {processes}×{CONCURRENCY} …")
                results.append(
                    masthead_throughput(kind, workdir, processes, CONCURRENCY, args.jobs)
                )
            say(f"masthead {kind} 1×1 …")
            results.append(masthead_throughput(kind, workdir, 1, 1, args.jobs))
            if kind == "sqlite":
                say(f"masthead {kind} 2×{CONCURRENCY}, no write turns …")
                results.append(
                    masthead_throughput(kind, workdir, 2, CONCURRENCY, args.jobs, turns=False)
                )
        for kind, counts in (("sqlite", (1, 2)), ("postgres", (1, 4))):
            for processes in counts:
                say(f"bare loop {kind} {processes} …")
                results.append(bare_throughput(kind, workdir, processes, args.jobs))
        if not args.no_procrastinate:
            for processes, concurrency in ((1, 1), (1, 4), (4, 1)):
                say(f"procrastinate {processes}×{concurrency} …")
                found = procrastinate_throughput(workdir, processes, concurrency, args.jobs)
                if found:
                    results.append(found)
    say()
    table(results)
    say()
    for goal, figure, met in goals(results):
        verdict = "n/a" if met is None else ("met" if met else "MISSED")
        say(f"{verdict:<7} {goal}: {figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
