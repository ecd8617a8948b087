"""Errors an operator meets at the command line: one clear line, the README's exit code,
never a traceback, and nothing left half-done."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, get_args, get_origin, get_type_hints

import pytest
import typer
from sqlalchemy.engine import make_url
from typer.models import OptionInfo

from masthead.cli.main import app
from masthead.cli.times import moment_option
from tests.cli_support import assert_no_traceback, masthead
from tests.databases import POSTGRES_ADMIN_URL, DatabaseFactory, postgres_unavailable


@pytest.fixture
def site(database_factories: dict[str, DatabaseFactory]) -> Iterator[str]:
    """A migrated SQLite database with the demo content, as `masthead init --demo` leaves it."""
    factory = database_factories["sqlite"]
    url = factory.new("demo")
    yield url
    factory.drop(url)


def _fails(result: subprocess.CompletedProcess[str], exit_code: int) -> str:
    assert_no_traceback(result)
    assert result.returncode == exit_code, (result.returncode, result.stderr)
    return result.stderr


def _said(stderr: str) -> str:
    """The message as one line, without the frame a usage error is drawn in."""
    return " ".join(stderr.replace("│", " ").split())


def _count(url: str, table: str) -> int:
    with sqlite3.connect(str(make_url(url).database)) as connection:
        count: int = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return count


@pytest.mark.parametrize("url", ["mysql://x/y", "garbage", "sqlite"])
def test_a_database_url_masthead_cannot_use_is_a_one_line_usage_error(url: str) -> None:
    stderr = _fails(masthead("posts", "list", database_url=url), 2)
    assert stderr.count("\n") == 1, stderr
    assert "MASTHEAD_DATABASE_URL" in stderr
    assert "sqlite:///" in stderr
    assert "postgresql://" in stderr


def test_export_to_a_file_is_refused_clearly(site: str, tmp_path: Path) -> None:
    target = tmp_path / "export.tar"
    target.write_text("keep me")
    stderr = _fails(masthead("export", str(target), database_url=site), 2)
    assert "not a folder" in stderr
    assert target.read_text() == "keep me"


def test_demo_access_to_a_missing_folder_leaves_no_token_behind(site: str, tmp_path: Path) -> None:
    tokens, staff = _count(site, "tokens"), _count(site, "staff")
    result = masthead("demo-access", str(tmp_path / "missing" / "access.env"), database_url=site)
    stderr = _fails(result, 2)
    assert stderr.startswith("unusable_path: cannot write")
    assert (_count(site, "tokens"), _count(site, "staff")) == (tokens, staff)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.parametrize("port", ["99999", "65536", "-1", "0"])
def test_serve_refuses_a_port_out_of_range_as_bad_usage(site: str, port: str) -> None:
    _fails(masthead("serve", "--port", port, "--no-worker", database_url=site), 2)


def test_serve_on_a_busy_port_says_so_before_announcing_anything(site: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", _free_port()))
        busy.listen()
        port = str(busy.getsockname()[1])
        result = masthead("serve", "--port", port, "--no-worker", database_url=site)
    stderr = _fails(result, 5)
    assert "Masthead on" not in result.stdout
    assert f"127.0.0.1:{port}" in stderr
    assert "in use" in stderr


def test_staff_add_with_a_bad_slug_is_an_input_problem(site: str) -> None:
    result = masthead("staff", "add", "--slug", "Bad Slug!", "--name", "Bad", database_url=site)
    stderr = _fails(result, 1)
    assert "slug" in stderr
    assert "lowercase" in stderr


@pytest.mark.parametrize("limit", ["-5", "0"])
def test_audit_refuses_a_limit_below_one(site: str, limit: str) -> None:
    result = masthead("audit", "--limit", limit, database_url=site)
    _fails(result, 2)
    assert result.stdout == ""


def test_revoking_a_revoked_token_says_already_and_writes_no_audit_entry(site: str) -> None:
    assert masthead("token", "create", "ledger", database_url=site).returncode == 0
    token_id = json.loads(masthead("token", "list", "--json", database_url=site).stdout)[0]["id"]
    first = masthead("token", "revoke", str(token_id), database_url=site)
    assert (first.returncode, first.stdout) == (0, f"token {token_id} revoked\n")
    entries = _count(site, "audit_log")
    again = masthead("token", "revoke", str(token_id), database_url=site)
    assert (again.returncode, again.stdout) == (0, f"token {token_id} was already revoked\n")
    assert _count(site, "audit_log") == entries


def test_suspending_a_suspended_member_says_already_and_writes_no_audit_entry(site: str) -> None:
    first = masthead("staff", "suspend", "ledger", database_url=site)
    assert (first.returncode, first.stdout) == (0, "ledger: suspended\n")
    entries, events = _count(site, "audit_log"), _count(site, "events")
    again = masthead("staff", "suspend", "ledger", database_url=site)
    assert (again.returncode, again.stdout) == (0, "ledger: already suspended\n")
    assert (_count(site, "audit_log"), _count(site, "events")) == (entries, events)
    resumed = masthead("staff", "resume", "ledger", database_url=site)
    assert resumed.stdout == "ledger: active\n"


def _empty_postgres_database() -> Iterator[str]:
    import psycopg

    name = f"mh_empty_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        postgres_unavailable(str(error).strip())
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def schemaless_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty SQLite file, or a fresh PostgreSQL database: reachable, with no tables."""
    if request.param == "postgres":
        yield from _empty_postgres_database()
        return
    path = tmp_path / "empty.db"
    path.touch()
    yield f"sqlite:///{path}"  # noqa: PT022 - the PostgreSQL branch has a teardown


