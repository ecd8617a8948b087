"""Rendering pages of a static release into its folder, in this process or in worker
processes of its own (a full build on every core).

Each worker process opens its own engine and renders each chunk of URLs it is handed in
one read transaction, writing each page's file itself; only the files' digests travel
back. Memory stays flat however many posts the site has: a chunk's pages are written as
they are rendered.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sqlalchemy import Connection, Engine

from masthead.actions.releases import write_atomically
from masthead.actions.setup import open_database
from masthead.actions.site_info import current_site
from masthead.domain.pages import Page
from masthead.domain.releases import PageFile, file_for
from masthead.errors import NotFound
from masthead.settings import Settings
from masthead.site import export
from masthead.site.pagetable import PageContext
from masthead.site.render import Renderer
from masthead.store.engine import reading

__all__ = ["CHUNK", "Rendered", "page_context", "render_in_processes", "write_page"]

CHUNK = 64
"""URLs a worker process renders in one read transaction."""

Rendered = tuple[str, PageFile | None]
"""A URL and its file, or None when it no longer answers with a page."""


def page_context(connection: Connection, settings: Settings, renderer: Renderer) -> PageContext:
    return PageContext(connection, current_site(connection, settings), renderer)


class Folders:
    """Creates each parent folder of a release once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: set[str] = set()

    def path(self, relative: str) -> Path:
        parent = relative.rpartition("/")[0]
        if parent not in self.made:
            (self.root / parent).mkdir(parents=True, exist_ok=True)
            self.made.add(parent)
        return self.root / relative


def write_page(folders: Folders, url: str, content: bytes) -> PageFile:
    relative = file_for(url)
    write_atomically(folders.path(relative), content)
    return PageFile(relative, hashlib.sha256(content).hexdigest(), len(content))


def render_one(context: PageContext, folders: Folders, url: str) -> Rendered:
    try:
        built = export.build(context, url)
    except NotFound:
        return url, None
    if not isinstance(built, Page):
        return url, None
    return url, write_page(folders, url, built.body.encode())


def render_here(
    engine: Engine, settings: Settings, folder: Path, urls: Iterable[str]
) -> Iterator[Rendered]:
    """Render `urls` in this process, in one read transaction."""
    folders, renderer = Folders(folder), Renderer()
    with reading(engine) as connection:
        context = page_context(connection, settings, renderer)
        for url in urls:
            yield render_one(context, folders, url)


# --- worker processes -------------------------------------------------------------------

_worker: dict[str, object] = {}


def _start_worker(settings: Settings, folder: str) -> None:
    _worker.update(
        engine=open_database(settings),
        settings=settings,
        folders=Folders(Path(folder)),
        renderer=Renderer(),
    )


def _render_chunk(urls: Sequence[str]) -> list[Rendered]:
    engine, settings = _worker["engine"], _worker["settings"]
    folders, renderer = _worker["folders"], _worker["renderer"]
    assert isinstance(engine, Engine)
    assert isinstance(settings, Settings)
    assert isinstance(folders, Folders)
    assert isinstance(renderer, Renderer)
    with reading(engine) as connection:
        context = page_context(connection, settings, renderer)
        return [render_one(context, folders, url) for url in urls]


def render_in_processes(
    settings: Settings,
    folder: Path,
    urls: Sequence[str],
    jobs: int,
    progress: Callable[[int], None],
) -> Iterator[Rendered]:
    """Render `urls` in `jobs` worker processes, chunk by chunk, yielding as they finish."""
    chunks = [urls[start : start + CHUNK] for start in range(0, len(urls), CHUNK)]
    # Forking is instant and shares the loaded code, but is safe only with one thread
    # (a worker's other threads may hold locks): then processes start afresh instead.
    alone = threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if alone else "spawn")
    with ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=_start_worker,
        initargs=(settings, str(folder)),
    ) as pool:
        for results in pool.map(_render_chunk, chunks):
            progress(len(results))
            yield from results
