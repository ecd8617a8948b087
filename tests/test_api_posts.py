"""The post lifecycle through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from tests.api_support import ApiWorld


def _etag(response: httpx.Response) -> str:
    return response.headers["etag"]


def test_a_writer_drafts_and_an_editor_publishes(api: ApiWorld) -> None:
    draft = api.create_post("writer", title="Héllo agents", tags=["operations"], dek="Short.")
    assert draft["slug"] == "hello-agents"
    assert draft["authors"] == [api.slugs["writer"]]
    assert (draft["status"], draft["revision"]) == ("draft", 1)
    with api.client("writer") as writer, api.client("editor") as editor:
        current = writer.get(f"/posts/{draft['id']}")
        assert _etag(current) == '"rev-1"'
        submitted = writer.post(
            f"/posts/{draft['id']}/submit", headers={"If-Match": _etag(current)}
        )
        assert submitted.json()["status"] == "in_review"
        refused = writer.post(f"/posts/{draft['id']}/publish", headers={"If-Match": '"rev-1"'})
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
        published = editor.post(f"/posts/{draft['id']}/publish", headers={"If-Match": '"rev-1"'})
        assert published.status_code == 202, published.text
        answer = published.json()
        assert answer["post"]["published_revision"] == 1
        assert answer["receipt"]["state"] == "pending"
        assert published.headers["location"] == f"/api/v1/receipts/{answer['receipt']['id']}"
        assert _etag(published) == '"rev-1"'
    with api.server.client() as public:
        page = public.get("/posts/hello-agents/")
    assert page.status_code == 200
    assert '<meta name="masthead:revision" content="1">' in page.text


def test_editing_a_live_post_keeps_the_pinned_revision_until_republished(api: ApiWorld) -> None:
    post = api.create_post("editor", title="Pinned", body="First words.")
    with api.client("editor") as editor:
        editor.post(f"/posts/{post['id']}/publish", headers={"If-Match": '"rev-1"'})
        edited = editor.patch(
            f"/posts/{post['id']}", json={"body": "Second words."}, headers={"If-Match": '"rev-1"'}
        )
        assert edited.status_code == 200, edited.text
        assert (edited.json()["revision"], edited.json()["published_revision"]) == (2, 1)
        with api.server.client() as public:
            assert "First words." in public.get("/posts/pinned/").text
        editor.post(f"/posts/{post['id']}/publish", headers={"If-Match": '"rev-2"'})
        with api.server.client() as public:
            page = public.get("/posts/pinned/").text
        assert "Second words." in page
        assert '<meta name="masthead:revision" content="2">' in page
        revisions = editor.get(f"/posts/{post['id']}/revisions").json()["items"]
        assert [revision["number"] for revision in revisions] == [2, 1]
        assert revisions[0]["created_by"] == api.slugs["editor"]
        first = editor.get(f"/posts/{post['id']}/revisions/1").json()
        assert first["body"] == "First words."


def test_changes_without_if_match_get_428_and_stale_ones_412(api: ApiWorld) -> None:
    post = api.create_post("writer", title="Contested")
    path = f"/posts/{post['id']}"
    with api.client("writer") as writer:
        missing = writer.patch(path, json={"title": "No precondition"})
        assert missing.status_code == 428
        assert missing.json()["code"] == "precondition_required"
        writer.patch(path, json={"dek": "New dek"}, headers={"If-Match": '"rev-1"'})
        stale = writer.patch(path, json={"title": "Late"}, headers={"If-Match": '"rev-1"'})
        assert stale.status_code == 412
        problem = stale.json()
        assert problem["code"] == "stale_revision"
        assert problem["current_revision"] == 2
        assert problem["revised_by"] == api.slugs["writer"]
        assert problem["changed_fields"] == ["dek"]
        assert writer.get(path).json()["title"] == "Contested"


def test_illegal_transitions_get_409(api: ApiWorld) -> None:
    post = api.create_post("editor", title="Never live")
    with api.client("editor") as editor:
        response = editor.post(f"/posts/{post['id']}/unpublish", headers={"If-Match": '"rev-1"'})
        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"
        archived = editor.delete(f"/posts/{post['id']}", headers={"If-Match": '"rev-1"'})
        assert archived.status_code == 200, "a post that was never live leaves no receipt"
        assert archived.json() == {"receipt": None, "post": archived.json()["post"]}
        assert archived.json()["post"]["status"] == "archived"
        again = editor.post(f"/posts/{post['id']}/publish", headers={"If-Match": '"rev-1"'})
        assert again.status_code == 409


def test_a_changed_slug_keeps_the_old_url_redirecting(api: ApiWorld) -> None:
    post = api.create_post("editor", title="Old name")
    with api.client("editor") as editor:
        editor.post(f"/posts/{post['id']}/publish", headers={"If-Match": '"rev-1"'})
        editor.patch(
            f"/posts/{post['id']}", json={"slug": "new-name"}, headers={"If-Match": '"rev-1"'}
        )
        editor.post(f"/posts/{post['id']}/publish", headers={"If-Match": '"rev-2"'})
        taken = editor.post("/posts", json={"title": "Thief", "slug": "old-name"})
        assert taken.status_code == 409
        assert taken.json()["code"] == "slug_taken"
        derived = editor.post("/posts", json={"title": "Old name"}).json()
        assert derived["slug"] == "old-name-2"
    with api.server.client() as public:
        moved = public.get("/posts/old-name/")
        assert (moved.status_code, moved.headers["location"]) == (301, "/posts/new-name/")
        assert public.get("/posts/new-name/").status_code == 200


def test_unknown_tags_and_authors_are_422_with_each_field(api: ApiWorld) -> None:
    with api.client("editor") as editor:
        response = editor.post(
            "/posts", json={"title": "x", "tags": ["nope"], "authors": ["ghost", "ledger"]}
        )
    assert response.status_code == 422
    fields = {(error["field"], error["code"]) for error in response.json()["errors"]}
    assert fields == {("tags", "unknown_slug"), ("authors", "unknown_slug")}


def test_malformed_bodies_are_422_413_and_415(api: ApiWorld) -> None:
    with api.client("writer") as writer:
        invalid = writer.post("/posts", json={"title": 5, "colour": "red"})
        assert invalid.status_code == 422
        assert {error["field"] for error in invalid.json()["errors"]} == {"title", "colour"}
        huge = writer.post("/posts", json={"title": "big", "body": "x" * (1024 * 1024 + 10)})
        assert huge.status_code == 413
        assert huge.json()["code"] == "payload_too_large"
        form = writer.post("/posts", content=b"title=x", headers={"Content-Type": "text/plain"})
        assert form.status_code == 415
        broken = writer.post(
            "/posts", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert broken.status_code == 422
    assert huge.headers["content-type"] == "application/problem+json"


def test_lists_page_with_a_cursor_and_filter(api: ApiWorld) -> None:
    with api.client("editor") as editor:
        first = editor.get("/posts", params={"limit": 5}).json()
        assert len(first["items"]) == 5
        second = editor.get("/posts", params={"limit": 5, "cursor": first["next_cursor"]}).json()
        ids = [post["id"] for post in first["items"] + second["items"]]
        assert ids == sorted(ids, reverse=True)
        assert len(set(ids)) == 10
        drafts = editor.get("/posts", params={"status": "draft"}).json()["items"]
        assert {post["status"] for post in drafts} == {"draft"}
        tagged = editor.get("/posts", params={"tag": "queue"}).json()["items"]
        assert all("queue" in post["tags"] for post in tagged)
        assert tagged
        found = editor.get("/posts", params={"q": '"EDGE secret" rotat*'}).json()["items"]
        assert "rotating-the-edge-secret" in [post["slug"] for post in found]
        for post in found:
            assert "edge secret" in " ".join((post["title"], post["dek"], post["body"])).lower()
        bad = editor.get("/posts", params={"cursor": "garbage!"})
        assert bad.status_code == 422


def test_settings_change_shows_on_the_site_without_a_restart(api: ApiWorld) -> None:
    with api.client("admin") as admin:
        changed = admin.patch("/settings", json={"headline": "A new headline", "page_size": 4})
        assert changed.status_code == 200, changed.text
        bad = admin.patch("/settings", json={"timezone": "Mars/Base"})
        assert bad.status_code == 422
    with api.server.client() as public:
        page = public.get("/").text
    assert "A new headline" in page
    assert page.count('class="card"') == 4


def test_render_previews_sanitised_markdown(api: ApiWorld) -> None:
    with api.client("writer") as writer:
        response = writer.post(
            "/render", json={"body": "# Hi\n\nSome <script>x()</script> **bold**"}
        )
    body = response.json()
    assert "<script" not in body["html"]
    assert "<strong>bold</strong>" in body["html"]
    assert body["reading_time"] == 1


def test_tags_in_use_cannot_be_deleted(api: ApiWorld) -> None:
    with api.client("admin") as admin:
        assert admin.delete("/tags/operations").status_code == 409
        assert admin.post("/tags", json={"slug": "spare", "name": "Spare"}).status_code == 201
        assert admin.delete("/tags/spare").status_code == 204
        assert admin.get("/tags/spare").status_code == 404


def test_control_characters_are_refused_with_the_field_named(api: ApiWorld) -> None:
    with api.client("writer") as writer:
        response = writer.post("/posts", json={"title": "Bad\u0000title", "body": "ok\u0001"})
    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == {"title", "body"}


def test_control_characters_in_addresses_are_refused_not_crashed_on(api: ApiWorld) -> None:
    with api.client("editor") as editor:
        for path in ("/posts?author=%00x", "/posts?q=a%01", "/tags/%00", "/staff/a%0Bb"):
            response = editor.get(path)
            assert response.status_code == 422, (path, response.text[:200])
            assert response.json()["code"] == "validation_failed"
        newline = editor.get("/staff/a%0Ab")
        assert (newline.status_code, newline.json()["code"]) == (404, "not_found")
    with api.server.client() as public:
        reference = public.get("/no-such-page/").content
        for path in ("/tag/%00/", "/author/%01x/", "/posts/a%00b/", "/?x=%00"):
            response = public.get(path)
            assert response.status_code == 404, path
            assert response.content == reference


def test_cursors_out_of_range_are_refused_not_crashed_on(api: ApiWorld) -> None:
    import base64

    huge = base64.urlsafe_b64encode(b"id:99999999999999999999999").decode().rstrip("=")
    with api.client("editor") as editor:
        assert editor.get("/posts", params={"cursor": huge}).status_code == 422
        assert editor.get("/tasks", params={"cursor": "9" * 20}).status_code == 422
        assert editor.get("/audit", params={"cursor": huge}).status_code in {403, 422}


def test_overlong_names_and_request_ids_are_handled_on_both_databases(api: ApiWorld) -> None:
    with api.client("admin") as admin:
        long_name = admin.post("/staff", json={"slug": "longname", "name": "n" * 201})
        assert long_name.status_code == 422
        assert long_name.json()["errors"][0]["field"] == "name"
        tag = admin.post("/tags", json={"slug": "t", "name": "x" * 201})
        assert tag.status_code == 422
        created = admin.post(
            "/tags", json={"slug": "fine", "name": "Fine"}, headers={"X-Request-Id": "r" * 500}
        )
        assert created.status_code == 201
        entry = admin.get("/audit", params={"limit": 1}).json()["items"][0]
        assert entry["request_id"] != "r" * 500
        assert len(entry["request_id"]) <= 64
