"""A database that is gone: clear answers, never a stack trace."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from tests.api_support import EDGE_HEADER, EDGE_SECRET, api_world
from tests.conftest import LiveServer, settings_for
from tests.databases import POSTGRES_ADMIN_URL, DatabaseFactory

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


def _keyed_writes(client: httpx.Client) -> list[httpx.Response]:
    keyed = {"Idempotency-Key": "outage-1"}
    return [
        client.post("/api/v1/posts", json={"title": "During an outage"}, headers=keyed),
        client.patch("/api/v1/tags/operations", json={"name": "Ops"}, headers=keyed),
        client.delete("/api/v1/tokens/1", headers=keyed),
    ]


def _assert_problem_503(response: httpx.Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json()["code"] == code


def test_keyed_writes_during_an_outage_get_a_problem_not_a_page() -> None:
    settings = settings_for(GONE, edge_secrets=EDGE_SECRET)
    headers = {EDGE_HEADER: EDGE_SECRET, "Authorization": "Bearer mh_x"}
    with LiveServer(settings) as server, server.client() as client:
        client.headers.update(headers)
        answers = _keyed_writes(client)
    for answer in answers:
        _assert_problem_503(answer, "database_unavailable")


def _recreate_empty(url: str) -> None:
    """The database dropped and created again, with no tables (or, on SQLite, a new file)."""
    database = make_url(url).database or ""
    if make_url(url).get_backend_name() == "sqlite":
        Path(database).unlink()
        Path(database).touch()
        return
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database}"')


def test_a_database_without_tables_says_run_masthead_migrate(
    database_factories: dict[str, DatabaseFactory], database_kind: str
) -> None:
    factory = database_factories[database_kind]
    url = factory.new("empty")
    _recreate_empty(url)  # SQLite: before the server opens it (a replaced file is refused)
    settings = settings_for(url, edge_secrets=EDGE_SECRET)
    headers = {EDGE_HEADER: EDGE_SECRET, "Authorization": "Bearer mh_x"}
    try:
        with LiveServer(settings) as server, server.client() as client:
            before = client.get("/api/v1/me", headers=headers)
            _recreate_empty(url) if database_kind == "postgres" else None
            answers = [client.get("/api/v1/me", headers=headers)]
            client.headers.update(headers)
            answers += _keyed_writes(client)
            client.headers.clear()
            page, health = client.get("/"), client.get("/healthz")
            missing, hidden = client.get("/no-such-page/"), client.get("/api/v1/me")
    finally:
        factory.drop(url)
    for answer in [before, *answers]:
        _assert_problem_503(answer, "not_migrated")
        assert "run `masthead migrate`" in answer.json()["detail"]
    assert (page.status_code, page.headers["retry-after"]) == (503, "5")
    assert "Back in a moment" in page.text
    assert health.status_code == 503
    assert (missing.status_code, hidden.status_code) == (404, 404)
