"""`masthead ops rotate-edge-secret`: a new edge secret that a running server accepts at
once beside the old one, the old ones retired by `--finish`, and never, however the
command is killed, a moment with no stored secret."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from masthead.actions.context import OPERATOR, Call
from masthead.actions.edge import add_edge_secret
from masthead.actions.edge_rotation import finish_rotation, start_rotation
from masthead.store.edge_secrets import active_secrets
from masthead.store.engine import open_engine, reading, writing
from tests.cli_support import assert_no_traceback, masthead
from tests.conftest import LiveServer, settings_for
from tests.databases import DatabaseFactory
from tests.operators import call_as
from tests.ops_support import kill_rounds, row_counts

OLD = "o" * 40


@dataclass
class Site:
    url: str
    engine: Engine
    server: LiveServer

    def accepts(self, secret: str) -> bool:
        """Past the edge, the API asks for a token (401); refused at the edge, a 404."""
        with self.server.client() as client:
            status = client.get("/api/v1/posts", headers={"X-Masthead-Edge": secret}).status_code
        assert status in {401, 404}, status
        return status == 401

    def rotate(self, *args: str) -> tuple[int, dict[str, Any]]:
        result = masthead("ops", "rotate-edge-secret", *args, "--json", database_url=self.url)
        assert_no_traceback(result)
        return result.returncode, json.loads(result.stdout)


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    engine = open_engine(database_url)
    with writing(engine) as connection:
        add_edge_secret(connection, call_as(), OLD, "first")
    with LiveServer(settings_for(database_url)) as server:
        yield Site(database_url, engine, server)
    engine.dispose()


def test_a_rotation_accepts_both_secrets_until_finish_retires_the_old(site: Site) -> None:
    assert site.accepts(OLD)
    code, started = site.rotate()
    assert code == 0
    new = str(started["secret"])
    assert len(new) >= 32
    assert started["counts"] == {"added": 1, "retired": 0, "stored": 2, "environment": 0}
    assert site.accepts(OLD)  # no restart: the running server takes both at once
    assert site.accepts(new)
    code, finished = site.rotate("--finish")
    assert code == 0
    assert finished["counts"]["retired"] == 1
    assert finished["secret"] is None
    assert site.accepts(new)
    assert not site.accepts(OLD)
    code, again = site.rotate("--finish")  # a second run has nothing to do
    assert code == 0
    assert again["counts"]["retired"] == 0
    assert site.accepts(new)


def test_dry_runs_change_nothing(site: Site) -> None:
    before = row_counts(site.engine)
    code, planned = site.rotate("--dry-run")
    assert code == 0
    assert planned["secret"] is None
    assert planned["actions"] == [
        {"action": "add", "label": planned["actions"][0]["label"], "done": False}
    ]
    site.rotate()
    during = row_counts(site.engine)
    code, planned = site.rotate("--finish", "--dry-run")
    assert code == 0
    assert planned["counts"]["retired"] == 1
    assert row_counts(site.engine) == during
    assert during["edge_secrets"] == before["edge_secrets"] + 1
    assert site.accepts(OLD)


def test_the_text_output_is_the_secret_alone_on_stdout(site: Site) -> None:
    result = masthead("ops", "rotate-edge-secret", database_url=site.url)
    assert result.returncode == 0
    secret = result.stdout.strip()
    assert "\n" not in secret
    assert site.accepts(secret)
    assert "--finish" in result.stderr


def _forked_step(url: str, finish: bool) -> int:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            engine = open_engine(url)
            with writing(engine) as connection:
                call = Call(OPERATOR, datetime.now(UTC), settings_for(url))
                (finish_rotation if finish else start_rotation)(connection, call)
            code = 0
        finally:
            os._exit(code)
    return pid


def test_killed_at_any_point_a_rotation_never_leaves_no_secret(
    database_factories: dict[str, DatabaseFactory], database_kind: str
) -> None:
    url = database_factories[database_kind].new("empty")
    engine = open_engine(url)
    with writing(engine) as connection:
        add_edge_secret(connection, call_as(), OLD, "first")
    began = time.monotonic()
    _, status = os.waitpid(_forked_step(url, finish=False), 0)
    whole = time.monotonic() - began
    assert os.waitstatus_to_exitcode(status) == 0
    points = random.Random(14)
    for number in range(kill_rounds(24)):
        pid = _forked_step(url, finish=number % 2 == 1)
        time.sleep(points.uniform(0, 1.2 * whole))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with reading(engine) as connection:
            assert active_secrets(connection), f"no valid secret after kill {number}"
    with writing(engine) as connection:  # and running it again completes the rotation
        finish_rotation(connection, call_as())
    with reading(engine) as connection:
        assert len(active_secrets(connection)) == 1
    engine.dispose()
    database_factories[database_kind].drop(url)
