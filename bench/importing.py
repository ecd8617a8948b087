"""Import time: `masthead init` then `masthead import --json` on a fresh SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["ImportResult", "masthead_command", "masthead_env", "time_import"]


@dataclass(frozen=True)
class ImportResult:
    posts: int
    created: int
    init_seconds: float
    import_seconds: float
    startup_seconds: float
    posts_per_second: float
    posts_per_second_net: float
    database_bytes: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def masthead_command() -> list[str]:
    """The `masthead` script of the running interpreter's environment."""
    script = Path(sys.executable).with_name("masthead")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "masthead.cli.main"]


def masthead_env(database: Path, workdir: Path) -> dict[str, str]:
    """The environment for every masthead process: this database, no stray config file."""
    env = dict(os.environ)
    env["MASTHEAD_DATABASE_URL"] = f"sqlite:///{database}"
    env["MASTHEAD_CONFIG"] = str(workdir / "masthead.toml")
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        output = (done.stderr + done.stdout)[-3000:]
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}:\n{output}")
    return elapsed, done.stdout


def time_import(corpus_folder: Path, database: Path, workdir: Path, posts: int) -> ImportResult:
    """Create the schema, then import the corpus; the start-up cost is measured apart.

    The start-up cost is the wall time of importing an empty folder into the same,
    migrated database: interpreter start, imports, settings, one empty transaction.
    """
    env = masthead_env(database, workdir)
    command = masthead_command()
    init_seconds, _ = _run([*command, "init", "--json"], env, workdir)
    empty = workdir / "empty-import"
    empty.mkdir(exist_ok=True)
    startup_seconds, _ = _run([*command, "import", str(empty), "--json"], env, workdir)
    import_seconds, output = _run([*command, "import", str(corpus_folder), "--json"], env, workdir)
    summary = json.loads(output)
    created = int(summary["posts"]["created"])
    if created != posts:
        raise RuntimeError(f"expected {posts} posts created, the import reports {summary}")
    net = max(import_seconds - startup_seconds, 1e-9)
    return ImportResult(
        posts=posts,
        created=created,
        init_seconds=init_seconds,
        import_seconds=import_seconds,
        startup_seconds=startup_seconds,
        posts_per_second=posts / import_seconds,
        posts_per_second_net=posts / net,
        database_bytes=database.stat().st_size,
    )
