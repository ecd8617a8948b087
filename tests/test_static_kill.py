"""A static build killed at any moment (SIGKILL) leaves `current` on a complete release
with no half-written file in it; running the build again finishes the job."""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import multiprocessing.process
import os
import random
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from masthead.actions.static_build import BuildOptions, build_site
from masthead.store.engine import open_engine
from tests.conftest import settings_for

KILLS = 24
BUILD_TIMEOUT_SECONDS = 120.0


def _build(database_url: str, out: Path, jobs: int) -> None:
    """A whole build, as `masthead build --out OUT --jobs N` runs it, in its own group."""
    os.setpgrp()
    settings = settings_for(database_url, page_size=1)
    engine = open_engine(database_url)
    build_site(engine, settings, BuildOptions(out=out, jobs=jobs), datetime.now(UTC))


def _start(database_url: str, out: Path, jobs: int) -> multiprocessing.process.BaseProcess:
    """A build in a forked process: no interpreter start-up, the build from its first line."""
    process = multiprocessing.get_context("fork").Process(
        target=_build, args=(database_url, out, jobs)
    )
    process.start()
    return process


def _timed_build(database_url: str, out: Path) -> float:
    began = time.monotonic()
    process = _start(database_url, out, 1)
    process.join(BUILD_TIMEOUT_SECONDS)
    assert process.exitcode == 0
    return time.monotonic() - began


def _kill_after(database_url: str, out: Path, delay: float, jobs: int) -> None:
    """Start a build and SIGKILL its whole process group after `delay`."""
    process = _start(database_url, out, jobs)
    process.join(delay)
    if process.exitcode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.join(BUILD_TIMEOUT_SECONDS)


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
    out = tmp_path / "site"
    duration = _timed_build(demo_database_url, out)
    first = _assert_live_release_is_complete(out)
    rng = random.Random(20261204)
    seen, cut_off = {first}, 0
    for number in range(KILLS):
        jobs = 2 if number % 3 == 0 else 1
        _kill_after(demo_database_url, out, rng.uniform(0.0, 1.1) * duration, jobs)
        seen.add(_assert_live_release_is_complete(out))
        cut_off += any(".partial-" in entry.name for entry in (out / "releases").iterdir())
    assert cut_off >= KILLS // 2  # most kills landed mid-build, a partial release left behind
    _timed_build(demo_database_url, out)
    last = _assert_live_release_is_complete(out)
    assert last not in seen
    leftovers = [entry.name for entry in (out / "releases").iterdir() if ".partial-" in entry.name]
    assert leftovers == []
    assert len([entry for entry in (out / "releases").iterdir() if entry.is_dir()]) <= 5
