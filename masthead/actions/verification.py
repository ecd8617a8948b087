"""Verifying a publish on the live site: fetch its pages over HTTP, check each fact, and
record the attempt on the receipt until it is verified or its window runs out.

Each attempt is one run of a `publish.verify` task: it records its checks and, if one
failed and the window is still open, queues the next attempt. An unverified receipt is
never a failed task; only a crash errors a run, and the queue retries it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from selectolax.lexbor import LexborHTMLParser
from sqlalchemy import Connection

from masthead.actions.context import Call, record_audit
from masthead.actions.lifecycle import record_event
from masthead.actions.tasks import enqueue
from masthead.domain.events import EventType, NewEvent
from masthead.domain.receipts import (
    Attempt,
    Check,
    Receipt,
    ReceiptAction,
    ReceiptState,
    next_attempt,
)
from masthead.domain.retry import Backoff
from masthead.domain.tasks import NewTask
from masthead.settings import Settings
from masthead.site import urls
from masthead.store import receipts as receipt_store

__all__ = [
    "MAX_PAGE_BYTES",
    "USER_AGENT",
    "VERIFY",
    "Fetched",
    "Fetcher",
    "canonical_of",
    "http_fetcher",
    "live_checks",
    "queue_verification",
    "record_attempt",
    "run_checks",
    "verification_base",
]

VERIFY = "publish.verify"
USER_AGENT = "Masthead-Verifier/1 (+publish receipts)"
MAX_PAGE_BYTES = 5 * 1024 * 1024
RETRY_CAP_SECONDS = 60.0
FETCH_HEADERS = {"User-Agent": USER_AGENT, "Cache-Control": "no-cache"}
"""`no-cache`: a render cache (and a CDN) catches up with the publish before it answers."""


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int | None
    body: str
    duration_ms: float
    error: str = ""


Fetcher = Callable[[str], Fetched]


def http_fetcher(settings: Settings, client: httpx.Client) -> Fetcher:
    """GET a path of the site: redirects are not followed, sizes and times are bounded."""
    base = verification_base(settings)

    def fetch(path: str) -> Fetched:
        url = f"{base}{path}"
        began = time.perf_counter()
        try:
            with client.stream("GET", url, headers=FETCH_HEADERS) as response:
                body = _bounded(response)
                status: int | None = response.status_code
                error = ""
        except httpx.HTTPError as failure:
            status, body, error = None, "", f"{type(failure).__name__}: {failure}"
        return Fetched(url, status, body, (time.perf_counter() - began) * 1000, error)

    return fetch


def verification_base(settings: Settings) -> str:
    """Where verification fetches the site: the static server when static export is on
    (and its URL is set), else the verify URL, else the public URL."""
    if settings.static_dir and settings.static_url:
        return settings.static_url.rstrip("/")
    return (settings.verify_url or settings.public_url).rstrip("/")


def _bounded(response: httpx.Response) -> str:
    taken = bytearray()
    for chunk in response.iter_bytes():
        taken.extend(chunk)
        if len(taken) > MAX_PAGE_BYTES:
            raise httpx.ReadError(f"the page is larger than {MAX_PAGE_BYTES} bytes")
    return taken.decode("utf-8", "replace")


# --- what to check -----------------------------------------------------------------------


def run_checks(receipt: Receipt, fetch: Fetcher, public_url: str) -> tuple[Check, ...]:
    """Every check of the receipt's action, each page fetched once."""
    seen: dict[str, Fetched] = {}

    def page(path: str) -> Fetched:
        if path not in seen:
            seen[path] = fetch(path)
        return seen[path]

    expect = receipt.expect
    if receipt.action is ReceiptAction.PUBLISH:
        return _live_checks(expect, page, public_url)
    return _gone_checks(expect, page, public_url)


Page = Callable[[str], Fetched]


def live_checks(expect: Mapping[str, Any], fetch: Fetcher, public_url: str) -> tuple[Check, ...]:
    """The checks of a live post, with `fetch` as it is (a caller that checks many posts
    passes a fetcher that keeps its pages)."""
    return _live_checks(expect, fetch, public_url)


def _check(name: str, fetched: Fetched, ok: bool, detail: str) -> Check:
    if fetched.status is None:
        ok, detail = False, fetched.error or "no answer"
    return Check(name, ok, fetched.url, fetched.status, fetched.duration_ms, detail)


def _live_checks(expect: Mapping[str, Any], page: Page, public_url: str) -> tuple[Check, ...]:
    path = urls.post_url(expect["slug"])
    post = page(path)
    tree = LexborHTMLParser(post.body) if post.status == 200 else None
    checks = [
        _check("status", post, post.status == 200, f"answered {post.status}, want 200"),
        _title_check(post, tree, expect["title"]),
        _meta_check(
            "canonical",
            post,
            canonical_of(tree),
            f"{public_url}{path}",
        ),
        _meta_check(
            "revision",
            post,
            _attribute(tree, 'meta[name="masthead:revision"]', "content"),
            str(expect["revision"]),
        ),
    ]
    for listing in expect["listings"]:
        shown = page(listing["url"])
        found = _links_to(shown, path)
        detail = (
            f"a card on {listing['url']} links to {path}"
            if found
            else (f"no card on {listing['url']} links to {path}")
        )
        checks.append(_check(listing["name"], shown, shown.status == 200 and found, detail))
    checks += _in_feed_and_sitemap(expect, page, f"{public_url}{path}", present=True)
    return tuple(checks)


