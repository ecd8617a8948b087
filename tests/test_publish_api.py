"""The publish pipeline through the API: `202` with a receipt, `?wait` for its verification,
receipts to read back, and a replayed key that answers the stored `202` — against a live
server and a real worker that re-fetches it over HTTP, on both databases."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.api_support import ApiWorld, verifying_worker

BODY = " ".join(
    f"Paragraph {number} says plainly what the team learned this week, and why it matters."
    for number in range(8)
)


def _draft(api: ApiWorld, title: str, **fields: Any) -> dict[str, Any]:
    values = {"dek": "What it says.", "body": BODY, "tags": ["operations"], **fields}
    return api.create_post("writer", title=title, **values)


def _etag(client: httpx.Client, post_id: int) -> str:
    return client.get(f"/posts/{post_id}").headers["etag"]


def _post_to(client: httpx.Client, path: str, post_id: int, **options: Any) -> httpx.Response:
    headers = {"If-Match": _etag(client, post_id), **options.pop("headers", {})}
    return client.post(path, headers=headers, **options)


def test_an_agent_drafts_and_submits_and_an_editor_publishes_verified(api: ApiWorld) -> None:
    draft = _draft(api, "Verified from the start")
    with api.client("writer") as writer:
        submitted = _post_to(writer, f"/posts/{draft['id']}/submit", draft["id"])
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "in_review"
    assert "not_approved" in {result["code"] for result in submitted.json()["gates"]}
    with verifying_worker(api.engine, api.server.url), api.client("editor") as editor:
        answer = _post_to(editor, f"/posts/{draft['id']}/publish", draft["id"], params={"wait": 10})
        assert answer.status_code == 200, answer.text
        receipt = answer.json()["receipt"]
        assert receipt["state"] == "verified", receipt["checks"]
        assert answer.headers["location"] == f"/api/v1/receipts/{receipt['id']}"
        assert answer.headers["etag"] == '"rev-1"'
        names = {check["name"] for check in receipt["checks"]}
        assert {"status", "title", "canonical", "revision", "index", "feed", "sitemap"} <= names
        assert {"tag:operations", "author:wren-writer"} <= names
        assert all(check["ok"] for check in receipt["checks"])
        assert receipt["published_by"] == {"staff": "eli-editor", "kind": "person", "token_id": 2}
        assert receipt["seconds_to_verified"] is not None
        assert editor.get(answer.headers["location"].removeprefix("/api/v1")).json() == receipt
        listed = editor.get(f"/posts/{draft['id']}/receipts").json()["items"]
        assert [item["id"] for item in listed] == [receipt["id"]]
        verified = editor.get("/receipts", params={"state": "verified"}).json()["items"]
        assert receipt["id"] in {item["id"] for item in verified}
    with api.server.client() as public:
        for path in ("/", "/tag/operations/", "/author/wren-writer/", "/feed.xml"):
            assert "verified-from-the-start" in public.get(path).text, path
        assert "/posts/verified-from-the-start/" in public.get("/sitemap.xml").text


def test_with_no_worker_the_wait_runs_out_and_answers_the_pending_receipt(api: ApiWorld) -> None:
    draft = _draft(api, "Nobody checks")
    with api.client("editor") as editor:
        answer = _post_to(
            editor, f"/posts/{draft['id']}/publish", draft["id"], params={"wait": 0.5}
        )
        assert answer.status_code == 202, answer.text
        assert answer.json()["receipt"]["state"] == "pending"
        assert answer.json()["post"]["status"] == "published"
        followed = editor.get(answer.headers["location"].removeprefix("/api/v1"))
    assert followed.json()["state"] == "pending"


def test_a_replayed_key_answers_the_stored_202_whose_location_leads_to_the_verdict(
    api: ApiWorld,
) -> None:
    draft = _draft(api, "Asked twice")
    key = {"Idempotency-Key": uuid.uuid4().hex}
    with verifying_worker(api.engine, api.server.url), api.client("editor") as editor:
        etag = {"If-Match": _etag(editor, draft["id"])}
        path = f"/posts/{draft['id']}/publish"
        first = editor.post(path, params={"wait": 10}, headers={**etag, **key})
        assert first.status_code == 200, first.text
        again = editor.post(path, params={"wait": 10}, headers={**etag, **key})
        assert again.status_code == 202
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json()["receipt"]["state"] == "pending"
        assert again.headers["location"] == first.headers["location"]
        live = editor.get(again.headers["location"].removeprefix("/api/v1")).json()
    assert live["state"] == "verified"
    assert len(editor_receipts(api, draft["id"])) == 1


def editor_receipts(api: ApiWorld, post_id: int) -> list[dict[str, Any]]:
    with api.client("editor") as editor:
        items: list[dict[str, Any]] = editor.get(f"/posts/{post_id}/receipts").json()["items"]
    return items


def test_a_wait_too_long_is_refused_before_anything_changes(api: ApiWorld) -> None:
    draft = _draft(api, "Patient")
    with api.client("editor") as editor:
        for wait in (31, -1):
            refused = _post_to(
                editor, f"/posts/{draft['id']}/publish", draft["id"], params={"wait": wait}
            )
            assert refused.status_code == 422, refused.text
            assert refused.json()["code"] == "validation_failed"
        assert editor.get(f"/posts/{draft['id']}").json()["status"] == "draft"
    assert editor_receipts(api, draft["id"]) == []


def test_unpublish_is_verified_gone_and_archiving_a_post_off_the_site_has_no_receipt(
    api: ApiWorld,
) -> None:
    draft = _draft(api, "Here and gone")
    with verifying_worker(api.engine, api.server.url), api.client("editor") as editor:
        published = _post_to(
            editor, f"/posts/{draft['id']}/publish", draft["id"], params={"wait": 10}
        )
        assert published.json()["receipt"]["state"] == "verified"
        down = _post_to(editor, f"/posts/{draft['id']}/unpublish", draft["id"], params={"wait": 10})
        assert down.status_code == 200, down.text
        receipt = down.json()["receipt"]
        assert (receipt["action"], receipt["state"]) == ("unpublish", "verified"), receipt
        assert all(check["ok"] for check in receipt["checks"])
        archived = editor.delete(
            f"/posts/{draft['id']}", headers={"If-Match": _etag(editor, draft["id"])}
        )
        assert archived.status_code == 200
        assert archived.json()["receipt"] is None
        assert "location" not in archived.headers
    with api.server.client() as public:
        assert public.get("/posts/here-and-gone/").status_code == 404
        for path in ("/", "/tag/operations/", "/feed.xml", "/sitemap.xml"):
            assert "here-and-gone" not in public.get(path).text, path


def test_a_blocking_gate_answers_422_with_every_result_and_publishes_nothing(
    api: ApiWorld,
) -> None:
    draft = _draft(api, "Unfinished", body=BODY + " TODO: the numbers.")
    with api.client("admin") as admin:
        changed = admin.patch("/settings", json={"gates": {"placeholder_text": "block"}})
        assert changed.status_code == 200, changed.text
    with api.client("editor") as editor:
        refused = _post_to(editor, f"/posts/{draft['id']}/publish", draft["id"])
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["code"] == "gates_failed"
        blocked = [result for result in problem["results"] if result["severity"] == "block"]
        assert [result["code"] for result in blocked] == ["placeholder_text"]
        assert editor.get(f"/posts/{draft['id']}").json()["status"] == "draft"
    with api.server.client() as public:
        assert public.get("/posts/unfinished/").status_code == 404
