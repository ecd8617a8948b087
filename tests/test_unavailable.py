"""A database that is gone: clear answers, never a stack trace."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from tests.api_support import EDGE_HEADER, EDGE_SECRET, api_world
from tests.conftest import LiveServer, settings_for
from tests.databases import DatabaseFactory

GONE = "postgresql://nobody@127.0.0.1:1/gone"


def test_with_the_database_gone_every_face_says_so() -> None:
    settings = settings_for(GONE, edge_secrets=EDGE_SECRET)
    with LiveServer(settings) as server, server.client() as client:
        health = client.get("/healthz")
        page = client.get("/")
        missing = client.get("/no-such-page/")
        api = client.get(
            "/api/v1/me", headers={EDGE_HEADER: EDGE_SECRET, "Authorization": "Bearer mh_x"}
        )
        hidden = client.get("/api/v1/me")
    assert (health.status_code, health.text) == (503, "database unavailable\n")
    assert page.status_code == 503
    assert page.headers["retry-after"] == "5"
    assert "Back in a moment" in page.text
    assert missing.status_code == 404
    assert "Page not found" in missing.text
    assert api.status_code == 503
    assert api.json()["code"] == "database_unavailable"
    assert hidden.status_code == 404


def _create_post(client: httpx.Client) -> int:
    return client.post("/posts", json={"title": "Kept?", "authors": ["ada-admin"]}).status_code


def test_a_sqlite_file_deleted_or_replaced_while_serving_stops_writes_at_once(
    tmp_path: Path, database_factories: dict[str, DatabaseFactory]
) -> None:
    url = database_factories["sqlite"].new("demo")
    path = Path(make_url(url).database or "")
    for world in api_world(url):
        with world.client("admin") as api, world.server.client() as public:
            assert _create_post(api) == 201
            shutil.copyfile(path, tmp_path / "copy.db")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            refused = api.post("/posts", json={"title": "Lost?", "authors": ["ada-admin"]})
            assert refused.status_code == 503
            assert refused.json()["code"] == "database_unavailable"
            assert "was deleted" in refused.json()["detail"]
            assert public.get("/healthz").status_code == 503
            assert public.get("/").status_code == 503
            shutil.copyfile(tmp_path / "copy.db", path)  # a "restore" under a running server
            assert _create_post(api) == 503
            assert public.get("/healthz").status_code == 503
