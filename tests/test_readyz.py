"""`/readyz`: the database answers and is migrated to head; `/healthz` stays as it was."""

from __future__ import annotations

import pytest

from masthead.store.engine import open_engine
from masthead.store.migrations import downgrade
from tests.conftest import LiveServer, settings_for


def _answers(database_url: str) -> dict[str, tuple[int, str]]:
    with LiveServer(settings_for(database_url)) as server, server.client() as client:
        found = {path: client.get(path) for path in ("/readyz", "/healthz")}
    for response in found.values():
        assert response.headers["cache-control"] == "no-store"
    return {path: (response.status_code, response.text) for path, response in found.items()}


def test_a_migrated_database_is_ready(database_url: str) -> None:
    answers = _answers(database_url)
    assert answers["/readyz"] == (200, "ready\n")
    assert answers["/healthz"] == (200, "ok\n")


@pytest.mark.parametrize("target", ["base", "-1"], ids=["never-migrated", "one-behind"])
def test_a_database_not_at_head_is_not_ready(database_url: str, target: str) -> None:
    engine = open_engine(database_url)
    downgrade(engine, target)
    engine.dispose()
    answers = _answers(database_url)
    assert answers["/readyz"] == (503, "not ready\n")
    if target == "-1":  # the tables the pages read are still there
        assert answers["/healthz"] == (200, "ok\n")
    else:
        assert answers["/healthz"][0] == 503


def test_an_unreachable_database_is_not_ready() -> None:
    answers = _answers("postgresql://postgres@127.0.0.1:1/nowhere")
    assert answers["/readyz"] == (503, "not ready\n")
