"""The publish pipeline through the API: `202` with a receipt, `?wait` for its verification,
receipts to read back, and a replayed key that answers the stored `202` — against a live
server and a real worker that re-fetches it over HTTP, on both databases."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
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


PUBLIC_URL = "https://blog.example.test"  # the live server's public URL (settings_for)
LINK = re.compile(r'(?:href|src)="([^"#?]*)')
COUNT_LINE = re.compile(r"(\d+) posts? found in")


def _crawl(api: ApiWorld) -> dict[str, str]:
    """Every public page reachable from the index, the feeds and the sitemap: path → body."""
    seen: dict[str, str] = {}
    queue = ["/", "/feed.xml", "/sitemap.xml", "/robots.txt"]
    with api.server.client() as public:
        while queue and len(seen) < 2000:
            path = queue.pop()
            if path in seen:
                continue
            answer = public.get(path)
            seen[path] = answer.text if answer.status_code == 200 else ""
            for link in LINK.findall(answer.text) + re.findall(r"<loc>([^<]+)</loc>", answer.text):
                local = link.removeprefix(PUBLIC_URL)
                if local.startswith("/") and not local.startswith(("/static/", "/api/")):
                    queue.append(local)
    return seen


def _counts(pages: dict[str, str]) -> dict[str, list[str]]:
    return {path: COUNT_LINE.findall(body) for path, body in pages.items() if "found in" in body}


def test_scheduled_unpublished_and_archived_posts_are_on_no_page_count_feed_or_sitemap(
    api: ApiWorld,
) -> None:
    before = _crawl(api)
    assert len(before) >= 40, sorted(before)  # the demo: listings, posts, feeds, sitemap
    assert {"/tag/operations/feed.xml", "/author/ledger/", "/page/2/"} <= set(before)
    with verifying_worker(api.engine, api.server.url), api.client("editor") as editor:
        scheduled = _draft(api, "Not yet time")
        at = (datetime.now(UTC) + timedelta(days=3)).isoformat()
        answer = _post_to(
            editor, f"/posts/{scheduled['id']}/schedule", scheduled["id"], json={"at": at}
        )
        assert answer.status_code == 200, answer.text
        for title, leave in (("Taken back", "unpublish"), ("Put away", "archive")):
            post = _draft(api, title)
            live = _post_to(editor, f"/posts/{post['id']}/publish", post["id"], params={"wait": 10})
            assert live.json()["receipt"]["state"] == "verified", live.text
            path = f"/posts/{post['id']}" + ("/unpublish" if leave == "unpublish" else "")
            headers = {"If-Match": _etag(editor, post["id"])}
            method = editor.post if leave == "unpublish" else editor.delete
            down = method(path, params={"wait": 10}, headers=headers)
            assert down.status_code == 200, down.text
            assert (down.json()["receipt"]["action"], down.json()["receipt"]["state"]) == (
                leave,
                "verified",
            )
    after = _crawl(api)
    assert set(after) == set(before), "no page appeared or went away"
    for path, body in after.items():
        for slug in ("not-yet-time", "taken-back", "put-away"):
            assert slug not in body, f"{slug} shows on {path}"
    assert _counts(after) == _counts(before)
    with api.server.client() as public:
        for slug in ("not-yet-time", "taken-back", "put-away"):
            assert public.get(f"/posts/{slug}/").status_code == 404
