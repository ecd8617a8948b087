"""Rate limits past the edge: per token, and failed authentications per address."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from masthead.actions import rate_limits
from masthead.domain.rate_limits import Bucket, Rate, take
from tests.api_support import EDGE_HEADER, ApiWorld, api_world
from tests.conftest import settings_for

PER_TOKEN = 4  # one more every 15 s: far more than a handful of local calls take
PER_ADDRESS = 3


@pytest.fixture
def world(database_url: str) -> Iterator[ApiWorld]:
    yield from api_world(
        database_url,
        rate_limit_per_minute=PER_TOKEN,
        rate_limit_address_per_minute=PER_ADDRESS,
    )


def test_a_token_past_its_limit_gets_429_with_the_headers(world: ApiWorld) -> None:
    with world.client("writer") as writer, world.client("editor") as editor:
        answers = [writer.get("/me") for _ in range(PER_TOKEN + 1)]
        other = editor.get("/me")
    assert [answer.status_code for answer in answers] == [200] * PER_TOKEN + [429]
    remaining = [int(answer.headers["ratelimit-remaining"]) for answer in answers]
    assert remaining == [*range(PER_TOKEN - 1, -1, -1), 0]
    assert {answer.headers["ratelimit-limit"] for answer in answers} == {str(PER_TOKEN)}
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60 // PER_TOKEN
    assert 1 <= int(refused.headers["ratelimit-reset"]) <= 60
    assert other.status_code == 200  # each token has its own allowance


def test_wrong_tokens_from_one_address_get_429(world: ApiWorld) -> None:
    with world.client(role=None) as anonymous, world.client("admin") as admin:
        wrong = {"Authorization": "Bearer mh_guessed"}
        answers = [anonymous.get("/me", headers=wrong) for _ in range(PER_ADDRESS + 1)]
        valid_meanwhile = admin.get("/me")
    assert [answer.status_code for answer in answers] == [401] * PER_ADDRESS + [429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert valid_meanwhile.status_code == 429  # the address is refused, whatever it sends


def test_without_the_edge_secret_the_answer_is_the_same_404_limited_or_not(
    world: ApiWorld,
) -> None:
    with httpx.Client(base_url=world.server.url, timeout=15) as raw:
        reference = raw.get("/no-such-page/")
        token = {"Authorization": f"Bearer {world.tokens['writer']}"}
        wrong_edge = {EDGE_HEADER: "not-the-secret-at-all-0123456789abcdef"}
        before = [raw.get("/api/v1/me", headers={**token, **wrong_edge}) for _ in range(10)]
        with world.client("writer") as writer:
            while writer.get("/me").status_code != 429:
                pass
        with world.client(role=None) as anonymous:
            for _ in range(PER_ADDRESS + 1):
                anonymous.get("/me", headers={"Authorization": "Bearer mh_guessed"})
        after = [raw.get("/api/v1/me", headers={**token, **wrong_edge}) for _ in range(10)]
        missing = [raw.post("/api/v1/posts", headers=token, json={}) for _ in range(5)]
    for answer in [*before, *after, *missing]:
        assert answer.status_code == 404
        assert answer.content == reference.content
        assert not [name for name in answer.headers if name.startswith("ratelimit")]
        assert "retry-after" not in answer.headers


def test_a_bucket_refills_at_its_rate_up_to_its_size() -> None:
    rate = Rate(per_minute=60)
    bucket: Bucket | None = None
    for _ in range(60):
        bucket, allowance = take(bucket, rate, now=100.0)
        assert allowance.allowed
    bucket, refused = take(bucket, rate, now=100.0)
    assert (refused.allowed, refused.remaining, refused.retry_after) == (False, 0, 1)
    assert refused.reset == 60
    bucket, later = take(bucket, rate, now=102.5)
    assert (later.allowed, later.remaining) == (True, 1)
    _, full = take(bucket, rate, now=10_000.0)
    assert (full.remaining, full.limit) == (59, 60)


def test_the_limiter_forgets_buckets_before_it_grows_past_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rate_limits, "MAX_BUCKETS", 100)
    limiter = rate_limits.RateLimiter(
        settings_for("sqlite://", rate_limit_per_minute=10, rate_limit_address_per_minute=10)
    )
    for number in range(1000):
        limiter.admit(token=f"mh_guess_{number}", address="10.0.0.1", now=float(number) / 1000)
        assert len(limiter) <= 101
    latest = limiter.admit(token="mh_guess_999", address="10.0.0.1", now=1.0)
    assert latest is not None
    assert latest.remaining == 8  # the newest bucket was kept
