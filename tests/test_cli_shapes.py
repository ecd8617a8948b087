"""What the CLI prints: `--json` in the API's shapes, text as `key: value` lines, never a
Python repr."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from masthead.demo import DEMO_CONTENT
from tests.api_support import ApiWorld
from tests.cli_support import masthead

PUBLIC_URL = "https://blog.example.test"  # what `settings_for` gives the API's server
ISO_WITH_ZONE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _cli_json(api: ApiWorld, *args: str) -> Any:
    url = api.engine.url.render_as_string(hide_password=False)
    result = masthead(*args, "--json", database_url=url, MASTHEAD_PUBLIC_URL=PUBLIC_URL)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _api_items(api: ApiWorld, path: str) -> list[dict[str, Any]]:
    with api.client("admin") as admin:
        response = admin.get(path, params={"limit": 100})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.mark.parametrize(
    ("command", "path", "key"),
    [
        (("posts", "list"), "/posts", "id"),
        (("staff", "list"), "/staff", "slug"),
        (("token", "list"), "/tokens", "id"),
        (("audit", "--limit", "100"), "/audit", "id"),
    ],
)
def test_cli_json_is_the_api_shape_of_each_resource(
    api: ApiWorld, command: tuple[str, ...], path: str, key: str
) -> None:
    _api_items(api, path)  # the admin's token is now used, and stays so for a minute
    from_cli = {item[key]: item for item in _cli_json(api, *command)}
    from_api = {item[key]: item for item in _api_items(api, path)}
    assert from_cli
    shared = from_cli.keys() & from_api.keys()
    assert len(shared) >= min(len(from_cli), len(from_api)) - 1  # the API's call is audited
    assert {name: from_cli[name] for name in shared} == {name: from_api[name] for name in shared}


def test_cli_json_datetimes_are_iso_8601_with_a_zone(api: ApiWorld) -> None:
    moments = [
        value
        for command in (("posts", "list"), ("audit",), ("token", "list"))
        for item in _cli_json(api, *command)
        for name, value in item.items()
        if name.endswith("_at") or name == "at"
        if value is not None
    ]
    assert moments
    assert [moment for moment in moments if not ISO_WITH_ZONE.match(moment)] == []


def test_text_output_holds_no_python_reprs(api: ApiWorld) -> None:
    url = api.engine.url.render_as_string(hide_password=False)
    imported = masthead("import", str(DEMO_CONTENT), database_url=url).stdout
    assert imported.startswith("imported: 0 posts created, 0 updated, 16 unchanged; ")
    slug = "how-we-count-reading-time"
    scheduled = masthead("posts", "schedule", slug, "--at", "2030-01-01", database_url=url)
    assert scheduled.returncode == 0, scheduled.stderr
    task = json.loads(masthead("tasks", "list", "--json", database_url=url).stdout)["items"][0]
    shown = masthead("tasks", "show", str(task["id"]), database_url=url).stdout
    assert f"payload.post_id: {task['payload']['post_id']}" in shown.splitlines()
    assert "finished_at: -" in shown.splitlines()
    for text in (shown, imported):
        assert "None" not in text
        assert "{" not in text
        assert "'" not in text


def test_a_receipt_is_the_same_document_from_the_cli_and_the_api(api: ApiWorld) -> None:
    with api.client("editor") as editor:
        draft = editor.get("/posts", params={"status": "draft", "limit": 1}).json()["items"][0]
        etag = editor.get(f"/posts/{draft['id']}").headers["etag"]
        published = editor.post(f"/posts/{draft['id']}/publish", headers={"If-Match": etag})
        assert published.status_code == 202, published.text
        receipt_id = published.json()["receipt"]["id"]
        from_api = editor.get(f"/receipts/{receipt_id}").json()
    assert _cli_json(api, "receipts", "show", str(receipt_id)) == from_api
    assert _cli_json(api, "receipts", "list") == _api_items(api, "/receipts")
    assert ISO_WITH_ZONE.match(from_api["flipped_at"])
