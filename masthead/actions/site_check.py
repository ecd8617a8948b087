"""`masthead ops verify-site`: the reconciler. What the database says is published, against
what readers get: every live post with the checks of publish verification, and every
other page of the site answering `200`.

Two steps, so that no transaction stays open while pages are fetched: `plan_site_check`
reads what to expect in the caller's read transaction; `check_site` fetches and checks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from masthead.actions.public_site import PublicSite
from masthead.actions.publishing import expect_live
from masthead.actions.site_info import current_site
from masthead.actions.verification import Fetched, Fetcher, live_checks
from masthead.domain.receipts import Check
from masthead.settings import Settings
from masthead.site.changes import Scope, public_state
from masthead.site.urls import post_url

__all__ = ["PostProblem", "SiteCheck", "SitePlan", "check_site", "plan_site_check"]

Progress = Callable[[int, int], None] | None


@dataclass(frozen=True)
class SitePlan:
    public_url: str
    posts: Mapping[int, Mapping[str, Any]]  # post id → what its checks expect
    pages: list[str]  # every other URL of the site


@dataclass(frozen=True)
class PostProblem:
    post_id: int | None  # None: a page that is not a post's
    path: str
    failed: tuple[Check, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": "post_mismatch" if self.post_id is not None else "page_broken",
            "severity": "error",
            "post_id": self.post_id,
            "path": self.path,
            "message": "; ".join(f"{check.name}: {check.detail}" for check in self.failed),
            "checks": [check.as_dict() for check in self.failed],
        }


@dataclass(frozen=True)
class SiteCheck:
    posts: int
    pages: int
    fetched: int
    problems: list[PostProblem]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": not self.problems,
            "findings": [problem.as_dict() for problem in self.problems],
            "counts": {
                "posts": self.posts,
                "pages": self.pages,
                "fetched": self.fetched,
                "problems": len(self.problems),
            },
        }


def plan_site_check(connection: Connection, settings: Settings) -> SitePlan:
    state = public_state(connection, current_site(connection, settings), Scope.everything())
    posts = {post_id: expect_live(state, post_id) for post_id in sorted(state.posts)}
    post_paths = {post_url(expect["slug"]) for expect in posts.values()}
    every = PublicSite(settings).every_url(connection)
    return SitePlan(settings.public_url, posts, [url for url in every if url not in post_paths])


class _Pages:
    """Each page fetched once, by whichever check asks first."""

    def __init__(self, fetch: Fetcher) -> None:
        self._fetch = fetch
        self._seen: dict[str, Fetched] = {}
        self._lock = threading.Lock()

    def __call__(self, path: str) -> Fetched:
        with self._lock:
            if path in self._seen:
                return self._seen[path]
        fetched = self._fetch(path)
        with self._lock:
            return self._seen.setdefault(path, fetched)

    def __len__(self) -> int:
        return len(self._seen)


def check_site(
    plan: SitePlan, fetch: Fetcher, *, concurrency: int, progress: Progress = None
) -> SiteCheck:
    """Fetch every page (at most `concurrency` at once), then check every post on them."""
    pages = _Pages(fetch)
    paths = [post_url(expect["slug"]) for expect in plan.posts.values()] + plan.pages
    done = 0
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in pool.map(pages, paths):
            done += 1
            if progress is not None:
                progress(done, len(paths))
    problems = [
        PostProblem(post_id, post_url(expect["slug"]), failed)
        for post_id, expect in plan.posts.items()
        if (failed := _failed(live_checks(expect, pages, plan.public_url)))
    ]
    problems += [
        PostProblem(None, path, (_status_check(pages(path)),))
        for path in plan.pages
        if pages(path).status != 200
    ]
    return SiteCheck(len(plan.posts), len(plan.pages), len(pages), problems)


def _failed(checks: tuple[Check, ...]) -> tuple[Check, ...]:
    return tuple(check for check in checks if not check.ok)


def _status_check(fetched: Fetched) -> Check:
    detail = fetched.error or f"answered {fetched.status}, want 200"
    return Check("status", False, fetched.url, fetched.status, fetched.duration_ms, detail)
