"""The MCP server over streamable HTTP, driven by the SDK's own client against a real
`masthead serve` on loopback: tools shaped by role, the walk from a draft to a verified
publish, and every safeguard the API has (edge secret, tokens, revisions, idempotency keys,
roles, schemas, size), each refusal a tool error with the API's stable code."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client

from masthead.actions import auth
from masthead.actions.audit import read_audit
from masthead.actions.context import OPERATOR
from masthead.actions.drafts import post_revisions
from masthead.actions.idempotency import claim_key
from masthead.actions.tasks import list_tasks
from masthead.domain.idempotency import Decision
from masthead.domain.staff import Role
from masthead.mcp.arguments import CreateDraftArgs
from masthead.mcp.server import key_digest
from masthead.mcp.tools import TOOLS
from masthead.store.engine import reading, writing
from tests.api_support import EDGE_HEADER, EDGE_SECRET, add_member, verifying_worker
from tests.databases import DatabaseFactory
from tests.mcp_support import (
    EDITOR_TOOLS,
    WRITER_TOOLS,
    McpSite,
    fresh_site,
    mcp_client,
)
from tests.operators import call_as


@pytest.fixture(scope="module")
def site(database_factories: dict[str, DatabaseFactory]) -> Iterator[McpSite]:
    """One served demo site for the module; each test makes posts of its own."""
    yield from fresh_site(database_factories["sqlite"])


def _content(result: Any) -> dict[str, Any]:
    assert result.structured_content is not None, result
    content: dict[str, Any] = result.structured_content
    return content


def _refused(result: Any, code: str) -> dict[str, Any]:
    assert result.is_error, result.structured_content
    content = _content(result)
    assert content["code"] == code, content
    return content


def _listed(site: McpSite, role: str) -> dict[str, Any]:
    async def listing(client: Client) -> dict[str, Any]:
        return {tool.name: tool for tool in (await client.list_tools()).tools}

    return site.run(role, listing)


def test_the_tool_list_is_shaped_by_the_caller_s_role(site: McpSite) -> None:
    writer, editor, admin = (_listed(site, role) for role in ("writer", "editor", "admin"))
    assert set(writer) == WRITER_TOOLS
    assert set(editor) == EDITOR_TOOLS
    assert set(admin) == EDITOR_TOOLS | {"add_tag"}
    for tool in admin.values():
        assert tool.description, tool.name
        assert "\n" not in tool.description, tool.name
        assert tool.input_schema["type"] == "object", tool.name
        assert tool.output_schema is not None
        assert tool.output_schema["type"] == "object"
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint == (not TOOLS[tool.name].writes)
    assert admin["get_post"].annotations.read_only_hint is True
    assert admin["archive"].annotations.destructive_hint is True
    assert admin["edit_post"].annotations.idempotent_hint is True
    assert admin["create_draft"].annotations.idempotent_hint is False
    assert admin["archive"].input_schema["required"] == ["post_id", "confirm"]


def test_get_context_says_who_calls_with_which_tools_and_the_site_s_rules(site: McpSite) -> None:
    context = _content(site.call("writer", "get_context"))
    assert context["me"]["slug"] == "wren-writer"
    assert context["role"] == "writer"
    assert set(context["tools"]) == WRITER_TOOLS
    assert {"placeholder_text", "not_approved"} <= {gate["code"] for gate in context["gates"]}
    assert "operations" in {tag["slug"] for tag in context["tags"]}
    assert context["limits"]["max_request_bytes"] == 1024 * 1024
    assert context["site"]["public_url"] == "https://blog.example.test"


def test_a_draft_goes_through_gates_and_review_and_an_editor_publishes_it_verified(
    site: McpSite,
) -> None:
    async def write(client: Client) -> tuple[int, dict[str, Any]]:
        draft = _content(
            await client.call_tool(
                "create_draft",
                {"title": "Walked over MCP", "dek": "A walk.", "body": BODY_OF_WORDS,
                 "tags": ["agents"], "idempotency_key": str(uuid.uuid4())},
            )
        )  # fmt: skip
        gates = _content(await client.call_tool("check_gates", {"post_id": draft["id"]}))
        assert gates["blocking"] is False
        submitted = await client.call_tool(
            "submit_for_review", {"post_id": draft["id"], "revision": draft["revision"]}
        )
        return draft["id"], _content(submitted)

    post_id, submitted = site.run("writer", write)
    assert submitted["post"]["status"] == "in_review"
    assert "not_approved" in {result["code"] for result in submitted["gates"]}

    async def publish(client: Client) -> dict[str, Any]:
        approved = await client.call_tool("approve", {"post_id": post_id, "revision": 1})
        assert _content(approved)["revision"] == 1
        published = await client.call_tool(
            "publish", {"post_id": post_id, "revision": 1, "wait_seconds": 20}
        )
        assert not published.is_error, published.structured_content
        receipt = _content(published)["receipt"]
        again = await client.call_tool("get_receipt", {"receipt_id": receipt["id"]})
        assert _content(again)["state"] == receipt["state"]
        return receipt

    with verifying_worker(site.engine, site.url):
        receipt = site.run("editor", publish)
    assert receipt["state"] == "verified", receipt["checks"]
    assert all(check["ok"] for check in receipt["checks"])
    assert receipt["published_by"]["staff"] == "eli-editor"
    page = httpx.get(f"{site.url}/posts/walked-over-mcp/", timeout=30)
    assert page.status_code == 200
    assert "Walked over MCP" in page.text


BODY_OF_WORDS = " ".join(f"Sentence {n} of a body long enough for the gates." for n in range(10))


def test_the_audit_log_records_mcp_calls_with_their_source_and_token(site: McpSite) -> None:
    key = str(uuid.uuid4())
    draft = site.draft("Audited over MCP", idempotency_key=key)
    with reading(site.engine) as connection:
        entries = read_audit(connection, OPERATOR, target=f"post:{draft['id']}")
    assert [entry.action for entry in entries] == ["post.create"]
    entry = entries[0]
    assert entry.detail["source"] == "mcp"
    assert entry.staff_slug == "wren-writer"
    assert entry.token_id is not None
    assert entry.idempotency_key == key
    with reading(site.engine) as connection:
        revision = site_revision_source(connection, draft["id"])
    assert revision == "mcp"
    line = site.served.wait_for_record(message="tool call", tool="create_draft", refused=None)
    assert line["request_id"]


def site_revision_source(connection: Any, post_id: int) -> str:
    return str(post_revisions(connection, OPERATOR, post_id)[0].source)


def test_without_the_edge_secret_the_endpoint_is_the_public_404(site: McpSite) -> None:
    unknown = httpx.get(f"{site.url}/no-such-page/", timeout=30)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
    token = {"Authorization": f"Bearer {site.tokens['admin']}"}
    for headers in ({}, {EDGE_HEADER: "wrong-secret"}):
        answer = site.raw(body, **token, **headers)
        assert answer.status_code == 404
        assert answer.content == unknown.content
    with pytest.raises(Exception):  # noqa: B017, PT011 - the SDK's own error, whichever it is
        site.run("admin", _list_names, edge=None)


async def _list_names(client: Client) -> list[str]:
    return [tool.name for tool in (await client.list_tools()).tools]


def test_a_revoked_token_is_refused_as_the_api_refuses_it(site: McpSite) -> None:
    token = add_member(site.engine, "rita-revoked", Role.WRITER)
    site.tokens["revoked"] = token
    assert "create_draft" in site.run("revoked", _list_names)
    with writing(site.engine) as connection:
        record = auth.authenticate(connection, token).actor.token_id
        assert record is not None
        auth.revoke_token(connection, call_as(OPERATOR), record)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
    answer = site.raw(body, **{EDGE_HEADER: EDGE_SECRET, "Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthenticated"
    with pytest.raises(Exception):  # noqa: B017, PT011
        site.run("revoked", _list_names)


def test_a_stale_or_missing_revision_is_refused_naming_the_current_one(site: McpSite) -> None:
    draft = site.draft("Edited twice over MCP")
    first = site.call("writer", "edit_post", post_id=draft["id"], revision=1, dek="Newer.")
    assert _content(first)["revision"] == 2
    stale = site.call("writer", "edit_post", post_id=draft["id"], revision=1, dek="Older.")
    refused = _refused(stale, "stale_revision")
    assert refused["current_revision"] == 2
    assert refused["changed_fields"] == ["dek"]
    missing = site.call("writer", "edit_post", post_id=draft["id"], dek="No revision.")
    _refused(missing, "precondition_required")
    assert _content(site.call("writer", "get_post", post_id=draft["id"]))["dek"] == "Newer."


def test_the_same_idempotency_key_twice_makes_one_draft(site: McpSite) -> None:
    key = str(uuid.uuid4())

    async def twice(client: Client) -> tuple[Any, Any, Any]:
        arguments = {"title": "Only once over MCP", "body": "Words.", "idempotency_key": key}
        first = await client.call_tool("create_draft", arguments)
        second = await client.call_tool("create_draft", arguments)
        other = await client.call_tool("create_draft", {**arguments, "title": "Another"})
        return first, second, other

    first, second, other = site.run("writer", twice)
    assert _content(second) == _content(first)
    assert (second.meta or {}).get("masthead/replayed") is True
    assert "masthead/replayed" not in (first.meta or {})
    _refused(other, "idempotency_key_reused")
    listed = _content(site.call("writer", "list_posts", q="Only once over MCP"))
    assert [post["id"] for post in listed["items"]] == [_content(first)["id"]]


def test_a_writer_searches_their_own_posts_best_match_first_and_any_text_is_a_query(
    site: McpSite,
) -> None:
    word = f"zephyr{uuid.uuid4().hex[:8]}"
    in_body = site.draft("Found by its body", body=f"{BODY_OF_WORDS} The {word} turned up.")
    in_title = site.draft(f"The {word} in a title", body=BODY_OF_WORDS)
    theirs = site.draft("Another writer's", role="other_writer", body=f"Also {word} here.")

    async def search(client: Client) -> list[Any]:
        hostile = ['"unclosed NEAR(', f'{word} NEAR "" OR *', "q" * 10_000]
        queries = [word, *hostile, f"{word} zzznothing"]
        return [await client.call_tool("search_posts", {"query": q}) for q in queries]

    found, *hostile, none = site.run("writer", search)
    assert [post["id"] for post in _content(found)["items"]] == [in_title["id"], in_body["id"]]
    assert _content(found)["items"][1] == in_body
    assert _content(found)["next_cursor"] is None
    for result in hostile:
        assert not result.is_error, result.structured_content
        assert theirs["id"] not in {post["id"] for post in _content(result)["items"]}
    assert _content(none)["items"] == []
    first = _content(site.call("editor", "search_posts", query=word, limit=2))
    after = _content(site.call("editor", "search_posts", query=word, cursor=first["next_cursor"]))
    ranked = [post["id"] for post in first["items"] + after["items"]]
    assert ranked[0] == in_title["id"]
    assert sorted(ranked) == sorted([in_title["id"], in_body["id"], theirs["id"]])
    assert after["next_cursor"] is None


def test_a_writer_calling_publish_by_name_is_forbidden_and_nothing_changes(
    site: McpSite,
) -> None:
    draft = site.draft("Not the writer's to publish")
    refused = site.call("writer", "publish", post_id=draft["id"], revision=1, wait_seconds=0)
    _refused(refused, "forbidden")
    after = _content(site.call("writer", "get_post", post_id=draft["id"]))
    assert after["status"] == "draft"
    assert after["published_revision"] is None
    assert after["revision"] == 1
    tagged = site.call("writer", "add_tag", slug="writers-tag", name="Writer's tag")
    _refused(tagged, "forbidden")


def test_a_blocking_gate_refuses_the_publish_with_every_result(site: McpSite) -> None:
    draft = site.draft("Placeholder over MCP", body=f"{BODY_OF_WORDS} TODO finish this.")
    refused = site.call("editor", "publish", post_id=draft["id"], revision=1, wait_seconds=0)
    content = _refused(refused, "gates_failed")
    codes = {result["code"] for result in content["results"]}
    assert {"placeholder_text", "not_approved"} <= codes
    assert _content(site.call("editor", "get_post", post_id=draft["id"]))["status"] == "draft"


def test_unknown_posts_and_illegal_steps_answer_their_codes(site: McpSite) -> None:
    _refused(site.call("editor", "get_post", post_id=999_999), "not_found")
    _refused(site.call("writer", "get_receipt", receipt_id=1), "forbidden")
    draft = site.draft("Archived over MCP")
    archived = site.call("editor", "archive", post_id=draft["id"], revision=1, confirm=True)
    assert _content(archived)["post"]["status"] == "archived"
    again = site.call("editor", "unpublish", post_id=draft["id"], revision=1, wait_seconds=0)
    _refused(again, "invalid_transition")
    _refused(site.call("editor", "no_such_tool"), "not_found")


BAD_INPUTS: dict[str, dict[str, Any]] = {
    "get_context": {"extra": 1},
    "list_posts": {"limit": 0},
    "search_posts": {"query": ""},
    "get_post": {"post_id": "twelve"},
    "create_draft": {"body": "no title"},
    "edit_post": {"post_id": 1, "revision": 1, "tags": "not-a-list"},
    "check_gates": {},
    "submit_for_review": {"post_id": -1, "revision": 1},
    "preview": {},
    "list_revisions": {"post_id": 0},
    "restore_revision": {"post_id": 1, "revision": 1},
    "approve": {"post_id": 1, "revision": "one"},
    "publish": {"post_id": 1, "revision": 1, "wait_seconds": 600},
    "unpublish": {"post_id": 1, "revision": 1, "wait_seconds": -1},
    "schedule": {"post_id": 1, "revision": 1, "at": "tomorrow"},
    "unschedule": {"post_id": 1, "revision": 1, "idempotency_key": ""},
    "get_receipt": {"receipt_id": None},
    "list_tags": {"page": 2},
    "add_tag": {"slug": "no-name"},
    "list_staff": {"role": "writer"},
    "get_task": {},
    "archive": {"post_id": 1, "revision": 1, "confirm": False},
}


def test_every_tool_refuses_a_bad_input_with_a_clear_error(site: McpSite) -> None:
    assert set(BAD_INPUTS) == set(TOOLS)

    async def every(client: Client) -> dict[str, Any]:
        return {name: await client.call_tool(name, bad) for name, bad in BAD_INPUTS.items()}

    for name, result in site.run("admin", every).items():
        content = _refused(result, "validation_failed")
        assert content["errors"], name
        assert all(error["field"] and error["message"] for error in content["errors"]), name
        assert content["detail"].startswith("the arguments"), name


def test_a_request_over_the_size_limit_is_refused_before_it_is_read(site: McpSite) -> None:
    arguments = {"body": "x" * 1_100_000}
    call = {"name": "preview", "arguments": arguments}
    big = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call})
    headers = {EDGE_HEADER: EDGE_SECRET, "Authorization": f"Bearer {site.tokens['writer']}"}
    answer = site.raw(big, **headers)
    assert answer.status_code == 413
    assert answer.json()["code"] == "payload_too_large"


def test_a_client_of_the_2025_handshake_gets_the_same_tools_and_answers(site: McpSite) -> None:
    async def legacy(client: Client) -> tuple[str, set[str], dict[str, Any]]:
        names = {tool.name for tool in (await client.list_tools()).tools}
        stale = await client.call_tool("edit_post", {"post_id": 1, "revision": 999_999})
        return client.protocol_version, names, _content(stale)

    async def main() -> tuple[str, set[str], dict[str, Any]]:
        async with mcp_client(site.endpoint, site.tokens["editor"], mode="legacy") as client:
            return await legacy(client)

    version, names, stale = anyio.run(main)
    assert version.startswith("2025")
    assert names == EDITOR_TOOLS
    assert stale["code"] == "stale_revision"


def test_a_post_s_markdown_and_the_docs_are_resources(site: McpSite) -> None:
    draft = site.draft("Read as a resource", body="Plain *Markdown* here.")

    async def read(client: Client) -> tuple[set[str], str, str]:
        listed = {str(item.uri) for item in (await client.list_resources()).resources}
        post = await client.read_resource(f"masthead://posts/{draft['id']}.md")
        docs = await client.read_resource("masthead://docs/publishing.md")
        return listed, post.contents[0].text, docs.contents[0].text

    listed, post, docs = site.run("writer", read)
    assert {"masthead://gates", "masthead://docs/api.md", "masthead://docs/publishing.md"} <= listed
    assert post.startswith('---\ntitle: "Read as a resource"\n')
    assert post.endswith("Plain *Markdown* here.")
    assert docs.startswith("# ")

    async def someone_else_s(client: Client) -> None:
        await client.read_resource(f"masthead://posts/{draft['id']}.md")

    with pytest.raises(Exception):  # noqa: B017, PT011 - the SDK's error for a refused read
        site.run("other_writer", someone_else_s)


def test_the_rate_limit_is_the_api_s_own_per_token(
    database_factories: dict[str, DatabaseFactory],
) -> None:
    served = contextmanager(fresh_site)
    with served(
        database_factories["sqlite"], "empty", MASTHEAD_RATE_LIMIT_PER_MINUTE="3"
    ) as limited:
        headers = {EDGE_HEADER: EDGE_SECRET, "Authorization": f"Bearer {limited.tokens['writer']}"}
        for _ in range(3):
            assert httpx.get(f"{limited.url}/api/v1/me", headers=headers, timeout=30).is_success
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
        answer = limited.raw(body, **headers)
        assert answer.status_code == 429
        assert answer.json()["code"] == "rate_limited"
        assert int(answer.headers["retry-after"]) >= 1


def test_on_postgresql_a_keyed_draft_is_made_once_and_published_verified(
    database_factories: dict[str, DatabaseFactory],
) -> None:
    with contextmanager(fresh_site)(database_factories["postgres"]) as pg:
        key = str(uuid.uuid4())
        first = pg.draft("Once on PostgreSQL", idempotency_key=key)
        again = pg.draft("Once on PostgreSQL", idempotency_key=key)
        assert again["id"] == first["id"]
        with verifying_worker(pg.engine, pg.url):
            published = pg.call("admin", "publish", post_id=first["id"], revision=1)
        receipt = _content(published)["receipt"]
        assert receipt["state"] == "verified", receipt["checks"]


def test_every_other_tool_answers_what_its_output_schema_says(site: McpSite) -> None:
    """The SDK client checks each successful answer against the tool's output schema."""
    draft = site.draft("Every tool over MCP")
    post_id = draft["id"]

    async def every(client: Client) -> dict[str, dict[str, Any]]:
        async def ok(tool: str, **arguments: Any) -> dict[str, Any]:
            result = await client.call_tool(tool, arguments)
            assert not result.is_error, (tool, result.structured_content)
            return _content(result)

        answers = {
            "preview": await ok("preview", body="# Hi\n\nSome *words*."),
            "preview_post": await ok("preview", post_id=post_id),
            "edit": await ok("edit_post", post_id=post_id, revision=1, title="Renamed"),
            "revisions": await ok("list_revisions", post_id=post_id),
            "restore": await ok("restore_revision", post_id=post_id, number=1, revision=2),
            "tags": await ok("list_tags"),
            "staff": await ok("list_staff"),
            "tag": await ok("add_tag", slug=f"tag-{uuid.uuid4().hex[:8]}", name="A new tag"),
            "schedule": await ok(
                "schedule", post_id=post_id, revision=3, at="2099-01-01T09:00:00Z"
            ),
            "unschedule": await ok("unschedule", post_id=post_id, revision=3),
            "published": await ok("publish", post_id=post_id, revision=3, wait_seconds=0),
        }
        answers["unpublished"] = await ok("unpublish", post_id=post_id, revision=3, wait_seconds=0)
        answers["listed"] = await ok("list_posts", status="unpublished", limit=5)
        return answers

    answers = site.run("admin", every)
    assert answers["preview"]["html"].startswith("<h1")
    assert answers["preview_post"]["reading_time"] >= 1
    assert [item["number"] for item in answers["revisions"]["items"]] == [2, 1]
    assert answers["restore"]["title"] == "Every tool over MCP"
    assert answers["restore"]["revision"] == 3
    assert "operations" in {tag["slug"] for tag in answers["tags"]["items"]}
    assert "wren-writer" in {member["slug"] for member in answers["staff"]["items"]}
    assert answers["schedule"]["status"] == "scheduled"
    assert answers["unschedule"]["status"] == "draft"
    assert answers["published"]["receipt"]["state"] == "pending"
    assert answers["unpublished"]["post"]["status"] == "unpublished"
    assert post_id in {post["id"] for post in answers["listed"]["items"]}
    with reading(site.engine) as connection:
        queued = list_tasks(connection, OPERATOR, limit=1).items
    task = _content(site.call("editor", "get_task", task_id=queued[0].id))
    assert task["id"] == queued[0].id
    assert isinstance(task["runs"], list)


