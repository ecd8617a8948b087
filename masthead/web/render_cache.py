"""The render cache: each public page rendered once and kept, until a change makes it stale.

An entry is a page's answer as it goes on the wire: its bytes, its headers (security
headers included) and its content-hash `ETag`, keyed by URL path and variant (`html`,
or `markdown` when the request's `Accept` asks for `text/markdown`). The cache is
bounded by bytes (`MASTHEAD_RENDER_CACHE_BYTES`; 0 turns it off) and lets the least
recently used entries go first. Only pages are kept: never a redirect, a 404, an answer
to a URL with a query string, nor a kind of page the page table marks `dynamic`.

Invalidation is exact: an event names the pages its change affected, and exactly those
entries go.

* A change made in this process is announced when its transaction commits
  (`actions.invalidation`), before anything else can read the cache, so the very next
  request renders the new page.
* Changes made elsewhere (other server processes, a separate worker, the CLI) are read
  from the events table: every `CATCH_UP_SECONDS` at most, the cache asks for the
  newest event id (one cheap query for the whole process, never one per request) and, if
  it moved, drops the pages the new events name. Hits go on meanwhile; only a request
  that finds the last look older than `STALE_SECONDS` waits for the new one, so no page
  is ever answered more than a second behind the events table. A request that says
  `Cache-Control: no-cache` (publish verification does) makes the cache catch up first.

A page rendered from a snapshot older than an invalidation must not be stored after it:
the renderer takes the cache's `epoch` before its read transaction begins, and `put`
refuses the entry if any invalidation happened since.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from anyio.to_thread import run_sync
from sqlalchemy import Engine

from masthead.actions.invalidation import affected_since, latest_event_id
from masthead.domain.pages import Page
from masthead.store.engine import reading
from masthead.web.conditional import page_headers
from masthead.web.headers import SECURITY_HEADERS
from masthead.web.negotiation import HTML_VARIANT, MARKDOWN_VARIANT, wants_markdown

__all__ = [
    "CATCH_UP_SECONDS",
    "STALE_SECONDS",
    "VARIANTS",
    "Entry",
    "EventFollower",
    "RenderCache",
    "page_entry",
    "variant_of",
]

CATCH_UP_SECONDS = 0.2
"""How old the cache's last look at the events table may be before a request looks again."""
STALE_SECONDS = 0.8
"""Older than this, a request waits for the look before it is answered from the cache."""
VARIANTS = (HTML_VARIANT, MARKDOWN_VARIANT)
ENTRY_OVERHEAD = 400  # bytes an entry costs besides its body and headers (key, objects)
Key = tuple[str, str]
RawHeaders = list[tuple[bytes, bytes]]

_log = logging.getLogger("masthead.cache")


def variant_of(accept: str) -> str:
    """Which variant of a page a request's `Accept` header asks for (the negotiation's rule)."""
    return MARKDOWN_VARIANT if wants_markdown(accept) else HTML_VARIANT


@dataclass(frozen=True)
class Entry:
    """One page's answer, ready to send: a 200's headers and body, and its 304's headers."""

    body: bytes
    headers: RawHeaders
    not_modified_headers: RawHeaders
    etag: str
    last_modified: datetime | None
    route: str
    head: bytes = field(init=False)
    """The 200's header lines as they go on the wire (for the server's own answer)."""
    not_modified_head: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "head", _lines(self.headers))
        object.__setattr__(self, "not_modified_head", _lines(self.not_modified_headers))

    @property
    def size(self) -> int:
        return len(self.body) + 2 * len(self.head) + ENTRY_OVERHEAD


def _lines(headers: RawHeaders) -> bytes:
    return b"".join(name + b": " + value + b"\r\n" for name, value in headers)


def _raw(headers: Mapping[str, str]) -> RawHeaders:
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]


