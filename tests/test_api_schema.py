"""schemathesis against the API's own OpenAPI document, over a real socket, on both databases.

The document is loaded with `schemathesis.openapi.from_url` from a live server; every request
carries the edge secret and an admin token. Every operation gets 25 schema-valid and 25
schema-violating examples, then a stateful run follows the links schemathesis infers between
operations (create a post, then read, edit and publish it, …).

Checks: no 5xx; responses (status, content type, headers, body) match the document. A change
to a post carries `If-Match` with the post's current ETag, read just before, so that edits and
lifecycle calls are exercised, not only refused with 428.

schemathesis's own pytest loader (`schemathesis.pytest.from_fixture`) is not used: in
schemathesis 4.32 it reads `Function._nodeid`, which pytest 9.2 no longer has. The examples are
driven with `operation.as_strategy()` and Hypothesis instead, which is the same generation.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Flaky, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.api_support import EDGE_HEADER, EDGE_SECRET, ApiWorld, api_world
from tests.databases import DatabaseFactory

EXAMPLES_PER_OPERATION = 25
STATEFUL_CALLS = 150
HTTP_METHODS = {"get", "put", "post", "patch", "delete"}
PROBLEM_JSON = "application/problem+json"
HYPOTHESIS = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}
Check = Callable[..., Any]


@dataclass
class Target:
    """The live API under test and what exists in it, to aim some examples at real things."""

    world: ApiWorld
    schema: OpenApiSchema
    post_ids: list[int] = field(default_factory=list)
    staff_slugs: list[str] = field(default_factory=list)
    tag_slugs: list[str] = field(default_factory=list)
    token_ids: list[int] = field(default_factory=list)
    admin_slug: str = ""
    admin_token_id: int = 0


def _load(world: ApiWorld) -> Target:
    headers = {EDGE_HEADER: EDGE_SECRET, "Authorization": f"Bearer {world.tokens['admin']}"}
    base = f"{world.server.url}/api/v1"
    config = schemathesis.Config.from_dict({"headers": headers, "base-url": base})
    schema = schemathesis.openapi.from_url(
        f"{base}/openapi.json", config=config, headers=headers, timeout=10
    )
    target = Target(world, schema)
    with world.client("admin") as admin:
        me = admin.get("/me").json()
        target.admin_slug, target.admin_token_id = me["slug"], me["token_id"]
        target.post_ids = [post["id"] for post in admin.get("/posts?limit=100").json()["items"]]
        target.staff_slugs = [
            member["slug"]
            for member in admin.get("/staff").json()["items"]
            if member["slug"] != target.admin_slug
        ]
        target.tag_slugs = [tag["slug"] for tag in admin.get("/tags").json()["items"]]
        target.token_ids = [
            token["id"]
            for token in admin.get("/tokens").json()["items"]
            if token["id"] != target.admin_token_id
        ]
    return target


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def target(
    request: pytest.FixtureRequest, database_factories: dict[str, DatabaseFactory]
) -> Iterator[Target]:
    """A live server over a fresh demo database of each kind, and its OpenAPI document."""
    factory = database_factories[request.param]
    url = factory.new("demo")
    for world in api_world(url):
        yield _load(world)
    factory.drop(url)


def _responses(raw: dict[str, Any], operation: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for status, response in operation.get("responses", {}).items():
        if "$ref" in response:
            response = raw["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
        yield status, response


def declares_problems(schema: OpenApiSchema) -> bool:
    """Does every operation document its 4xx answers as `application/problem+json`?"""
    raw = schema.raw_schema
    for item in raw["paths"].values():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            problems = [
                PROBLEM_JSON in (response.get("content") or {})
                for status, response in _responses(raw, operation)
                if status.startswith("4")
            ]
            if not problems or not all(problems):
                return False
    return True


def checks_for(schema: OpenApiSchema) -> list[Check]:
    """Every response: no server error, and status, headers, type and body as declared."""
    assert declares_problems(schema), "the document must declare its problem answers"
    return [
        not_a_server_error,
        response_headers_conformance,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]


def _aim(case: Any, target: Target, steer: bool) -> None:
    """Point some examples at things that exist, and none at the admin doing the testing.

    No worker runs here, so a publish's `?wait` would always wait its whole time: it is
    cut to a tenth of a second (the waiting itself is tested in test_publish_api.py)."""
    query = case.query or {}
    if isinstance(query.get("wait"), int | float) and query["wait"] > 0:
        query["wait"] = 0.1
    parameters = case.path_parameters
    if not parameters:
        return
    on_tags = case.path.startswith("/tags")
    known = {
        "post_id": (target.post_ids, None),
        "token_id": (target.token_ids, target.admin_token_id),
        "slug": (target.tag_slugs, None) if on_tags else (target.staff_slugs, target.admin_slug),
    }
    for name, (existing, protected) in known.items():
        value = parameters.get(name)
        if value is None or not existing:
            continue
        spread = zlib.crc32(repr(value).encode())
        if value == protected or (steer and spread % 2 == 0):
            parameters[name] = existing[spread % len(existing)]


def if_match(case: Any, target: Target) -> dict[str, str]:
    """A change to a post names the revision it is based on: read the post's ETag first."""
    post_id = (case.path_parameters or {}).get("post_id")
    if case.method.lower() == "get" or not isinstance(post_id, int) or post_id < 1:
        return {}
    if post_id >= 2**31:
        return {}
    with target.world.client("admin") as admin:
        found = admin.get(f"/posts/{post_id}")
    return {"If-Match": found.headers["etag"]} if found.status_code == 200 else {}


