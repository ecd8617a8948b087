"""Roles × routes × methods: every forbidden call is refused and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, select

from masthead.store.engine import reading
from masthead.store.schema import audit_log, metadata, tokens
from tests.api_support import ApiWorld

OWN, OTHER, LIVE = "{own}", "{other}", "{live}"


@dataclass(frozen=True)
class Case:
    role: str
    method: str
    path: str
    expected: int
    body: dict[str, Any] | None = None


def _c(
    role: str, method: str, path: str, expected: int, body: dict[str, Any] | None = None
) -> Case:
    return Case(role, method, path, expected, body)


FORBIDDEN = [
    # A writer: others' posts do not exist for them; editor steps are refused.
    _c("writer", "GET", f"/posts/{OTHER}", 404),
    _c("writer", "PATCH", f"/posts/{OTHER}", 404, {"title": "Mine now"}),
    _c("writer", "DELETE", f"/posts/{OTHER}", 404),
    _c("writer", "POST", f"/posts/{OTHER}/submit", 404),
    _c("writer", "GET", f"/posts/{OTHER}/revisions", 404),
    _c("writer", "GET", f"/posts/{OTHER}/revisions/1", 404),
    _c("writer", "POST", f"/posts/{LIVE}/unpublish", 404),
    _c("writer", "PATCH", f"/posts/{LIVE}", 404, {"title": "Defaced"}),
    _c("writer", "POST", f"/posts/{OWN}/publish", 403),
    _c("writer", "POST", f"/posts/{OWN}/unpublish", 403),
    _c("writer", "DELETE", f"/posts/{OWN}", 403),
    _c("writer", "PATCH", f"/posts/{OWN}", 403, {"authors": ["otto-writer"]}),
    _c("writer", "POST", "/posts", 403, {"title": "Ghost", "authors": ["otto-writer"]}),
    _c("writer", "GET", "/receipts", 403),
    _c("writer", "GET", "/receipts/1", 403),
    _c("writer", "GET", f"/posts/{OWN}/receipts", 403),
    *[
        _c(role, method, path, 403, body)
        for role in ("writer", "editor")
        for method, path, body in [
            ("POST", "/tags", {"slug": "new-tag", "name": "New"}),
            ("PATCH", "/tags/operations", {"name": "Ops"}),
            ("DELETE", "/tags/design", None),
            ("POST", "/staff", {"slug": "newbie", "name": "Newbie"}),
            ("PATCH", "/staff/ledger", {"role": "admin"}),
            ("PATCH", "/staff/ada-admin", {"active": False}),
            ("GET", "/tokens", None),
            ("POST", "/tokens", {"staff": "ledger"}),
            ("DELETE", "/tokens/1", None),
            ("GET", "/settings", None),
            ("PATCH", "/settings", {"title": "Taken over"}),
        ]
    ],
    _c("writer", "PATCH", "/staff/wren-writer", 403, {"role": "admin"}),
    _c("editor", "PATCH", "/staff/eli-editor", 403, {"role": "admin"}),
]

ALLOWED = [
    _c("writer", "GET", f"/posts/{OWN}", 200),
    _c("writer", "PATCH", f"/posts/{OWN}", 200, {"title": "Better title"}),
    _c("writer", "POST", f"/posts/{OWN}/submit", 200),
    _c("writer", "POST", "/posts", 201, {"title": "Fresh"}),
    _c("writer", "GET", "/tags", 200),
    _c("writer", "GET", "/staff", 200),
    _c("writer", "GET", "/me", 200),
    _c("editor", "GET", f"/posts/{OTHER}", 200),
    _c("editor", "PATCH", f"/posts/{OTHER}", 200, {"dek": "Edited by an editor"}),
    _c("editor", "POST", f"/posts/{OWN}/publish", 202),
    _c("editor", "POST", f"/posts/{LIVE}/unpublish", 202),
    _c("editor", "DELETE", f"/posts/{OTHER}", 200),
    _c("editor", "GET", "/receipts", 200),
    _c("editor", "GET", f"/posts/{LIVE}/receipts", 200),
    _c("admin", "POST", "/tags", 201, {"slug": "new-tag", "name": "New"}),
    _c("admin", "POST", "/staff", 201, {"slug": "newbie", "name": "Newbie"}),
    _c("admin", "PATCH", "/staff/ledger", 200, {"role": "editor"}),
    _c("admin", "GET", "/tokens", 200),
    _c("admin", "POST", "/tokens", 201, {"staff": "ledger"}),
    _c("admin", "GET", "/settings", 200),
    _c("admin", "PATCH", "/settings", 200, {"title": "Renamed"}),
    _c("admin", "POST", f"/posts/{OTHER}/publish", 202),
]


def _snapshot(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, but the tokens' last use (reading touches it)."""
    with reading(engine) as connection:
        snapshot = {}
        for table in metadata.sorted_tables:
            columns = [column for column in table.c if column is not tokens.c.last_used_at]
            rows = connection.execute(select(*columns))
            snapshot[table.name] = sorted(tuple(map(str, row)) for row in rows)
        return snapshot


