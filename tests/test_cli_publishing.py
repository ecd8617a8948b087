"""`masthead posts publish` and `masthead receipts`: the publish pipeline from the command
line, in a real process, verified by a real worker against a live server, on both
databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from masthead.actions.site_settings import update_site_settings
from masthead.store.engine import open_engine, writing
from tests.api_support import verifying_worker
from tests.conftest import LiveServer, settings_for
from tests.operators import call_as

DRAFT = "how-we-count-reading-time"  # a demo draft that passes every blocking gate


@pytest.fixture
def demo_site(demo_database_url: str) -> Iterator[tuple[Engine, LiveServer, str]]:
    engine = open_engine(demo_database_url)
    with LiveServer(settings_for(demo_database_url)) as server:
        yield engine, server, demo_database_url
    engine.dispose()


def _masthead(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "MASTHEAD_DATABASE_URL": database_url,
        "MASTHEAD_PUBLIC_URL": "https://blog.example.test",
    }
    return subprocess.run(
        [sys.executable, "-m", "masthead.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_publish_waits_for_the_verdict_and_the_receipt_reads_back(
    demo_site: tuple[Engine, LiveServer, str],
) -> None:
    engine, server, url = demo_site
    with verifying_worker(engine, server.url):
        published = _masthead(url, "posts", "publish", DRAFT, "--wait", "30", "--json")
    assert published.returncode == 0, published.stderr
    answer = json.loads(published.stdout)
    receipt = answer["receipt"]
    assert receipt["state"] == "verified"
    assert receipt["published_by"]["kind"] == "operator"
    assert all(check["ok"] for check in receipt["checks"])
    shown = _masthead(url, "receipts", "show", str(receipt["id"]))
    assert shown.returncode == 0, shown.stderr
    assert "state        verified" in shown.stdout
    assert "ok   status" in shown.stdout
    assert "{" not in shown.stdout
    assert "None" not in shown.stdout
    listed = _masthead(url, "receipts", "list", "--state", "verified")
    assert listed.stdout.splitlines()[0].split("\t")[:5] == [
        str(receipt["id"]),
        receipt["flipped_at"].replace("Z", "+00:00"),  # text: isoformat, JSON: as the API
        "publish",
        f"post {answer['post']['id']} rev 1",
        "verified",
    ]
    assert _masthead(url, "receipts", "list", "--state", "unverified").stdout == ""


def test_with_no_worker_a_wait_that_runs_out_exits_5_and_says_pending(
    demo_site: tuple[Engine, LiveServer, str],
) -> None:
    _engine, _server, url = demo_site
    published = _masthead(url, "posts", "publish", DRAFT, "--wait", "0.5")
    assert published.returncode == 5
    assert "state        pending" in published.stdout
    assert "no checks yet" in published.stdout


def test_a_blocked_publish_exits_1_naming_its_gates_and_changes_nothing(
    demo_site: tuple[Engine, LiveServer, str],
) -> None:
    engine, _server, url = demo_site
    with writing(engine) as connection:  # the demo draft is written by an agent
        update_site_settings(connection, call_as(), {"gates": {"not_approved": "block"}})
    blocked = _masthead(url, "posts", "publish", DRAFT)
    assert blocked.returncode == 1, blocked.stderr
    assert blocked.stderr.startswith("gates_failed: the gates block this publish (not_approved)")
    assert "Traceback" not in blocked.stderr
    listed = _masthead(url, "posts", "list").stdout
    assert f"\tdraft\t-\t{DRAFT}\t" in listed
    assert _masthead(url, "receipts", "list").stdout == ""


def test_an_unknown_post_or_receipt_exits_3(demo_site: tuple[Engine, LiveServer, str]) -> None:
    _engine, _server, url = demo_site
    missing = _masthead(url, "posts", "publish", "no-such-post")
    assert missing.returncode == 3
    assert "Traceback" not in missing.stderr
    unknown = _masthead(url, "receipts", "show", "99999")
    assert (unknown.returncode, unknown.stderr.strip()) == (3, "not_found: no receipt 99999")
