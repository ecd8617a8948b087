"""The render cache across processes: a change made through one server process (or by
another process altogether) reaches the cache of every other, through the events table."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from masthead.domain.staff import Role
from masthead.settings import Settings
from masthead.store.engine import open_engine, writing
from tests.api_support import EDGE_HEADER, EDGE_SECRET, add_member
from tests.conftest import settings_for
from tests.serve_support import Served, masthead_serve
from tests.test_render_cache import _fill, _publish_new, call_as

DEADLINE_SECONDS = 30.0  # generous for a loaded machine; the benchmark measures the latency
ENVIRONMENT = {
    "MASTHEAD_EDGE_SECRETS": EDGE_SECRET,
    "MASTHEAD_PAGE_SIZE": "3",
    "MASTHEAD_PUBLIC_URL": "https://blog.example.test",
}


def _settings(database_url: str) -> Settings:
    return settings_for(database_url, page_size=3)


def _until(check: Callable[[], bool]) -> float:
    """Seconds until `check` holds, polling; fails past the deadline."""
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < DEADLINE_SECONDS, "the change never showed"
        time.sleep(0.05)
    return time.monotonic() - began


def _shows(served: Served, path: str, text: str) -> Callable[[], bool]:
    def check() -> bool:
        response = httpx.get(served.url + path, timeout=10)
        return response.status_code == 200 and text in response.text

    return check


def _warm(served: Served, *paths: str) -> None:
    for path in paths:
        for _ in range(2):  # the first renders and keeps it, the second is a hit
            assert httpx.get(served.url + path, timeout=10).status_code == 200


def test_a_publish_through_one_server_process_shows_on_the_other(database_url: str) -> None:
    engine = open_engine(database_url)
    _fill(engine, _settings(database_url))
    token = add_member(engine, "eli-editor", Role.EDITOR)
    engine.dispose()
    with (
        masthead_serve(database_url, "--no-worker", **ENVIRONMENT) as one,
        masthead_serve(database_url, "--no-worker", **ENVIRONMENT) as other,
    ):
        _warm(other, "/", "/feed.xml", "/author/ada/")
        assert "Across processes" not in httpx.get(other.url + "/", timeout=10).text
        headers = {EDGE_HEADER: EDGE_SECRET, "Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=one.url + "/api/v1", headers=headers, timeout=15) as api:
            body = "Words that cross from one process to the other. " * 20
            created = api.post("/posts", json={"title": "Across processes", "body": body})
            assert created.status_code == 201, created.text
            etag = {"If-Match": created.headers["etag"]}
            published = api.post(f"/posts/{created.json()['id']}/publish", headers=etag)
            assert published.status_code == 202, published.text
        _until(_shows(other, "/", "Across processes"))
        _until(_shows(other, "/feed.xml", "Across processes"))
        slug = created.json()["slug"]
        _until(_shows(other, f"/posts/{slug}/", "Across processes"))
        ada = httpx.get(other.url + "/author/ada/", timeout=10)
        assert "Across processes" not in ada.text  # a page the publish did not touch
        assert one.stop() == 0
        assert other.stop() == 0


def test_serve_with_two_workers_follows_a_change_made_by_another_process(
    sqlite_url: str,
) -> None:
    engine = open_engine(sqlite_url)
    settings = _settings(sqlite_url)
    _fill(engine, settings)
    with masthead_serve(sqlite_url, "--no-worker", "--workers", "2", **ENVIRONMENT) as served:
        _warm(served, "/", "/tag/api/")
        with writing(engine) as connection:  # this test's process: neither server's
            _publish_new(connection, call_as(settings=settings))
        _until(_shows(served, "/", "Post p6"))
        _until(_shows(served, "/tag/api/", "Post p6"))
        assert served.stop() == 0
    engine.dispose()


def _children(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
            if fields.get("PPid", "").strip() == str(pid):
                found.add(int(status.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the processes")
def test_server_processes_never_outlive_a_parent_killed_with_sigkill(sqlite_url: str) -> None:
    with masthead_serve(sqlite_url, "--no-worker", "--workers", "2", **ENVIRONMENT) as served:
        _until(lambda: len(_children(served.process.pid)) == 2)
        children = _children(served.process.pid)
        served.process.kill()
        served.process.wait(timeout=10)

        def gone() -> bool:
            return not any(Path(f"/proc/{child}").exists() for child in children)

        _until(gone)  # else they would keep the port and finish requests a retry repeats
        with pytest.raises(httpx.TransportError):
            httpx.get(served.url + "/healthz", timeout=2)