def _targets(api: ApiWorld) -> dict[str, str]:
    own = api.create_post("writer", title="Own draft")
    other = api.create_post("other_writer", title="Someone else's draft")
    with api.client("editor") as editor:
        live = editor.get("/posts", params={"status": "published", "limit": 1}).json()["items"][0]
    return {OWN: str(own["id"]), OTHER: str(other["id"]), LIVE: str(live["id"])}


def _send(api: ApiWorld, case: Case, targets: dict[str, str]) -> int:
    path = case.path
    for marker, post_id in targets.items():
        path = path.replace(marker, post_id)
    with api.client(case.role) as client:
        etag = {}
        if "/posts/" in path:
            probe = api.client("admin").get("/posts/" + path.split("/")[2])
            etag = {"If-Match": probe.headers.get("etag", '"rev-1"')}
        response = client.request(case.method, path, json=case.body, headers=etag)
    return response.status_code


def test_every_forbidden_call_is_refused_and_changes_nothing(api: ApiWorld) -> None:
    targets = _targets(api)
    for role in ("writer", "editor", "admin"):
        with api.client(role) as client:
            client.get("/me")
    before = _snapshot(api.engine)
    failures = []
    for case in FORBIDDEN:
        status = _send(api, case, targets)
        if status != case.expected:
            failures.append(f"{case.role} {case.method} {case.path}: {status} != {case.expected}")
    assert not failures, "\n".join(failures)
    assert _snapshot(api.engine) == before


@pytest.mark.parametrize("case", ALLOWED, ids=lambda case: f"{case.role} {case.method} {case.path}")
def test_each_role_can_do_its_work(api: ApiWorld, case: Case) -> None:
    assert _send(api, case, _targets(api)) == case.expected


def test_suspension_and_revocation_stop_calls_at_once(api: ApiWorld) -> None:
    with api.client("admin") as admin, api.client("writer") as writer:
        assert writer.get("/me").status_code == 200
        admin.patch(f"/staff/{api.slugs['writer']}", json={"active": False})
        assert writer.get("/me").status_code == 401
        admin.patch(f"/staff/{api.slugs['writer']}", json={"active": True})
        assert writer.get("/me").status_code == 200
        token_id = writer.get("/me").json()["token_id"]
        assert admin.delete(f"/tokens/{token_id}").json()["revoked_at"] is not None
        refused = writer.get("/me")
        assert refused.status_code == 401
        assert refused.json()["code"] == "unauthenticated"


def test_tokens_are_shown_once_and_stored_as_digests(api: ApiWorld) -> None:
    with api.client("admin") as admin:
        issued = admin.post("/tokens", json={"staff": "ledger", "name": "ci"}).json()
        secret = issued["token"]
        assert secret.startswith("mh_")
        assert len(secret) >= 3 + 43
        listed = admin.get("/tokens").json()["items"]
        assert all("token" not in item for item in listed)
    with reading(api.engine) as connection:
        stored = connection.execute(select(tokens.c.digest)).scalars().all()
    assert secret not in " ".join(stored)
    headers = {"Authorization": f"Bearer {secret}"}
    with api.client(None) as client:
        me = client.get("/me", headers=headers).json()
    assert me["slug"] == "ledger"


def test_tokens_record_their_last_use_at_most_once_a_minute(api: ApiWorld) -> None:
    def last_use(token_id: int) -> object:
        with reading(api.engine) as connection:
            query = select(tokens.c.last_used_at).where(tokens.c.id == token_id)
            return connection.execute(query).scalar_one()

    with api.client("writer") as writer:
        token_id = writer.get("/me").json()["token_id"]
        first = last_use(token_id)
        assert first is not None
        writer.get("/me")
        assert last_use(token_id) == first


def _audit_count(engine: Engine) -> int:
    with reading(engine) as connection:
        return len(connection.execute(select(audit_log.c.id)).all())


def test_revoking_or_suspending_twice_answers_the_same_and_audits_once(api: ApiWorld) -> None:
    with api.client("admin") as admin, api.client("writer") as writer:
        token_id = writer.get("/me").json()["token_id"]
        first = admin.delete(f"/tokens/{token_id}").json()
        suspended = admin.patch(f"/staff/{api.slugs['editor']}", json={"active": False}).json()
        entries = _audit_count(api.engine)
        again = admin.delete(f"/tokens/{token_id}")
        still = admin.patch(f"/staff/{api.slugs['editor']}", json={"active": False})
    assert (again.status_code, again.json()) == (200, first)
    assert (still.status_code, still.json()) == (200, suspended)
    assert _audit_count(api.engine) == entries
