"""The pages a transaction's changes made stale are announced once, at its commit: the
union of every change's pages (an import's batches each shift every page of the index),
listed once rather than held URL by URL for each change until then."""

from __future__ import annotations

from sqlalchemy import Engine

from masthead.actions.invalidation import listen
from masthead.actions.lifecycle import record_events
from masthead.domain.events import AffectedPages, EventType, NewEvent, PageRange
from masthead.site import urls
from masthead.site.pagetable import expand
from masthead.store.engine import writing
from tests.operators import call_as


class _Heard:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def invalidate(self, paths: list[str]) -> None:
        self.calls.append(paths)


def _change(first: int, last: int, *paths: str) -> NewEvent:
    affected = AffectedPages.of(paths, {urls.INDEX: range(first, last + 1)})
    return NewEvent(EventType.TAG_CHANGED, "tag", "news", affected=affected)


def test_the_union_of_changes_merges_overlapping_and_touching_runs_of_a_listing() -> None:
    changes = [
        AffectedPages.of(["/a/"], {"/": [1, 2, 3], "/tags/x/": [5]}),
        AffectedPages.of(["/b/", "/a/"], {"/": [2, 3, 4, 5], "/tags/x/": [7]}),
        AffectedPages.of([], {"/": [6], "/tags/x/": [9, 10]}),
    ]
    union = AffectedPages.union(changes)
    assert union.paths == ("/a/", "/b/")
    assert union.ranges == (
        PageRange("/", 1, 6),
        PageRange("/tags/x/", 5, 5),
        PageRange("/tags/x/", 7, 7),
        PageRange("/tags/x/", 9, 10),
    )
    assert set(expand(union)) == {page for change in changes for page in expand(change)}
    assert AffectedPages.union([]) == AffectedPages()


def test_a_transaction_of_many_changes_announces_their_pages_once_at_commit(
    engine: Engine,
) -> None:
    heard = _Heard()
    listen(heard)
    call = call_as()
    with writing(engine) as connection:
        record_events(connection, call, [_change(1, 3, "/posts/a/")])
        record_events(connection, call, [_change(2, 5, "/posts/b/"), _change(1, 1)])
        assert heard.calls == []
    assert len(heard.calls) == 1
    every = AffectedPages.of(["/posts/a/", "/posts/b/"], {urls.INDEX: range(1, 6)})
    assert heard.calls[0] == expand(every)
    try:
        with writing(engine) as connection:
            record_events(connection, call, [_change(1, 9, "/posts/c/")])
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    with writing(engine) as connection:
        record_events(connection, call, [_change(1, 1)])
    assert heard.calls[1] == expand(AffectedPages.of([], {urls.INDEX: [1]}))