def _fuzz(target: Target, operation: Any, mode: GenerationMode, checks: list[Check]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES_PER_OPERATION, **HYPOTHESIS)
    def run(case: Any) -> None:
        _aim(case, target, steer=mode.is_positive)
        case.call_and_validate(headers=if_match(case, target), checks=checks, timeout=15)

    run()


def test_every_operation_answers_as_documented(target: Target) -> None:
    checks = checks_for(target.schema)
    failures: list[str] = []
    tried = 0
    for result in target.schema.get_all_operations():
        operation = result.ok()
        for mode in GenerationMode:
            try:
                _fuzz(target, operation, mode, checks)
                tried += 1
            except Unsatisfiable:
                # Nothing in this operation's inputs can be made invalid (no body, free-form
                # strings only): there are no schema-violating examples to send.
                assert mode.is_negative, operation.label
            except (Exception, FailureGroup) as error:  # report every operation, not the first
                failures.append(f"=== {mode.value} examples of {operation.label}\n{error}")
    assert tried >= 26
    assert not failures, "\n\n".join(failures)


def test_linked_calls_answer_as_documented(target: Target) -> None:
    """The stateful phase: chains of calls along the links schemathesis infers.

    A live server keeps its state from one scenario to the next, so Hypothesis may find that a
    scenario does not replay the same way and stop with `Flaky` (schemathesis's own runner
    treats that the same way). Failures are therefore collected as they happen, not raised,
    and the machine runs again until enough calls were made.
    """
    checks = checks_for(target.schema)
    failures: dict[tuple[str, str], str] = {}
    calls = 0
    base = target.schema.as_state_machine()

    class Machine(base):  # type: ignore[valid-type, misc]
        def before_call(self, case: Any) -> None:
            _aim(case, target, steer=False)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": if_match(case, target), "timeout": 15}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            nonlocal calls
            calls += 1
            try:
                case.validate_response(response, checks=checks, transport_kwargs=kwargs)
            except FailureGroup as group:
                for failure in group.exceptions:
                    failures.setdefault((case.operation.label, failure.title), str(group))

    assert target.schema.statistic.transitions.total >= 20
    for _attempt in range(10):
        with contextlib.suppress(Flaky):
            Machine.run(
                settings=settings(
                    max_examples=40,
                    stateful_step_count=8,
                    phases=[Phase.explicit, Phase.generate],
                    **HYPOTHESIS,
                )
            )
        if calls >= STATEFUL_CALLS:
            break
    report = [f"=== {label}: {title}\n{text}" for (label, title), text in failures.items()]
    assert not report, "\n\n".join(report)
    assert calls >= STATEFUL_CALLS


def test_the_document_declares_its_problem_responses(target: Target) -> None:
    assert declares_problems(target.schema)


def test_the_document_is_served_only_behind_the_edge(target: Target) -> None:
    with httpx.Client(base_url=target.world.server.url) as public:
        for path in ("/api/v1/openapi.json", "/openapi.json", "/docs", "/redoc"):
            assert public.get(path).status_code == 404, path
