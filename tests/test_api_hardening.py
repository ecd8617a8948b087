"""Issue 9, web side: dead tokens, secrets at rest, the OpenAPI document, If-Match bounds,
times without a zone, and settings reset with null."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from masthead.domain.staff import Role
from masthead.store.engine import reading
from masthead.store.schema import idempotency_keys
from tests.api_support import ApiWorld, add_member

ABSENT_REVISIONS = ['"rev-2147483648"', '"rev-9223372036854775808"', '"rev-99999999999999999999"']


def _key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def _key_rows(api: ApiWorld) -> int:
    with reading(api.engine) as connection:
        count = connection.execute(select(func.count()).select_from(idempotency_keys))
        return int(count.scalar_one())


def _document(api: ApiWorld) -> dict[str, Any]:
    with api.client() as client:
        document: dict[str, Any] = client.get("/openapi.json").json()
    return document


def test_a_revoked_token_never_replays_its_stored_response(api: ApiWorld) -> None:
    token = add_member(api.engine, "rhea-revoked", Role.WRITER)
    headers = {"Authorization": f"Bearer {token}", **_key()}
    with api.client(role=None) as client:
        first = client.post("/posts", json={"title": "Before revoking"}, headers=headers)
        assert first.status_code == 201
        me = client.get("/me", headers={"Authorization": f"Bearer {token}"}).json()
    with api.client("admin") as admin:
        assert admin.delete(f"/tokens/{me['token_id']}").status_code == 200
    rows = _key_rows(api)
    with api.client(role=None) as client:
        again = client.post("/posts", json={"title": "Before revoking"}, headers=headers)
        other_key = {**headers, **_key()}
        fresh = client.post("/posts", json={"title": "After revoking"}, headers=other_key)
    assert again.status_code == 401
    assert again.json()["code"] == "unauthenticated"
    assert "idempotent-replayed" not in again.headers
    assert fresh.status_code == 401
    assert _key_rows(api) == rows


def test_a_suspended_members_token_never_replays_its_stored_response(api: ApiWorld) -> None:
    token = add_member(api.engine, "sid-suspended", Role.WRITER)
    headers = {"Authorization": f"Bearer {token}", **_key()}
    with api.client(role=None) as client:
        assert client.post("/posts", json={"title": "Mine"}, headers=headers).status_code == 201
    with api.client("admin") as admin:
        assert admin.patch("/staff/sid-suspended", json={"active": False}).status_code == 200
    rows = _key_rows(api)
    with api.client(role=None) as client:
        again = client.post("/posts", json={"title": "Mine"}, headers=headers)
    assert again.status_code == 401
    assert "idempotent-replayed" not in again.headers
    assert _key_rows(api) == rows


def test_an_issued_token_secret_is_not_kept_with_its_idempotency_key(api: ApiWorld) -> None:
    headers = _key()
    body = {"staff": api.slugs["writer"], "name": "keyed"}
    with api.client("admin") as admin:
        first = admin.post("/tokens", json=body, headers=headers)
        again = admin.post("/tokens", json=body, headers=headers)
    secret = first.json()["token"]
    assert first.status_code == 201
    assert secret
    with reading(api.engine) as connection:
        stored = [
            bytes(row)
            for row in connection.execute(select(idempotency_keys.c.response_body)).scalars()
            if row
        ]
    assert stored
    assert not any(secret.encode() in body for body in stored)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["token"] is None
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-redacted"] == "token"


def test_the_openapi_document_needs_a_staff_token(api: ApiWorld) -> None:
    with api.client(role=None) as anonymous:
        refused = anonymous.get("/openapi.json")
        wrong = anonymous.get("/openapi.json", headers={"Authorization": "Bearer nope"})
    with api.client("writer") as writer:
        served = writer.get("/openapi.json")
    assert (refused.status_code, refused.json()["code"]) == (401, "unauthenticated")
    assert wrong.status_code == 401
    assert served.status_code == 200
    assert "/posts" in served.json()["paths"]


def _if_match_operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for template, methods in document["paths"].items():
        for method, operation in methods.items():
            names = {parameter["name"] for parameter in operation.get("parameters", [])}
            if "If-Match" in names:
                found.append((method.upper(), template))
    return found


@pytest.mark.parametrize("etag", ABSENT_REVISIONS)
def test_a_revision_no_database_can_hold_never_matches(api: ApiWorld, etag: str) -> None:
    post = api.create_post("editor", title="Bounded")
    operations = _if_match_operations(_document(api))
    assert len(operations) >= 8
    values = {"{post_id}": str(post["id"]), "{number}": "1"}
    bodies = {"PATCH": {"title": "Never"}, "schedule": {"at": "2030-01-01T00:00:00+00:00"}}
    with api.client("admin") as admin:
        for method, template in operations:
            path = template
            for name, value in values.items():
                path = path.replace(name, value)
            body = bodies.get(method) or bodies.get(path.rsplit("/", 1)[-1])
            response = admin.request(method, path, json=body, headers={"If-Match": etag})
            assert response.status_code == 412, (method, path, response.text)
            assert response.json()["code"] == "stale_revision"


def _datetime_parameters(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    found = []
    for template, methods in document["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                schema = json.dumps(parameter.get("schema", {}))
                if '"date-time"' in schema:
                    found.append((method.upper(), template, parameter["name"]))
    return found


def _datetime_body_fields(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    schemas = document["components"]["schemas"]
    found = []
    for template, methods in document["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            reference = content.get("application/json", {}).get("schema", {}).get("$ref")
            if reference is None:
                continue
            schema = schemas[reference.rsplit("/", 1)[-1]]
            for name, field in schema.get("properties", {}).items():
                if '"date-time"' in json.dumps(field):
                    found.append((method.upper(), template, name))
    return found


def test_every_datetime_parameter_refuses_a_time_without_a_zone(api: ApiWorld) -> None:
    document = _document(api)
    parameters = _datetime_parameters(document)
    fields = _datetime_body_fields(document)
    assert ("GET", "/audit", "since") in parameters
    assert ("POST", "/posts/{post_id}/schedule", "at") in fields
    post = api.create_post("editor", title="Zoneless")
    with api.client("admin") as admin:
        etag = admin.get(f"/posts/{post['id']}").headers["etag"]
        answers = []
        for method, template, name in parameters:
            path = template.replace("{post_id}", str(post["id"]))
            params = {name: "2026-01-01T00:00:00"}
            answers.append((name, admin.request(method, path, params=params)))
        for method, template, name in fields:
            path = template.replace("{post_id}", str(post["id"]))
            body = {name: "2026-01-01T00:00:00"}
            answers.append(
                (name, admin.request(method, path, json=body, headers={"If-Match": etag}))
            )
        zoned = admin.get("/audit", params={"since": "2026-01-01T00:00:00+00:00"})
    for name, response in answers:
        assert response.status_code == 422, (name, response.text)
        problem = response.json()
        assert problem["code"] == "validation_failed"
        assert [error["field"] for error in problem["errors"]] == [name]
    assert zoned.status_code == 200


def test_a_setting_sent_as_null_goes_back_to_its_default(api: ApiWorld) -> None:
    with api.client("admin") as admin:
        default = admin.get("/settings").json()
        changed = admin.patch("/settings", json={"headline": "Changed", "page_size": 4})
        assert changed.json()["headline"] == "Changed"
        reset = admin.patch("/settings", json={"headline": None})
        after = admin.get("/settings").json()
    assert reset.status_code == 200
    assert reset.json()["headline"] == default["headline"]
    assert after["headline"] == default["headline"]
    assert after["page_size"] == 4
    assert api.server.client().get("/").text.count(default["headline"]) >= 1
