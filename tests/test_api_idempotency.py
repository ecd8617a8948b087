"""Safe writes: Idempotency-Key replays, racing editors, and one audit entry per write."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from masthead.store.engine import reading, writing
from masthead.store.schema import audit_log, idempotency_keys, posts
from tests.api_support import ApiWorld


def _post_count(api: ApiWorld) -> int:
    with reading(api.engine) as connection:
        return int(connection.execute(select(func.count()).select_from(posts)).scalar_one())


def _key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def test_the_same_key_and_body_one_hundred_times_has_one_effect(api: ApiWorld) -> None:
    before = _post_count(api)
    headers = _key()
    body = {"title": "Exactly once", "tags": ["operations"]}
    with api.client("writer") as writer:
        responses = [writer.post("/posts", json=body, headers=headers) for _ in range(100)]
    first = responses[0]
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    for replay in responses[1:]:
        assert (replay.status_code, replay.content) == (first.status_code, first.content)
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.headers["location"] == first.headers["location"]
        assert replay.headers["etag"] == first.headers["etag"]
    assert _post_count(api) == before + 1


def test_twenty_at_once_for_twenty_rounds_has_one_effect_a_round(api: ApiWorld) -> None:
    before = _post_count(api)
    for round_number in range(20):
        headers = _key()
        body = {"title": f"Round {round_number}"}
        results: list[httpx.Response] = []
        lock = threading.Lock()

        def send(
            body: dict[str, Any] = body,
            headers: dict[str, str] = headers,
            results: list[httpx.Response] = results,
            lock: threading.Lock = lock,
        ) -> None:
            with api.client("writer") as writer:
                response = writer.post("/posts", json=body, headers=headers)
            with lock:
                results.append(response)

        threads = [threading.Thread(target=send) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        created = [r for r in results if r.status_code == 201]
        busy = [r for r in results if r.status_code == 409]
        assert len(created) + len(busy) == 20, Counter(r.status_code for r in results)
        assert len({r.content for r in created}) == 1, [
            (r.json()["id"], r.headers.get("idempotent-replayed")) for r in created
        ]
        assert sum("idempotent-replayed" not in r.headers for r in created) <= 1
        for response in busy:
            assert response.json()["code"] == "idempotency_in_flight", response.text[:300]
            assert int(response.headers["retry-after"]) >= 1
        with api.client("writer") as writer:
            final = writer.post("/posts", json=body, headers=headers)
        assert final.status_code == 201
        assert final.headers["idempotent-replayed"] == "true"
    assert _post_count(api) == before + 20


def test_key_misuse_is_refused_and_never_crosses_tokens(api: ApiWorld) -> None:
    headers = _key()
    with api.client("writer") as writer, api.client("other_writer") as other:
        first = writer.post("/posts", json={"title": "Mine"}, headers=headers)
        different = writer.post("/posts", json={"title": "Not the same"}, headers=headers)
        assert different.status_code == 422
        assert different.json()["code"] == "idempotency_key_reused"
        theirs = other.post("/posts", json={"title": "Mine"}, headers=headers)
        assert theirs.status_code == 201
        assert "idempotent-replayed" not in theirs.headers
        assert theirs.json()["id"] != first.json()["id"]
        assert theirs.json()["authors"] == [api.slugs["other_writer"]]


def test_an_expired_key_acts_as_new(api: ApiWorld) -> None:
    headers = _key()
    with api.client("writer") as writer:
        first = writer.post("/posts", json={"title": "Old news"}, headers=headers)
        with writing(api.engine) as connection:
            connection.execute(
                update(idempotency_keys).values(expires_at=datetime.now(UTC) - timedelta(hours=1))
            )
        again = writer.post("/posts", json={"title": "Old news"}, headers=headers)
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]


def test_an_error_response_is_replayed_too(api: ApiWorld) -> None:
    headers = _key()
    with api.client("writer") as writer:
        first = writer.post("/posts", json={"title": "x", "tags": ["nope"]}, headers=headers)
        assert first.status_code == 422
        again = writer.post("/posts", json={"title": "x", "tags": ["nope"]}, headers=headers)
    assert (again.status_code, again.content) == (422, first.content)
    assert again.headers["idempotent-replayed"] == "true"


def test_two_writers_racing_with_one_etag_one_wins_and_nothing_is_lost(api: ApiWorld) -> None:
    post = api.create_post("editor", title="Shared", body="")
    path = f"/posts/{post['id']}"
    with api.client("editor") as first, api.client("admin") as second:
        for round_number in range(200):
            etag = first.get(path).headers["etag"]
            outcomes: dict[str, httpx.Response] = {}

            def edit(
                name: str,
                client: httpx.Client,
                etag: str = etag,
                n: int = round_number,
                outcomes: dict[str, httpx.Response] = outcomes,
            ) -> None:
                outcomes[name] = client.patch(
                    path, json={"body": f"{name} {n}"}, headers={"If-Match": etag}
                )

            threads = [
                threading.Thread(target=edit, args=("first", first)),
                threading.Thread(target=edit, args=("second", second)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            statuses = sorted(response.status_code for response in outcomes.values())
            assert statuses == [200, 412], (round_number, statuses)
            loser_name = next(name for name, r in outcomes.items() if r.status_code == 412)
            loser = first if loser_name == "first" else second
            fresh = loser.get(path).headers["etag"]
            retried = loser.patch(
                path,
                json={"body": f"{loser_name} {round_number} retried"},
                headers={"If-Match": fresh},
            )
            assert retried.status_code == 200
        revisions = first.get(f"{path}/revisions").json()["items"]
    assert len(revisions) == 1 + 200 * 2
    bodies = {revision["body"] for revision in revisions}
    assert all(f"{n} retried" in " ".join(bodies) for n in (0, 199))


def _audit_count(api: ApiWorld) -> int:
    with reading(api.engine) as connection:
        return int(connection.execute(select(func.count()).select_from(audit_log)).scalar_one())


def test_every_write_leaves_exactly_one_audit_entry_with_its_actor(api: ApiWorld) -> None:
    own = api.create_post("editor", title="Audited")
    pid = own["id"]
    calls: list[tuple[str, str, str, dict[str, Any] | None, dict[str, str]]] = [
        ("editor", "POST", "/posts", {"title": "Another"}, {}),
        ("editor", "PATCH", f"/posts/{pid}", {"dek": "d"}, {"If-Match": '"rev-1"'}),
        ("editor", "POST", f"/posts/{pid}/submit", None, {"If-Match": '"rev-2"'}),
        ("editor", "POST", f"/posts/{pid}/publish", None, {"If-Match": '"rev-2"'}),
        ("editor", "POST", f"/posts/{pid}/unpublish", None, {"If-Match": '"rev-2"'}),
        ("editor", "POST", f"/posts/{pid}/revisions/1/restore", None, {"If-Match": '"rev-2"'}),
        ("editor", "DELETE", f"/posts/{pid}", None, {"If-Match": '"rev-3"'}),
        ("admin", "POST", "/tags", {"slug": "audited", "name": "Audited"}, {}),
        ("admin", "PATCH", "/tags/audited", {"name": "Audited!"}, {}),
        ("admin", "DELETE", "/tags/audited", None, {}),
        ("admin", "POST", "/staff", {"slug": "newbie", "name": "Newbie"}, {}),
        ("admin", "PATCH", "/staff/newbie", {"role": "editor"}, {}),
        ("admin", "POST", "/tokens", {"staff": "newbie"}, {}),
        ("admin", "PATCH", "/settings", {"kicker": "Audited kicker"}, {}),
    ]
    for role, method, path, body, headers in calls:
        before = _audit_count(api)
        request_id = uuid.uuid4().hex
        key = uuid.uuid4().hex
        with api.client(role) as client:
            response = client.request(
                method,
                path,
                json=body,
                headers={**headers, "X-Request-Id": request_id, "Idempotency-Key": key},
            )
        assert response.status_code < 300, (method, path, response.text)
        assert _audit_count(api) == before + 1, (method, path)
        with api.client("admin") as admin:
            entry = admin.get("/audit", params={"limit": 1}).json()["items"][0]
        assert entry["actor"] == api.slugs[role], (method, path)
        assert (entry["request_id"], entry["idempotency_key"]) == (request_id, key)
    with api.client("admin") as admin:
        token_id = admin.get("/tokens").json()["items"][-1]["id"]
        before = _audit_count(api)
        admin.delete(f"/tokens/{token_id}")
        assert _audit_count(api) == before + 1
        filtered = admin.get("/audit", params={"target": f"post:{pid}"}).json()["items"]
        assert {entry["action"] for entry in filtered} >= {"post.publish", "post.archive"}
        by_actor = admin.get("/audit", params={"actor": api.slugs["admin"]}).json()["items"]
        assert all(entry["actor"] == api.slugs["admin"] for entry in by_actor)
    with api.client("editor") as editor:
        assert editor.get("/audit").status_code == 403


def test_a_hundred_keyed_writes_at_once_all_answer_and_the_site_keeps_serving(
    api: ApiWorld,
) -> None:
    """Each request holds one connection, never two: a crowd of keyed writes cannot starve
    the pool (it once did on PostgreSQL: 36 of 40 answered a 500 after 30 s)."""
    answers: list[tuple[int, float]] = []
    public: list[tuple[int, float]] = []

    def write(number: int) -> None:
        with api.client("writer") as writer:
            started = time.monotonic()
            response = writer.post(
                "/posts", json={"title": f"Crowd {number}"}, headers=_key(), timeout=30
            )
            answers.append((response.status_code, time.monotonic() - started))

    def read_meanwhile() -> None:
        with api.server.client() as client:
            for _ in range(5):
                started = time.monotonic()
                public.append((client.get("/", timeout=30).status_code, time.monotonic() - started))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(100)]
    reader = threading.Thread(target=read_meanwhile)
    for thread in threads:
        thread.start()
    reader.start()
    for thread in [*threads, reader]:
        thread.join(60)
    assert len(answers) == 100
    assert Counter(status for status, _ in answers) == {201: 100}
    assert max(seconds for _, seconds in answers) < 10
    assert [status for status, _ in public] == [200] * 5
    assert max(seconds for _, seconds in public) < 10
