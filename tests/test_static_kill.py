"""A static build killed at any moment (SIGKILL) leaves `current` on a complete release
with no half-written file in it; running the build again finishes the job."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

KILLS = 20
BUILD_TIMEOUT_SECONDS = 120.0


def _command(out: Path, jobs: int) -> list[str]:
    return [sys.executable, "-m", "masthead.cli", "build", "--out", str(out), "--jobs", str(jobs)]


def _environment(database_url: str) -> dict[str, str]:
    return {**os.environ, "MASTHEAD_DATABASE_URL": database_url, "MASTHEAD_PAGE_SIZE": "1"}


def _timed_build(out: Path, environment: dict[str, str]) -> float:
    began = time.monotonic()
    done = subprocess.run(
        _command(out, 1), env=environment, capture_output=True, timeout=BUILD_TIMEOUT_SECONDS
    )
    assert done.returncode == 0, done.stderr
    return time.monotonic() - began


def _kill_after(out: Path, environment: dict[str, str], delay: float, jobs: int) -> None:
    """Start a build in its own process group and SIGKILL the whole group after `delay`."""
    process = subprocess.Popen(
        _command(out, jobs),
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=BUILD_TIMEOUT_SECONDS)


def _assert_live_release_is_complete(out: Path) -> str:
    """The release `current` points at has every file of its manifest, whole, and no other."""
    release = (out / "current").resolve(strict=True)
    assert release.parent == (out / "releases").resolve()
    assert not release.name.startswith(".")
    manifest = json.loads((release.parent / f"{release.name}.json").read_bytes())
    files = {str(path.relative_to(release)) for path in release.rglob("*") if not path.is_dir()}
    expected = {path for path, _digest, _size in manifest["pages"].values()}
    assert expected <= files
    assert not [name for name in files if name.rsplit("/", 1)[-1].startswith(".")]
    for path, digest, size in manifest["pages"].values():
        content = (release / path).read_bytes()
        assert (len(content), hashlib.sha256(content).hexdigest()) == (size, digest), path
    return release.name


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_a_build_killed_at_random_moments_never_leaves_a_broken_current(
    demo_database_url: str, tmp_path: Path
) -> None:
    out, environment = tmp_path / "site", _environment(demo_database_url)
    duration = _timed_build(out, environment)
    first = _assert_live_release_is_complete(out)
    rng = random.Random(20261204)
    seen = {first}
    for number in range(KILLS):
        jobs = 2 if number % 3 == 0 else 1
        # most of a short build is the interpreter starting: aim at its second half
        _kill_after(out, environment, rng.uniform(0.4, 1.1) * duration, jobs)
        seen.add(_assert_live_release_is_complete(out))
    assert len(seen) < KILLS + 1  # most builds were cut off before going live
    _timed_build(out, environment)
    last = _assert_live_release_is_complete(out)
    assert last not in seen
    leftovers = [entry.name for entry in (out / "releases").iterdir() if ".partial-" in entry.name]
    assert leftovers == []
    assert len([entry for entry in (out / "releases").iterdir() if entry.is_dir()]) <= 5
