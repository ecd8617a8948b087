"""Security headers on every answer: public pages, 404s, API answers and problems alike."""

from __future__ import annotations

import httpx

from masthead.web.headers import SECURITY_HEADERS
from tests.api_support import ApiWorld


def _assert_secured(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)


def test_every_kind_of_answer_carries_the_security_headers(api: ApiWorld) -> None:
    with api.server.client() as public:
        page = public.get("/")
        etag = page.headers["etag"]
        answers = [
            page,
            public.get("/", headers={"If-None-Match": etag}),
            public.get("/no-such-page/"),
            public.get("/feed.xml"),
            public.get("/healthz"),
            public.get("/api/v1/me"),  # no edge secret: the public 404
        ]
    with api.client("admin") as admin:
        answers += [admin.get("/me"), admin.get("/posts/999999"), admin.post("/posts", json={})]
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200, 304, 404, 200, 200, 404, 200, 404, 422]
    for answer in answers:
        _assert_secured(answer)


def test_the_policy_keeps_the_site_script_free() -> None:
    policy = SECURITY_HEADERS["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'none'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'self'"
    assert SECURITY_HEADERS["X-Content-Type-Options"] == "nosniff"
