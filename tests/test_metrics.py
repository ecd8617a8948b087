"""`/api/v1/metrics`: Prometheus text that its own parser reads, counters that move, and
the same guard as the rest of the API — against a live server on both databases."""

from __future__ import annotations

import json
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.api_support import ApiWorld, verifying_worker
from tests.cli_support import assert_no_traceback, masthead
from tests.test_publish_api import _draft, _post_to

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(api: ApiWorld) -> Samples:
    with api.client("admin") as admin:
        response = admin.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def _total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(
        value for (found, have), value in samples.items() if found == name and wanted <= have
    )


def test_request_counters_and_latency_move_by_route_pattern_and_status(api: ApiWorld) -> None:
    before = _scrape(api)
    with api.server.client() as public:
        for _ in range(3):
            assert public.get("/").status_code == 200
        assert public.get("/no-such-page/").status_code == 404
    with api.client("editor") as editor:
        assert editor.get("/posts/1").status_code == 200
    after = _scrape(api)
    home = {"route": "/", "status": "200", "method": "GET"}
    assert (
        _total(after, "masthead_http_requests_total", **home)
        - _total(before, "masthead_http_requests_total", **home)
        == 3
    )
    assert _total(after, "masthead_http_request_duration_seconds_count", **home) >= 3
    unmatched = {"route": "unmatched", "status": "404"}
    assert _total(after, "masthead_http_requests_total", **unmatched) >= 1
    one_post = {"route": "/api/v1/posts/{post_id}", "status": "200"}
    assert _total(after, "masthead_http_requests_total", **one_post) == 1
    assert not [key for key in after if ("route", "/no-such-page/") in key[1]]


def test_a_publish_its_verification_and_its_task_run_move_the_figures(api: ApiWorld) -> None:
    before = _scrape(api)
    queued = _draft(api, "Waits in the queue")
    with api.client("editor") as editor:
        answer = _post_to(editor, f"/posts/{queued['id']}/publish", queued["id"])
    assert answer.status_code == 202, answer.text
    pending = _scrape(api)
    assert _total(pending, "masthead_publishes_total", action="publish") == (
        _total(before, "masthead_publishes_total", action="publish") + 1
    )
    assert _total(pending, "masthead_queue_depth", state="queued") >= 1
    verified_before = _total(pending, "masthead_verifications_total", outcome="verified")
    runs_before = _total(pending, "masthead_task_runs_total", outcome="succeeded")
    draft = _draft(api, "Verified and counted")
    with verifying_worker(api.engine, api.server.url), api.client("editor") as editor:
        done = _post_to(editor, f"/posts/{draft['id']}/publish", draft["id"], params={"wait": 15})
        assert done.json()["receipt"]["state"] == "verified", done.text
    after = _scrape(api)
    assert _total(after, "masthead_publishes_total", action="publish") == (
        _total(before, "masthead_publishes_total", action="publish") + 2
    )
    assert _total(after, "masthead_verifications_total", outcome="verified") >= verified_before + 1
    assert _total(after, "masthead_task_runs_total", outcome="succeeded") >= runs_before + 1
    assert ("masthead_task_leases_expired", frozenset()) in after


def test_metrics_are_for_admins_only(api: ApiWorld) -> None:
    for role in ("editor", "writer"):
        with api.client(role) as client:
            response = client.get("/metrics")
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    with api.client(None) as anonymous:
        assert anonymous.get("/metrics").status_code == 401


def _issue_scrape_token(api: ApiWorld) -> dict[str, Any]:
    """An admin issues a metrics-only token for a writer (an agent that scrapes)."""
    body = {"staff": api.slugs["writer"], "name": "prometheus", "scope": "metrics"}
    with api.client("admin") as admin:
        response = admin.post("/tokens", json=body)
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    assert issued["scope"] == "metrics"
    return issued


def test_a_scrape_token_reads_the_metrics_and_nothing_else(api: ApiWorld) -> None:
    issued = _issue_scrape_token(api)
    api.tokens["scraper"] = issued["token"]
    with api.client("scraper") as scraper:
        figures = scraper.get("/metrics")
        refused = [scraper.get(path) for path in ("/me", "/posts", "/tags")]
        create = scraper.post("/posts", json={"title": "Sneaky", "body": "No.", "tags": []})
    assert figures.status_code == 200, figures.text
    assert "masthead_http_requests_total" in figures.text
    for response in [*refused, create]:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
        assert "scraping" in response.json()["detail"]
    with api.client("writer") as writer:
        assert writer.get("/posts").status_code == 200
        assert writer.get("/metrics").status_code == 403


def test_the_cli_issues_a_scrape_token_that_reads_metrics(api: ApiWorld) -> None:
    database_url = api.engine.url.render_as_string(hide_password=False)
    made = masthead(
        "token",
        "create",
        api.slugs["editor"],
        "--name",
        "scraper",
        "--scope",
        "metrics",
        database_url=database_url,
    )
    assert made.returncode == 0, made.stderr
    api.tokens["scraper"] = made.stdout.strip()
    listed = masthead("token", "list", "--json", database_url=database_url)
    scopes = {token["name"]: token["scope"] for token in json.loads(listed.stdout)}
    assert scopes["scraper"] == "metrics"
    with api.client("scraper") as scraper:
        assert scraper.get("/metrics").status_code == 200
        assert scraper.get("/me").status_code == 403
    wrong = masthead(
        "token", "create", api.slugs["editor"], "--scope", "everything", database_url=database_url
    )
    assert wrong.returncode == 2
    assert_no_traceback(wrong)


def test_without_the_edge_secret_metrics_is_the_public_404_byte_for_byte(api: ApiWorld) -> None:
    with api.server.client() as public:
        unknown = public.get("/no-such-page-at-all")
    for edge in (None, "a-wrong-secret"):
        with api.client("admin", edge=edge) as client:
            response = client.get("/metrics")
        assert response.status_code == 404
        assert response.content == unknown.content
        assert response.headers["content-type"] == unknown.headers["content-type"]


def test_a_scrape_of_a_served_site_parses_whole(api: ApiWorld) -> None:
    with api.client("admin") as admin:
        text = admin.get("/metrics").text
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {
        "masthead_http_requests",
        "masthead_http_request_duration_seconds",
        "masthead_publishes",
        "masthead_verifications",
        "masthead_task_runs",
        "masthead_queue_depth",
        "masthead_task_leases_expired",
    } <= names


def test_render_cache_hits_and_misses_are_counted(api: ApiWorld) -> None:
    before = _scrape(api)
    with api.server.client() as public:
        for _ in range(4):
            assert public.get("/author/marcus-bell/").status_code == 200
    after = _scrape(api)

    def moved(name: str) -> float:
        return _total(after, name) - _total(before, name)

    assert moved("masthead_render_cache_misses_total") == 1  # rendered once, then kept
    assert moved("masthead_render_cache_hits_total") == 3
    assert _total(after, "masthead_render_cache_entries") >= 1
    assert _total(after, "masthead_render_cache_bytes") > 0