def test_rules_on_content_answer_the_api_s_codes(site: McpSite) -> None:
    unknown = site.call("writer", "create_draft", title="Unknown tag", tags=["no-such-tag"])
    refused = _refused(unknown, "invalid_input")
    assert refused["errors"] == [
        {"field": "tags", "message": "unknown slug 'no-such-tag'", "code": "unknown_slug"}
    ]
    first = site.draft("A slug to take")
    taken = site.call("writer", "create_draft", title="Another", slug=first["slug"])
    _refused(taken, "slug_taken")


def test_a_retry_while_the_first_call_runs_is_told_to_wait(site: McpSite) -> None:
    """The key is held by a call in flight (claimed, not done): a retry is refused."""
    key = str(uuid.uuid4())
    arguments = CreateDraftArgs(title="In flight", idempotency_key=key)
    with writing(site.engine) as connection:
        token_id = auth.authenticate(connection, site.tokens["writer"]).actor.token_id
        assert token_id is not None
        now = datetime.now(UTC)
        decision, _held = claim_key(
            connection,
            token_id,
            key,
            key_digest(TOOLS["create_draft"], arguments),
            now,
            lock_for=timedelta(seconds=60),
            keep_for=timedelta(hours=1),
        )
    assert decision is Decision.PROCEED
    retried = site.call("writer", "create_draft", title="In flight", idempotency_key=key)
    refused = _refused(retried, "idempotency_in_flight")
    assert refused["retry_after"] >= 1
    listed = _content(site.call("writer", "list_posts", q="In flight"))
    assert listed["items"] == []


def test_the_api_and_the_mcp_server_keep_keys_in_one_store(site: McpSite) -> None:
    """A key the API used is taken for the MCP server too: one ledger, per token."""
    key = str(uuid.uuid4())
    headers = {
        EDGE_HEADER: EDGE_SECRET,
        "Authorization": f"Bearer {site.tokens['writer']}",
        "Idempotency-Key": key,
    }
    created = httpx.post(
        f"{site.url}/api/v1/posts", json={"title": "Keyed on the API"}, headers=headers, timeout=30
    )
    assert created.status_code == 201, created.text
    again = site.call("writer", "create_draft", title="Keyed on the API", idempotency_key=key)
    _refused(again, "idempotency_key_reused")
