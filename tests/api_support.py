"""A live API to test against: a real server, an edge secret, and staff of every role."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import Engine

from masthead.actions import auth, staff
from masthead.actions.context import OPERATOR, Call
from masthead.domain.staff import Role, StaffKind, StaffMember
from masthead.queue.embedded import start_embedded_worker
from masthead.store.engine import open_engine, writing
from tests.conftest import LiveServer, settings_for
from tests.operators import call_as

EDGE_SECRET = "edge-secret-for-tests-0123456789abcdef"
OLD_EDGE_SECRET = "older-edge-secret-for-tests-9876543210"
EDGE_HEADER = "X-Masthead-Edge"

ROLES = {
    "admin": ("ada-admin", Role.ADMIN, StaffKind.PERSON),
    "editor": ("eli-editor", Role.EDITOR, StaffKind.PERSON),
    "writer": ("wren-writer", Role.WRITER, StaffKind.AGENT),
    "other_writer": ("otto-writer", Role.WRITER, StaffKind.AGENT),
}


def _operator() -> Call:
    return call_as(OPERATOR)


def add_member(engine: Engine, slug: str, role: Role, kind: StaffKind = StaffKind.PERSON) -> str:
    """Add a staff member and return a fresh token for them."""
    member = StaffMember(slug, slug.replace("-", " ").title(), "Tester", "Quality", kind, role=role)
    with writing(engine) as connection:
        staff.add_staff(connection, _operator(), member)
        return auth.issue_token(connection, _operator(), slug, "test").secret


@dataclass
class ApiWorld:
    """The server, its database, and a token for each role."""

    server: LiveServer
    engine: Engine
    tokens: dict[str, str] = field(default_factory=dict)
    slugs: dict[str, str] = field(default_factory=dict)

    def client(self, role: str | None = "admin", edge: str | None = EDGE_SECRET) -> httpx.Client:
        headers = {}
        if edge is not None:
            headers[EDGE_HEADER] = edge
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return httpx.Client(
            base_url=f"{self.server.url}/api/v1",
            headers=headers,
            timeout=15,
            follow_redirects=False,
        )

    def create_post(self, role: str = "writer", **fields: Any) -> dict[str, Any]:
        body = {"title": "A draft", "body": "Some words.", "tags": [], **fields}
        with self.client(role) as client:
            response = client.post("/posts", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


def api_world(database_url: str, **overrides: object) -> Iterator[ApiWorld]:
    """Use as a generator fixture: yields an ApiWorld, stops the server afterwards."""
    engine = open_engine(database_url)
    world_tokens = {
        role: add_member(engine, slug, member_role, kind)
        for role, (slug, member_role, kind) in ROLES.items()
    }
    settings = settings_for(
        database_url, edge_secrets=f"{EDGE_SECRET},{OLD_EDGE_SECRET}", **overrides
    )
    with LiveServer(settings) as server:
        yield ApiWorld(
            server, engine, world_tokens, {role: slug for role, (slug, *_rest) in ROLES.items()}
        )
    engine.dispose()


QUICK_VERIFY = {
    "queue_poll_seconds": 0.2,
    "queue_lease_seconds": 20,
    "queue_heartbeat_seconds": 2,
    "queue_reaper_seconds": 2,
    "queue_grace_seconds": 5,
    "verify_retry_seconds": 0.2,
}
"""A worker for tests: quick to look, and leases sized for a loaded machine."""


@contextmanager
def verifying_worker(engine: Engine, site_url: str, **overrides: object) -> Iterator[None]:
    """A worker in this process that verifies publishes against the live site at `site_url`."""
    url = engine.url.render_as_string(hide_password=False)
    values: dict[str, object] = {**QUICK_VERIFY, "verify_url": site_url, **overrides}
    handle = start_embedded_worker(settings_for(url, **values), engine)
    try:
        yield
    finally:
        handle.stop()
