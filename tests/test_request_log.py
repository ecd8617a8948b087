"""Request ids and log lines, read from a real `masthead serve` process's piped stderr."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import httpx
import pytest

from masthead.domain.staff import Role
from masthead.store.engine import open_engine
from masthead.web.logs import REQUEST_ID, JsonLines, ReadableLines, configure_logging
from tests.api_support import EDGE_HEADER, EDGE_SECRET, add_member
from tests.serve_support import Served, masthead_serve

GENERATED = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def served(database_url: str) -> Iterator[tuple[Served, str]]:
    engine = open_engine(database_url)
    token = add_member(engine, "ada-admin", Role.ADMIN)
    engine.dispose()
    with masthead_serve(database_url, "--no-worker", MASTHEAD_EDGE_SECRETS=EDGE_SECRET) as server:
        yield server, token


def test_a_given_request_id_comes_back_and_is_on_the_requests_json_log_line(
    served: tuple[Served, str],
) -> None:
    server, _token = served
    response = httpx.get(f"{server.url}/", headers={"X-Request-Id": "trace-abc-123"}, timeout=20)
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "trace-abc-123"
    line = server.wait_for_record(message="request", request_id="trace-abc-123")
    assert line["method"] == "GET"
    assert line["route"] == "/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float | int)
    assert line["duration_ms"] >= 0
    assert line["level"] == "info"


def test_a_request_without_an_id_gets_a_new_one_on_its_answer_and_its_line(
    served: tuple[Served, str],
) -> None:
    server, _token = served
    first = httpx.get(f"{server.url}/no-such-page/", timeout=20)
    second = httpx.get(f"{server.url}/no-such-page/", timeout=20)
    assert first.status_code == 404
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(GENERATED.match(ident) for ident in ids)
    assert ids[0] != ids[1]
    line = server.wait_for_record(message="request", request_id=ids[0])
    assert (line["route"], line["status"]) == ("/no-such-page/", 404)


def test_an_insane_request_id_is_replaced(served: tuple[Served, str]) -> None:
    server, _token = served
    response = httpx.get(f"{server.url}/healthz", headers={"X-Request-Id": "x" * 65}, timeout=20)
    assert GENERATED.match(response.headers["x-request-id"])


def test_an_api_call_logs_its_route_pattern_and_its_enqueued_task_carries_the_id(
    served: tuple[Served, str],
) -> None:
    server, token = served
    headers = {EDGE_HEADER: EDGE_SECRET, "Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{server.url}/api/v1", headers=headers, timeout=20) as api:
        body = {"title": "Logged", "dek": "A dek.", "body": "Some words here.", "tags": []}
        created = api.post("/posts", json=body, headers={"X-Request-Id": "create-1"})
        assert created.status_code == 201, created.text
        assert created.headers["x-request-id"] == "create-1"
        post_id = created.json()["id"]
        etag = api.get(f"/posts/{post_id}").headers["etag"]
        published = api.post(
            f"/posts/{post_id}/publish", headers={"If-Match": etag, "X-Request-Id": "publish-1"}
        )
    assert published.status_code == 202, published.text
    assert published.headers["x-request-id"] == "publish-1"
    line = server.wait_for_record(message="request", request_id="publish-1")
    assert (line["method"], line["route"]) == ("POST", "/api/v1/posts/{post_id}/publish")
    enqueued = server.wait_for_record(message="task enqueued", request_id="publish-1")
    assert enqueued["kind"]
    assert enqueued["task_id"]
    secrets = (token, EDGE_SECRET)
    assert not [line for line in server.lines if any(secret in line for secret in secrets)]


def test_an_edge_refusal_is_logged_with_its_request_id_and_never_the_secret_tried(
    served: tuple[Served, str],
) -> None:
    server, _token = served
    tried = "a-wrong-edge-secret-0123456789abcdef"
    headers = {EDGE_HEADER: tried, "X-Request-Id": "refused-1"}
    response = httpx.get(f"{server.url}/api/v1/me", headers=headers, timeout=20)
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "refused-1"
    refusal = server.wait_for_record(message="edge_refused", request_id="refused-1")
    assert (refusal["reason"], refusal["path"]) == ("wrong", "/api/v1/me")
    line = server.wait_for_record(message="request", request_id="refused-1")
    assert (line["route"], line["status"]) == ("/api/v1/me", 404)
    assert not [line for line in server.lines if tried in line]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_lines_are_readable_on_a_terminal_and_json_elsewhere() -> None:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    try:
        for stream, kind in ((_Terminal(), ReadableLines), (io.StringIO(), JsonLines)):
            configure_logging(stream)
            assert isinstance(root.handlers[0].formatter, kind)
            token = REQUEST_ID.set("req-9")
            logging.getLogger("masthead.test").info("hello", extra={"status": 201})
            REQUEST_ID.reset(token)
            written = stream.getvalue().strip()
            if kind is JsonLines:
                record = json.loads(written)
                assert (record["message"], record["status"]) == ("hello", 201)
                assert record["request_id"] == "req-9"
            else:
                assert "masthead.test: hello" in written
                assert "status=201" in written
                assert "request_id=req-9" in written
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])
