"""What one imported post costs: `python -m bench.import_cost [--posts N] [--format F]`.

Writes the bench corpus in one format, runs `masthead init` in a child process, then
runs `masthead import` in this process with a `before_cursor_execute` counter on every
engine: the SQL statements per imported post, the CPU seconds per post (this process's
own, `time.process_time`) and the most frequent statements (`--top N`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from bench.corpus import generate_corpus
from bench.importing import masthead_command, masthead_env
from bench.migrating import WRITERS

__all__ = ["StatementCounter", "import_cost"]


class StatementCounter:
    """Counts the statements sent to the database, by their first words."""

    def __init__(self) -> None:
        self.total = 0
        self.kinds: Counter[str] = Counter()

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.total += 1
        self.kinds[" ".join(statement.split())[:90]] += 1


def import_cost(format_name: str, posts: int, workdir: Path, top: int) -> dict[str, Any]:
    source = WRITERS[format_name](generate_corpus(posts), workdir / format_name)
    database = workdir / "cost.db"
    env = masthead_env(database, workdir)
    subprocess.run([*masthead_command(), "init"], env=env, cwd=workdir, check=True)
    os.environ.update(env)
    from masthead.cli.main import app

    args = ["import", str(source), "--json"]
    if format_name != "masthead":
        args += ["--from", format_name, "--create-missing"]
    counter = StatementCounter()
    event.listen(Engine, "before_cursor_execute", counter)
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            app(args, standalone_mode=False)
    finally:
        event.remove(Engine, "before_cursor_execute", counter)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "format": format_name,
        "posts": posts,
        "statements": counter.total,
        "statements_per_post": round(counter.total / posts, 1),
        "cpu_seconds": round(cpu, 2),
        "cpu_ms_per_post": round(1000 * cpu / posts, 2),
        "wall_seconds": round(wall, 2),
        "top": [
            {"count": count, "statement": text} for text, count in counter.kinds.most_common(top)
        ],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.import_cost", description=__doc__)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--format", choices=sorted(WRITERS), default="masthead")
    parser.add_argument("--top", type=int, default=15, help="most frequent statements shown")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="masthead-import-cost-"))
    try:
        result = import_cost(args.format, args.posts, workdir, args.top)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