def _gone_checks(expect: Mapping[str, Any], page: Page, public_url: str) -> tuple[Check, ...]:
    path = urls.post_url(expect["slug"])
    post = page(path)
    checks = [_check("status", post, post.status == 404, f"answered {post.status}, want 404")]
    for listing in expect["listings"]:
        shown = page(listing["url"])
        gone = shown.status in {200, 404} and not _links_to(shown, path)
        detail = (
            f"{listing['url']} no longer links to {path}"
            if gone
            else (f"{listing['url']} still links to {path}")
        )
        checks.append(_check(listing["name"], shown, gone, detail))
    checks += _in_feed_and_sitemap(expect, page, f"{public_url}{path}", present=False)
    return tuple(checks)


def _in_feed_and_sitemap(
    expect: Mapping[str, Any], page: Page, address: str, *, present: bool
) -> list[Check]:
    wanted = [("sitemap", urls.SITEMAP, f"<loc>{address}</loc>")]
    if expect.get("feed"):
        wanted.insert(0, ("feed", urls.FEED, f'href="{address}"'))
    checks = []
    for name, path, needle in wanted:
        fetched = page(path)
        there = needle in fetched.body
        ok = fetched.status == 200 and there is present
        detail = f"{path} {'lists' if there else 'does not list'} {address}"
        checks.append(_check(name, fetched, ok, detail))
    return checks


def _title_check(fetched: Fetched, tree: LexborHTMLParser | None, title: str) -> Check:
    heading = _text(tree, "h1")
    head = _text(tree, "title")
    ok = heading == title and head.startswith(title)
    detail = f"<h1> is {heading!r} and <title> is {head!r}, want {title!r}"
    return _check("title", fetched, ok, detail)


def _meta_check(name: str, fetched: Fetched, found: str, wanted: str) -> Check:
    return _check(name, fetched, found == wanted, f"found {found!r}, want {wanted!r}")


def _text(tree: LexborHTMLParser | None, selector: str) -> str:
    node = tree.css_first(selector) if tree is not None else None
    return node.text(strip=True) if node is not None else ""


def canonical_of(tree: LexborHTMLParser | None) -> str:
    """A page's canonical URL ("" when it has none, or no page was read)."""
    return _attribute(tree, 'link[rel="canonical"]', "href")


def _attribute(tree: LexborHTMLParser | None, selector: str, name: str) -> str:
    node = tree.css_first(selector) if tree is not None else None
    return (node.attributes.get(name) or "") if node is not None else ""


def _links_to(fetched: Fetched, path: str) -> bool:
    if fetched.status != 200:
        return False
    tree = LexborHTMLParser(fetched.body)
    return tree.css_first(f'.card-title a[href="{path}"]') is not None


# --- recording attempts ------------------------------------------------------------------


def queue_verification(
    connection: Connection, receipt_id: int, attempt: int, *, at: datetime, not_before: datetime
) -> None:
    enqueue(
        connection,
        NewTask(
            VERIFY,
            {"receipt_id": receipt_id, "attempt": attempt},
            priority=10,
            not_before=not_before,
            unique_key=f"verify:{receipt_id}:{attempt}",
        ),
        at=at,
    )


def record_attempt(
    connection: Connection, call: Call, receipt_id: int, checks: tuple[Check, ...]
) -> Receipt | None:
    """Add the attempt to the receipt; end it verified or unverified, or queue the next
    attempt. Idempotent: a receipt that has ended already is left alone (None)."""
    receipt = receipt_store.get_receipt(connection, receipt_id, lock=True)
    if receipt is None or receipt.state is not ReceiptState.PENDING:
        return None
    attempt = Attempt(len(receipt.attempts) + 1, call.at, checks)
    state, again = _after(receipt, attempt, call)
    receipt_store.add_attempt(connection, receipt, attempt, state=state, at=call.at)
    if again is not None:
        queue_verification(connection, receipt.id, attempt.number + 1, at=call.at, not_before=again)
    else:
        _record_end(connection, call, receipt, state, attempt)
    return receipt_store.get_receipt(connection, receipt_id)


def _after(receipt: Receipt, attempt: Attempt, call: Call) -> tuple[ReceiptState, datetime | None]:
    if attempt.ok:
        return ReceiptState.VERIFIED, None
    settings = call.settings
    backoff = Backoff(settings.verify_retry_seconds, RETRY_CAP_SECONDS)
    again = next_attempt(
        receipt.flipped_at,
        attempt.number,
        call.at,
        window=timedelta(seconds=settings.verify_window_seconds),
        backoff=backoff,
    )
    return (ReceiptState.PENDING, again) if again else (ReceiptState.UNVERIFIED, None)


def _record_end(
    connection: Connection, call: Call, receipt: Receipt, state: ReceiptState, attempt: Attempt
) -> None:
    verified = state is ReceiptState.VERIFIED
    failing = [check.name for check in attempt.checks if not check.ok]
    facts = {
        "receipt": receipt.id,
        "action": receipt.action.value,
        "attempts": attempt.number,
        "seconds": round((call.at - receipt.flipped_at).total_seconds(), 3),
        "failing": failing,
    }
    entry = "receipt.verified" if verified else "receipt.unverified"
    audited = {name: value for name, value in facts.items() if name != "action"}
    record_audit(connection, call, entry, "receipt", receipt.id, post=receipt.post_id, **audited)
    kind = EventType.PUBLISH_VERIFIED if verified else EventType.PUBLISH_UNVERIFIED
    new = NewEvent(kind, "post", str(receipt.post_id), receipt.revision, facts)
    record_event(connection, call, new)