@pytest.mark.parametrize(
    "command",
    [("posts", "list"), ("audit",), ("staff", "list"), ("tasks", "list"), ("export", "out")],
)
def test_a_database_without_schema_says_to_run_init(
    schemaless_url: str, command: tuple[str, ...], tmp_path: Path
) -> None:
    result = masthead(*command, database_url=schemaless_url, cwd=tmp_path)
    stderr = _fails(result, 4)
    assert "the database has no schema: run `masthead init`" in stderr
    assert "no such table" not in stderr
    assert "UndefinedTable" not in stderr


def test_init_still_creates_the_schema_of_an_empty_database(schemaless_url: str) -> None:
    assert masthead("init", database_url=schemaless_url).returncode == 0
    assert masthead("posts", "list", database_url=schemaless_url).returncode == 0


def _serve_started(url: str, port: int) -> bool:
    server = subprocess.Popen(
        [sys.executable, "-m", "masthead.cli", "serve", "--port", str(port), "--no-worker"],
        env={**os.environ, "MASTHEAD_DATABASE_URL": url},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        time.sleep(0.2)
        return line.startswith("Masthead on") and server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_announces_itself_once_listening(site: str) -> None:
    assert _serve_started(site, _free_port())


def _datetime_options(
    commands: typer.Typer | None = None, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], str]]:
    """Every option of every command that takes a time, (command path, option); each must
    use the CLI's one parser of times."""
    commands = commands or app
    found: list[tuple[tuple[str, ...], str]] = []
    for info in commands.registered_commands:
        assert info.callback is not None
        name = info.name or info.callback.__name__.replace("_", "-")
        for parameter, hint in get_type_hints(info.callback, include_extras=True).items():
            base, *extras = get_args(hint) if get_origin(hint) is Annotated else (hint,)
            if datetime in (base, *get_args(base)):
                option = next(extra for extra in extras if isinstance(extra, OptionInfo))
                assert option.parser is moment_option, (name, parameter)
                found.append(((*path, name), "--" + parameter.replace("_", "-")))
    for group in commands.registered_groups:
        assert group.typer_instance is not None
        assert group.name is not None
        found += _datetime_options(group.typer_instance, (*path, group.name))
    return found


DATETIME_OPTIONS = _datetime_options()


def test_the_datetime_options_are_the_known_ones() -> None:
    assert sorted(DATETIME_OPTIONS) == [(("audit",), "--since"), (("posts", "schedule"), "--at")]


def _with_time(command: tuple[str, ...], option: str, when: str) -> list[str]:
    arguments = [*command, option, when]
    return [*arguments, "how-we-count-reading-time"] if command[-1] == "schedule" else arguments


@pytest.mark.parametrize(("command", "option"), DATETIME_OPTIONS)
def test_every_datetime_option_refuses_a_time_without_a_zone(
    site: str, command: tuple[str, ...], option: str
) -> None:
    naive = masthead(*_with_time(command, option, "2030-01-01T09:00:00"), database_url=site)
    stderr = _said(_fails(naive, 2))
    assert "has no time zone: give one, e.g. 2026-01-01T00:00:00Z" in stderr
    wrong = masthead(*_with_time(command, option, "2030-02-30"), database_url=site)
    assert "is not a date or an ISO 8601 time" in _said(_fails(wrong, 2))


@pytest.mark.parametrize(("command", "option"), DATETIME_OPTIONS)
@pytest.mark.parametrize("when", ["2030-01-01", "2030-01-01T09:00:00Z", "2030-01-01T10:00+01:00"])
def test_every_datetime_option_takes_a_date_or_a_zoned_time(
    site: str, command: tuple[str, ...], option: str, when: str
) -> None:
    result = masthead(*_with_time(command, option, when), database_url=site)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr


def test_audit_since_a_date_counts_from_midnight_utc(site: str) -> None:
    every = json.loads(masthead("audit", "--json", database_url=site).stdout)
    assert every
    today = every[0]["at"][:10]
    since = json.loads(masthead("audit", "--since", today, "--json", database_url=site).stdout)
    assert since == [entry for entry in every if entry["at"][:10] >= today]
    future = masthead("audit", "--since", "2999-01-01", "--json", database_url=site)
    assert json.loads(future.stdout) == []
