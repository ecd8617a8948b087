"""The edge secret: without it, internal routes do not exist — the public 404, byte for byte."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest

from masthead.domain.secrets import digest
from masthead.store.edge_secrets import add_digest, retire_digest
from masthead.store.engine import writing
from tests.api_support import EDGE_HEADER, EDGE_SECRET, OLD_EDGE_SECRET, ApiWorld

RETIRED = "retired-edge-secret-0123456789abcdefgh"
INVENTED = [f"/api/v1/{word}" for word in (
    "admin", "debug", "internal", "users", "login", "graphql", "metrics", "env", "config",
    "posts/1/delete", "posts/999999", "posts/abc", "tags/x/y", "staff/../tokens", "openapi.yaml",
    "docs", "redoc", "swagger.json", "health", "tasks", "workers", "audit", "backup", "restore",
    "secrets", "edge", "me/token", "tokens/1/secret", "render/raw", "settings/all",
)] + [f"/api/{word}" for word in (
    "", "v1", "v2/posts", "v0", "v1/", "V1/posts", "v1//posts", "v1/posts/", "v1%2Fposts",
    "v1/posts?x=1", "internal", "admin", "keys", "v1/.env", "v1/../../etc/passwd", "v1/%00",
    "v1/posts/1/revisions/1/restore", "v1/tokens/1", "v1/staff/ada-admin", "v1/tags/operations",
)]  # fmt: skip


def _operations(world: ApiWorld) -> list[tuple[str, str]]:
    with world.client() as client:
        document = client.get("/openapi.json").json()
    samples = {"{post_id}": "1", "{number}": "1", "{slug}": "operations", "{token_id}": "1"}
    operations = []
    for template, methods in document["paths"].items():
        path = template
        for name, value in samples.items():
            path = path.replace(name, value)
        operations.extend((method.upper(), f"/api/v1{path}") for method in methods)
    return operations


def _variants() -> dict[str, dict[str, str]]:
    return {
        "missing": {},
        "wrong": {EDGE_HEADER: "not-the-secret-at-all-0123456789abcdef"},
        "wrong length": {EDGE_HEADER: EDGE_SECRET[:-1]},
        "wrong case": {EDGE_HEADER: EDGE_SECRET.upper()},
        "retired": {EDGE_HEADER: RETIRED},
        "longer": {EDGE_HEADER: EDGE_SECRET + "x"},
    }


def test_without_the_edge_secret_every_internal_route_is_the_public_404(
    api: ApiWorld, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(UTC)
    with writing(api.engine) as connection:
        add_digest(connection, digest(RETIRED), "old", now)
        retire_digest(connection, digest(RETIRED), now)
    operations = _operations(api)
    assert len(operations) >= 25
    targets = operations + [("GET", path) for path in INVENTED] + [("POST", p) for p in INVENTED]
    token = {"Authorization": f"Bearer {api.tokens['admin']}"}
    with httpx.Client(base_url=api.server.url, timeout=15) as raw:
        reference = raw.get("/no-such-page/")
        assert reference.status_code == 404
        caplog.set_level(logging.WARNING, logger="masthead.edge")
        for name, headers in _variants().items():
            for method, path in targets:
                response = raw.request(method, path, headers={**headers, **token}, json={})
                assert response.status_code == 404, (name, method, path)
                assert response.content == reference.content, (name, method, path)
                assert response.headers["content-type"] == reference.headers["content-type"]
    refusals = [record for record in caplog.records if "edge_refused" in record.getMessage()]
    assert len(refusals) >= len(targets) * len(_variants()) - len(targets)


def test_both_secrets_work_during_a_rotation(api: ApiWorld) -> None:
    for secret in (EDGE_SECRET, OLD_EDGE_SECRET):
        with api.client("admin", edge=secret) as client:
            assert client.get("/me").status_code == 200
        with api.client(None, edge=secret) as anonymous:
            response = anonymous.get("/me")
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_secret_added_to_the_database_works_without_a_restart(api: ApiWorld) -> None:
    fresh = "freshly-rotated-secret-abcdefghijklmnop"
    with api.client("admin", edge=fresh) as client:
        assert client.get("/me").status_code == 404
        with writing(api.engine) as connection:
            add_digest(connection, digest(fresh), "rotation", datetime.now(UTC))
        assert client.get("/me").status_code == 200
        with writing(api.engine) as connection:
            retire_digest(connection, digest(fresh), datetime.now(UTC))
        assert client.get("/me").status_code == 404


def test_the_public_site_never_needs_the_secret(api: ApiWorld) -> None:
    with api.server.client() as public:
        assert public.get("/").status_code == 200
        assert public.get("/api/v1/openapi.json").status_code == 404
        assert public.get("/openapi.json").status_code == 404
        assert public.get("/docs").status_code == 404
