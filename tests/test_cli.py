"""The `masthead` command as an operator runs it: real processes, real databases."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli_support import masthead as _masthead


def test_init_with_demo_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'site.db'}"
    first = _masthead("init", "--demo", "--json", database_url=url)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["demo"]["posts"]["created"] == 16
    second = _masthead("init", "--demo", "--json", database_url=url)
    assert json.loads(second.stdout)["demo"]["posts"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 16,
    }
    assert _masthead("migrate", database_url=url).returncode == 0


def test_lists_print_one_line_per_row_or_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'site.db'}"
    _masthead("init", "--demo", database_url=url)
    lines = _masthead("posts", "list", database_url=url).stdout.splitlines()
    assert len(lines) == 16
    assert sum("\tdraft\t" in line for line in lines) == 2
    posts = json.loads(_masthead("posts", "list", "--json", database_url=url).stdout)
    assert {post["status"] for post in posts} == {"published", "draft"}
    staff = json.loads(_masthead("staff", "list", "--json", database_url=url).stdout)
    assert {member["kind"] for member in staff} == {"person", "agent"}
    assert len(_masthead("staff", "list", database_url=url).stdout.splitlines()) == len(staff)


def test_an_unreachable_database_exits_with_code_four() -> None:
    result = _masthead("migrate", database_url="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 4
    assert result.stderr.startswith("database unavailable")


def test_a_bad_setting_exits_with_code_two(tmp_path: Path) -> None:
    result = _masthead(
        "migrate", database_url=f"sqlite:///{tmp_path / 'x.db'}", MASTHEAD_TIMEZONE="Nowhere/Land"
    )
    assert result.returncode == 2
    assert result.stderr.startswith("bad configuration: MASTHEAD_TIMEZONE: unknown time zone")


def test_export_writes_the_import_format(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'site.db'}"
    _masthead("init", "--demo", database_url=url)
    result = _masthead("export", str(tmp_path / "out"), "--json", database_url=url)
    assert json.loads(result.stdout) == {"posts": 16, "staff": 5, "tags": 7}
    assert len(list((tmp_path / "out" / "posts").glob("*.md"))) == 16
    assert (tmp_path / "out" / "staff.yaml").is_file()


def test_serve_answers_over_http(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'site.db'}"
    _masthead("init", "--demo", database_url=url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "MASTHEAD_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "masthead.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "masthead serve did not start"
                time.sleep(0.1)
        assert response.status_code == 200
        assert "14 posts" in response.text
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_demo_access_gives_a_working_secret_and_token_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'site.db'}"
    _masthead("init", "--demo", database_url=url)
    access = tmp_path / "access.env"
    first = _masthead("demo-access", str(access), database_url=url)
    assert first.returncode == 0, first.stderr
    again = _masthead("demo-access", str(access), database_url=url)
    assert again.stdout == first.stdout, "a second run reuses the same access"
    values = dict(line.split("=", 1) for line in access.read_text().splitlines())
    assert oct(access.stat().st_mode & 0o777) == "0o600"
    from masthead.settings import Settings
    from tests.conftest import LiveServer

    with LiveServer(Settings(database_url=url)) as server:
        headers = {
            "X-Masthead-Edge": values["MASTHEAD_DEMO_EDGE"],
            "Authorization": f"Bearer {values['MASTHEAD_DEMO_TOKEN']}",
        }
        me = httpx.get(f"{server.url}/api/v1/me", headers=headers, timeout=10)
    assert me.json()["role"] == "admin"
    audit = _masthead("audit", "--json", database_url=url)
    actions = {entry["action"] for entry in json.loads(audit.stdout)}
    assert {"staff.add", "edge_secret.add", "token.create"} <= actions


def test_staff_and_token_commands_manage_access(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'site.db'}"
    _masthead("init", database_url=url)
    added = _masthead(
        "staff", "add", "--slug", "ed", "--name", "Ed", "--role", "editor", "--kind", "agent",
        database_url=url,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    token = _masthead("token", "create", "ed", "--name", "bot", database_url=url).stdout.strip()
    assert token.startswith("mh_")
    listed = json.loads(_masthead("token", "list", "--json", database_url=url).stdout)
    assert [(item["staff"], item["name"]) for item in listed] == [("ed", "bot")]
    assert token not in json.dumps(listed)
    assert _masthead("staff", "set-role", "ed", "admin", database_url=url).returncode == 0
    assert _masthead("staff", "suspend", "ed", database_url=url).returncode == 0
    staff = json.loads(_masthead("staff", "list", "--json", database_url=url).stdout)
    assert (staff[0]["role"], staff[0]["active"]) == ("admin", False)
    assert _masthead("token", "revoke", str(listed[0]["id"]), database_url=url).returncode == 0
    missing = _masthead("token", "revoke", "999", database_url=url)
    assert missing.returncode == 3
    duplicate = _masthead("staff", "add", "--slug", "ed", "--name", "Again", database_url=url)
    assert duplicate.returncode == 5
    assert "slug_taken" in duplicate.stderr


def test_production_refuses_to_start_without_a_strong_edge_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'site.db'}"
    _masthead("init", database_url=url)
    for secrets_value in ("", "too-short-secret"):
        refused = _masthead(
            "serve", "--port", "1", database_url=url,
            MASTHEAD_ENV="production", MASTHEAD_EDGE_SECRETS=secrets_value,
        )  # fmt: skip
        assert refused.returncode == 2  # a set-up the settings refuse, like a bad setting
        assert "refusing to start in production" in refused.stderr


def test_posts_can_be_scheduled_and_unscheduled_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'site.db'}"
    _masthead("init", "--demo", database_url=url)
    slug = "how-we-count-reading-time"
    scheduled = _masthead(
        "posts", "schedule", slug, "--at", "2030-01-01T09:00:00Z", database_url=url
    )
    assert scheduled.returncode == 0, scheduled.stderr
    tasks = json.loads(_masthead("tasks", "list", "--json", database_url=url).stdout)
    assert "publish.scheduled" in [task["kind"] for task in tasks["items"]]
    assert _masthead("posts", "unschedule", slug, database_url=url).returncode == 0
    lines = _masthead("posts", "list", database_url=url).stdout.splitlines()
    assert any("\tdraft\t" in line and slug in line for line in lines)
    assert _masthead("posts", "unschedule", "nope", database_url=url).returncode == 3