def page_entry(page: Page, route: str, extra_headers: Mapping[str, str] | None = None) -> Entry:
    """A page as the cache keeps it (and as a miss answers it, byte for byte)."""
    body = page.body.encode()
    validators = {**page_headers(page, body), **(extra_headers or {})}
    full = {
        "Content-Type": page.media_type,
        "Content-Length": str(len(body)),
        **validators,
        **SECURITY_HEADERS,
    }
    return Entry(
        body=body,
        headers=_raw(full),
        not_modified_headers=_raw({**validators, **SECURITY_HEADERS}),
        etag=validators["ETag"],
        last_modified=page.last_modified,
        route=route,
    )


class RenderCache:
    """Entries by (path, variant), least recently used first, within `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.epoch = 0
        """Moves on every invalidation: a render that began before it may not be stored."""
        self.hits = 0
        self.misses = 0
        self.ready = False
        """Whether the cache knows where the events table stands (until then, no entry)."""
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[Key]:
        with self._lock:
            return list(self._entries)

    def get(self, key: Key) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            return entry

    def put(self, key: Key, entry: Entry, epoch: int) -> bool:
        """Keep `entry`, unless the cache was invalidated since `epoch` was read."""
        size = entry.size
        with self._lock:
            self.misses += 1
            if not self.ready or epoch != self.epoch or size > self.max_bytes:
                return False
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            while self._entries and self._bytes + size > self.max_bytes:
                _key, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size
            self._entries[key] = entry
            self._bytes += size
            return True

    def invalidate(self, paths: Iterable[str]) -> None:
        """Drop every variant of these paths."""
        with self._lock:
            self.epoch += 1
            for path in paths:
                for variant in VARIANTS:
                    entry = self._entries.pop((path, variant), None)
                    if entry is not None:
                        self._bytes -= entry.size

    def clear(self) -> None:
        with self._lock:
            self.epoch += 1
            self._entries.clear()
            self._bytes = 0


class EventFollower:
    """Keeps a cache in step with the events table: what other processes changed."""

    def __init__(
        self, cache: RenderCache, engine: Engine, interval: float = CATCH_UP_SECONDS
    ) -> None:
        self.cache = cache
        self.engine = engine
        self.interval = interval
        self.position: int | None = None
        self.checked_at = -math.inf
        self._lock = threading.Lock()
        self._task: asyncio.Future[None] | None = None

    def due(self) -> bool:
        return time.monotonic() - self.checked_at >= self.interval

    def catch_up(self) -> None:
        """Read the newest event id; drop what the events since the last look name."""
        with self._lock:
            began = time.monotonic()
            try:
                self._catch_up()
            except Exception as error:  # the database is away: the page's own read will say
                _log.warning("render cache could not read the events: %s", error)
                if self.position is None:
                    self.cache.clear()
            finally:
                self.checked_at = began

    def _catch_up(self) -> None:
        with reading(self.engine) as connection:
            latest = latest_event_id(connection)
            if self.position is None or latest < self.position:
                # first look, or the database was replaced (a restore): nothing kept holds
                self.cache.clear()
                self.position = latest
                self.cache.ready = True
            elif latest > self.position:
                self.position, paths = affected_since(connection, self.position)
                self.cache.invalidate(paths)

    def stale(self) -> bool:
        """Whether the last look is too old to answer from the cache before looking again."""
        return time.monotonic() - self.checked_at >= STALE_SECONDS

    def start(self) -> asyncio.Future[None]:
        """A look at the events table, begun in a thread unless one is under way."""
        loop = asyncio.get_running_loop()
        task = self._task
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._task = asyncio.ensure_future(run_sync(self.catch_up))
        return task

    async def fresh(self) -> None:
        """Look again if the last look is older than the interval. A request waits for it
        only when the last look is older than `STALE_SECONDS` (an idle process); under
        traffic the look runs beside the hits, which never wait on the database."""
        if not self.due():
            return
        task = self.start()
        if self.stale():
            await asyncio.shield(task)

    async def now(self) -> None:
        """Catch up with a look that begins after this call (for `Cache-Control: no-cache`)."""
        await run_sync(self.catch_up)
