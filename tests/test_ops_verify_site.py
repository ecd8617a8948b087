"""`masthead ops verify-site`, run as an operator runs it, against a live site behind an
edge: every published post checked as publish verification checks it, every other page
fetched, and exactly what is wrong reported."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from masthead.store.engine import open_engine, reading
from masthead.store.schema import published_posts
from tests.cli_support import assert_no_traceback, masthead
from tests.conftest import LiveServer
from tests.edge_proxy import EdgeProxy

PUBLIC_URL = "https://blog.example.test"
POST = "/posts/rotating-the-edge-secret/"


@pytest.fixture
def edge(demo_server: LiveServer) -> Iterator[EdgeProxy]:
    with EdgeProxy(demo_server.url).running() as proxy:
        yield proxy


def _verify_site(url: str, edge: EdgeProxy) -> tuple[int, dict[str, Any]]:
    result = masthead(
        "ops", "verify-site", "--concurrency", "4", "--json",
        database_url=url, MASTHEAD_PUBLIC_URL=PUBLIC_URL, MASTHEAD_VERIFY_URL=edge.url,
    )  # fmt: skip
    assert_no_traceback(result)
    return result.returncode, json.loads(result.stdout)


def test_a_site_that_serves_what_the_database_says_passes(
    demo_database_url: str, edge: EdgeProxy
) -> None:
    code, report = _verify_site(demo_database_url, edge)
    assert code == 0, report["findings"]
    assert report["ok"] is True
    with reading(engine := open_engine(demo_database_url)) as connection:
        live = connection.execute(select(func.count()).select_from(published_posts)).scalar_one()
    engine.dispose()
    assert report["counts"]["posts"] == live > 10
    assert report["counts"]["pages"] > 16  # listings, feeds, sitemap …
    assert report["counts"]["problems"] == 0


def test_a_tampered_post_is_the_one_reported(demo_database_url: str, edge: EdgeProxy) -> None:
    def older_revision(body: bytes) -> bytes:
        return re.sub(rb'(name="masthead:revision" content=")\d+', rb"\g<1>0", body)

    edge.tamper[POST] = older_revision
    code, report = _verify_site(demo_database_url, edge)
    assert code == 1
    assert report["ok"] is False
    assert [finding["path"] for finding in report["findings"]] == [POST]
    (finding,) = report["findings"]
    assert finding["code"] == "post_mismatch"
    assert [check["name"] for check in finding["checks"]] == ["revision"]


@pytest.mark.parametrize("database_kind", ["sqlite"])  # the edge's fault: one database is enough
def test_a_listing_page_that_is_gone_is_reported(
    demo_database_url: str, demo_server: LiveServer
) -> None:
    with EdgeProxy(demo_server.url).running() as proxy:
        proxy.tamper["/tag/operations/"] = lambda _body: b"<html>an error page</html>"
        code, report = _verify_site(demo_database_url, proxy)
    assert code == 1
    paths = {finding["path"] for finding in report["findings"]}
    assert paths  # every post on that page names it as missing
    assert all(finding["code"] == "post_mismatch" for finding in report["findings"])
    assert all(
        any(check["url"].endswith("/tag/operations/") for check in finding["checks"])
        for finding in report["findings"]
    )
