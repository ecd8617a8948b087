"""`/api/v1/webhooks` and `masthead webhooks …`: admins only, the secret answered once,
the delivery log, redelivery, pausing, rotating and removing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from masthead.actions.tags import add_tag
from masthead.domain.staff import Tag
from masthead.store.engine import writing
from tests.api_support import ApiWorld, api_world
from tests.cli_support import masthead
from tests.operators import call_as
from tests.queue_support import PATIENCE, wait_until
from tests.webhook_support import Receiver, delivering_worker, serving, webhook_settings


@pytest.fixture
def world(database_url: str) -> Iterator[ApiWorld]:
    yield from api_world(database_url, webhooks_allow_private=True)


def _tag(world: ApiWorld, slug: str) -> None:
    with writing(world.engine) as connection:
        add_tag(connection, call_as(), Tag(slug, slug.title()))


def test_only_admins_manage_webhooks(world: ApiWorld) -> None:
    body = {"url": "http://127.0.0.1:9/hook", "events": ["post.published"]}
    for role in ("editor", "writer"):
        with world.client(role) as client:
            assert client.post("/webhooks", json=body).status_code == 403
            assert client.get("/webhooks").status_code == 403


def test_unknown_events_and_fields_are_refused(world: ApiWorld) -> None:
    with world.client("admin") as client:
        unknown = client.post("/webhooks", json={"url": "http://127.0.0.1:9/", "events": ["nope"]})
        assert unknown.status_code == 422
        assert unknown.json()["code"] == "invalid_input"
        extra = {"url": "http://127.0.0.1:9/", "events": ["post.published"], "secret": "mine"}
        assert client.post("/webhooks", json=extra).status_code == 422


def test_a_webhook_is_created_with_its_secret_once_then_delivers_and_redelivers(
    world: ApiWorld,
) -> None:
    receiver = Receiver()
    with serving(receiver) as url:
        with world.client("admin") as client:
            created = client.post(
                "/webhooks",
                json={"url": url, "events": ["tag.changed"]},
                headers={"Idempotency-Key": "make-hook"},
            )
            assert created.status_code == 201, created.text
            assert created.headers["cache-control"] == "no-store"
            hook = created.json()
            assert hook["secret"].startswith("whsec_")
            receiver.secret = hook["secret"]
            replay = client.post(
                "/webhooks",
                json={"url": url, "events": ["tag.changed"]},
                headers={"Idempotency-Key": "make-hook"},
            )
            assert replay.json()["secret"] is None
            shown = client.get(f"/webhooks/{hook['id']}").json()
            assert "secret" not in shown
            assert shown["events"] == ["tag.changed"]
        with delivering_worker(world.engine, webhook_settings(world.engine)):
            _tag(world, "heard")
            wait_until(lambda: len(receiver.received) == 1, PATIENCE, "the delivery")
            with world.client("admin") as client:
                page = client.get(f"/webhooks/{hook['id']}/deliveries").json()
                (delivery,) = page["items"]
                assert delivery["state"] in ("pending", "delivered")
                wait_until(lambda: _state(client, hook["id"]) == "delivered", PATIENCE, "delivered")
                again = client.post(f"/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver")
                assert again.status_code == 202, again.text
                wait_until(lambda: len(receiver.received) == 2, PATIENCE, "the redelivery")
                (delivery,) = client.get(f"/webhooks/{hook['id']}/deliveries").json()["items"]
                wait_until(lambda: _state(client, hook["id"]) == "delivered", PATIENCE, "delivered")
                (delivery,) = client.get(f"/webhooks/{hook['id']}/deliveries").json()["items"]
    assert receiver.bad_signatures == 0
    assert len(set(receiver.event_ids())) == 1
    assert [attempt["status"] for attempt in delivery["log"]] == [200, 200]
    assert delivery["log"][0]["answer"] == "ok"
    with world.client("admin") as client:
        scraped = client.get("/metrics").text
    families = {family.name: family for family in text_string_to_metric_families(scraped)}
    samples = {s.labels["state"]: s.value for s in families["masthead_webhook_deliveries"].samples}
    assert samples == {"delivered": 1}


def test_a_webhook_is_paused_rotated_and_removed(world: ApiWorld) -> None:
    with world.client("admin") as client:
        hook = client.post(
            "/webhooks", json={"url": "http://127.0.0.1:9/", "events": ["post.published"]}
        ).json()
        paused = client.patch(f"/webhooks/{hook['id']}", json={"active": False})
        assert paused.json()["active"] is False
        assert paused.json()["secret"] is None
        rotated = client.patch(f"/webhooks/{hook['id']}", json={"rotate_secret": True})
        assert rotated.headers["cache-control"] == "no-store"
        assert rotated.json()["secret"] not in (None, hook["secret"])
        assert rotated.json()["previous_secret_until"] is not None
        refused = client.patch(f"/webhooks/{hook['id']}", json={"url": "file:///etc/passwd"})
        assert refused.status_code == 422
        assert refused.json()["code"] == "webhook_target_refused"
        assert client.delete(f"/webhooks/{hook['id']}").status_code == 200
        assert client.get(f"/webhooks/{hook['id']}").status_code == 404
        assert client.get(f"/webhooks/{hook['id']}/deliveries").status_code == 404


def test_the_command_line_adds_lists_tests_and_removes_a_webhook(sqlite_url: str) -> None:
    """On SQLite only: the commands call the same actions the API tests run on both."""
    database_url = sqlite_url
    receiver = Receiver()
    env = {"MASTHEAD_WEBHOOKS_ALLOW_PRIVATE": "1"}
    with serving(receiver) as url:
        added = masthead("webhooks", "add", url, "--event", "post.published", "--json",
                         database_url=database_url, **env)  # fmt: skip
        assert added.returncode == 0, added.stderr
        hook = json.loads(added.stdout)
        receiver.secret = hook["secret"]
        listed = masthead("webhooks", "list", database_url=database_url, **env)
        assert f"{hook['id']}\tactive\tpost.published\t{url}" in listed.stdout
        tested = masthead("webhooks", "test", str(hook["id"]), "--json",
                          database_url=database_url, **env)  # fmt: skip
        assert tested.returncode == 0, tested.stderr
        assert json.loads(tested.stdout)["status"] == 200
        shown = masthead("webhooks", "show", str(hook["id"]), database_url=database_url)
        assert "url: " + url in shown.stdout
        refused = masthead("webhooks", "add", "https://127.0.0.1/", "--event", "post.published",
                           database_url=database_url)  # fmt: skip
        assert refused.returncode == 1
        assert "127.0.0.1 is loopback" in refused.stderr
        removed = masthead("webhooks", "remove", str(hook["id"]), database_url=database_url)
        assert removed.returncode == 0
        gone = masthead("webhooks", "show", str(hook["id"]), database_url=database_url)
        assert gone.returncode == 3
    assert receiver.bad_signatures == 0
    assert receiver.received[0].document["type"] == "webhook.test"


def _state(client: httpx.Client, webhook_id: int) -> str:
    items = client.get(f"/webhooks/{webhook_id}/deliveries").json()["items"]
    return str(items[0]["state"])
