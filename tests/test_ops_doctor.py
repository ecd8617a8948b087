"""`masthead ops doctor`, run as an operator runs it (a real process), against a live site
and a real database: a healthy set-up exits 0, each broken one names its finding and exits 1."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from masthead.actions.drafts import PostFields, create_post
from masthead.actions.publishing import publish_post
from masthead.actions.tasks import enqueue
from masthead.domain.tasks import NewTask, Worker
from masthead.store import workers as worker_store
from masthead.store.engine import open_engine, writing
from masthead.store.schema import receipts, tasks
from tests.cli_support import assert_no_traceback, masthead
from tests.conftest import LiveServer, settings_for
from tests.databases import DatabaseFactory
from tests.operators import call_as
from tests.ops_support import row_counts

PUBLIC_URL = "https://blog.example.test"
SECRET = "s" * 40


@dataclass
class Site:
    url: str
    engine: Engine
    server: LiveServer

    def doctor(self, **env: str) -> tuple[int, dict[str, Any]]:
        values = {
            "MASTHEAD_PUBLIC_URL": PUBLIC_URL,
            "MASTHEAD_VERIFY_URL": self.server.url,
            "MASTHEAD_EDGE_SECRETS": SECRET,
            **env,
        }
        result = masthead("ops", "doctor", "--json", database_url=self.url, **values)
        assert_no_traceback(result)
        return result.returncode, json.loads(result.stdout)


def _now() -> datetime:
    return datetime.now(UTC)


def _worker(engine: Engine, seen: datetime, name: str = "w-alive") -> None:
    worker = Worker(name, "host", os.getpid(), ("publish.verify",), 1, seen, seen)
    with writing(engine) as connection:
        worker_store.register(connection, worker)


@contextmanager
def _live(url: str) -> Iterator[Site]:
    engine = open_engine(url)
    _worker(engine, _now() + timedelta(hours=1))  # alive for the whole test
    with LiveServer(settings_for(url)) as server:
        yield Site(url, engine, server)
    engine.dispose()


@pytest.fixture
def site(database_factories: dict[str, DatabaseFactory]) -> Iterator[Site]:
    """A live demo site on SQLite (the broken set-ups need only one kind of database)."""
    url = database_factories["sqlite"].new("demo")
    with _live(url) as live:
        yield live


@pytest.fixture
def any_site(demo_database_url: str) -> Iterator[Site]:
    """A live demo site on each kind of database."""
    with _live(demo_database_url) as live:
        yield live


def _codes(document: dict[str, Any]) -> dict[str, str]:
    return {finding["code"]: finding["severity"] for finding in document["findings"]}


def test_a_healthy_site_exits_0_with_no_error_or_warning(any_site: Site) -> None:
    site = any_site
    before = row_counts(site.engine)
    code, document = site.doctor()
    assert code == 0, document
    assert document["ok"] is True
    assert document["counts"]["error"] == document["counts"]["warning"] == 0
    assert {"queue_depth"} <= set(_codes(document))
    assert all(finding["message"] for finding in document["findings"])
    assert row_counts(site.engine) == before  # doctor only reads


def test_a_failed_task_is_a_warning(site: Site) -> None:
    with writing(site.engine) as connection:
        task = enqueue(connection, NewTask("publish.verify"), at=_now())
        connection.execute(
            update(tasks)
            .where(tasks.c.id == task.task_id)
            .values(state="failed", finished_at=_now(), last_error_code="handler_error")
        )
    code, document = site.doctor()
    assert code == 1
    assert document["ok"] is False
    assert _codes(document)["tasks_failed"] == "warning"
    assert "receipts_unverified" not in _codes(document)


def test_an_unverified_receipt_is_a_warning(site: Site) -> None:
    body = " ".join(
        f"Sentence {n} of a post with enough words to pass its gates." for n in range(9)
    )
    fields = PostFields(
        title="Never confirmed", dek="What it says.", body=body, tags=("operations",),
        authors=("ledger",),
    )  # fmt: skip
    with writing(site.engine) as connection:
        post = create_post(connection, call_as(), fields)
        publish_post(connection, call_as(), post.id)
        connection.execute(update(receipts).values(state="unverified", ended_at=_now()))
    code, document = site.doctor()
    assert code == 1
    finding = next(f for f in document["findings"] if f["code"] == "receipts_unverified")
    assert finding["command"] == "masthead receipts list --state unverified"


def test_a_dead_worker_is_a_finding(site: Site) -> None:
    _worker(site.engine, _now() - timedelta(hours=1), name="w-dead")
    code, document = site.doctor()
    assert code == 1
    finding = next(f for f in document["findings"] if f["code"] == "worker_silent")
    assert "w-dead" in finding["message"]
    assert finding["command"] == "masthead workers list"


def test_an_unreachable_public_url_is_an_error(site: Site) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    code, document = site.doctor(MASTHEAD_VERIFY_URL=closed)
    assert code == 1
    assert _codes(document)["public_url_unreachable"] == "error"


def test_a_url_serving_another_site_is_an_error(site: Site) -> None:
    code, document = site.doctor(MASTHEAD_PUBLIC_URL="https://other.example.test")
    assert code == 1
    assert _codes(document)["public_url_other_site"] == "error"


def test_a_missing_edge_secret_is_an_error_in_production(site: Site) -> None:
    code, document = site.doctor(MASTHEAD_EDGE_SECRETS="", MASTHEAD_ENV="production")
    assert code == 1
    assert _codes(document)["edge_secret_missing"] == "error"


def test_an_unmigrated_database_is_an_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = masthead("ops", "doctor", "--json", database_url=url)
    assert_no_traceback(result)
    assert result.returncode == 1
    findings = _codes(json.loads(result.stdout))
    assert findings["not_migrated"] == "error"
    assert "masthead migrate" in result.stderr


def test_an_unreachable_database_exits_4(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:1/nowhere"
    result = masthead("ops", "doctor", "--json", database_url=url)
    assert_no_traceback(result)
    assert result.returncode == 4
    assert _codes(json.loads(result.stdout))["database_unreachable"] == "error"
