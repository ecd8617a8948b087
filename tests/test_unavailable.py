"""A database that is gone: clear answers, never a stack trace."""

from __future__ import annotations

from tests.api_support import EDGE_HEADER, EDGE_SECRET
from tests.conftest import LiveServer, settings_for

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
