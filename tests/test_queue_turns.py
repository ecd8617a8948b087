"""Write turns: the SQLite workers' advisory file lock around their write transactions."""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine

from masthead.store.turns import TURN_SUFFIX, WriteTurns

REPO = Path(__file__).resolve().parent.parent

# Takes the turn `rounds` times, holding it 2 ms each time; prints when it held it.
HOLDER = """
import json, sys, time
from sqlalchemy import create_engine
from masthead.store.turns import WriteTurns
turns = WriteTurns(create_engine(sys.argv[1]))
held = []
for _ in range(int(sys.argv[2])):
    with turns.take() as taken:
        assert taken
        began = time.monotonic()
        time.sleep(0.002)
        held.append((began, time.monotonic()))
    time.sleep(0.0002)
print(json.dumps(held))
"""


def test_turns_serialise_two_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'site.db'}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", HOLDER, url, "60"]
    children = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [child.communicate(timeout=60)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0]
    spans = sorted(span for output in outputs for span in json.loads(output))
    assert len(spans) == 120
    for (_, ended), (began, _) in itertools.pairwise(spans):
        assert ended <= began, "two processes held the write turn at once"
    assert (tmp_path / f"site.db{TURN_SUFFIX}").exists()


def test_a_turn_is_released_when_the_block_ends(tmp_path: Path) -> None:
    turns = WriteTurns(create_engine(f"sqlite:///{tmp_path / 'site.db'}"))
    assert turns.path is not None
    with turns.take() as taken:
        assert taken
        assert not _can_lock(turns.path)
    assert _can_lock(turns.path)


def test_a_frozen_holder_delays_a_turn_only_until_the_timeout(tmp_path: Path) -> None:
    turns = WriteTurns(create_engine(f"sqlite:///{tmp_path / 'site.db'}"), timeout=0.3)
    assert turns.path is not None
    holder = os.open(turns.path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        began = time.monotonic()
        with turns.take() as taken:
            assert not taken  # went on without it; SQLite's own lock still decides
        assert 0.3 <= time.monotonic() - began < 2
    finally:
        os.close(holder)
    with turns.take() as taken:
        assert taken


def test_no_turns_off_sqlite_files() -> None:
    for url in ("sqlite://", "sqlite:///:memory:", "postgresql+psycopg://masthead@localhost/db"):
        turns = WriteTurns(create_engine(url))
        assert turns.path is None
        with turns.take() as taken:
            assert not taken


def _can_lock(path: str) -> bool:
    descriptor = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)
    return True
