"""`masthead build`: the public site as files, in a new release, made live by one rename.

A build reads what the page table lists, renders each page into a new release folder
(or, incrementally, renders only the pages the events since the live release name and
hard-links the others from it), writes the redirects as small HTML pages and an nginx
map, then swaps `current` over to it and prunes old releases. Killed at any moment, it
leaves `current` on the previous complete release; the next build cleans up after it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from masthead.actions.redirects import old_addresses
from masthead.actions.releases import Manifest, OutputFolder
from masthead.actions.static_pages import (
    CHUNK,
    Folders,
    Rendered,
    page_context,
    render_here,
    render_in_processes,
    write_page,
)
from masthead.domain.releases import DEFAULT_KEEP, PageFile, plan_build
from masthead.settings import Settings
from masthead.site import export, pagetable
from masthead.site.render import Renderer
from masthead.store import events as event_store
from masthead.store.engine import reading

__all__ = ["BuildOptions", "BuildSummary", "RollbackSummary", "build_site", "rollback_site"]

Progress = Callable[[int, int], None]
EVENT_BATCH = 1000


@dataclass(frozen=True)
class BuildOptions:
    out: Path
    jobs: int = 1
    incremental: bool = False
    keep: int = DEFAULT_KEEP


@dataclass(frozen=True)
class BuildSummary:
    release: str
    folder: Path
    pages: int
    rendered: int
    reused: int
    redirects: int
    incremental: bool
    events_through: int
    seconds: float
    pruned: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "folder": str(self.folder),
            "pages": self.pages,
            "rendered": self.rendered,
            "reused": self.reused,
            "redirects": self.redirects,
            "incremental": self.incremental,
            "events_through": self.events_through,
            "seconds": round(self.seconds, 3),
            "pruned": list(self.pruned),
        }


@dataclass
class _Survey:
    """What the build read before rendering: the URLs, redirects and what to reuse."""

    urls: list[str]
    redirects: dict[str, str]
    events_through: int
    fingerprint: str
    public_url: str
    base: Manifest | None
    named: set[str] = field(default_factory=set)


def build_site(
    engine: Engine,
    settings: Settings,
    options: BuildOptions,
    at: datetime,
    progress: Progress | None = None,
) -> BuildSummary:
    """Build a release of the public site into `options.out` and make it live."""
    began = time.perf_counter()
    folder = OutputFolder(options.out)
    with folder.locked():
        folder.clear_partial()
        with reading(engine) as connection:
            survey = _survey(connection, settings, folder, options.incremental)
        name, partial = folder.start(at)
        pages, rendered = _write_pages(engine, settings, options, survey, folder, partial, progress)
        _write_redirects(survey, partial)
        manifest = Manifest(
            name, survey.events_through, survey.fingerprint, pages, survey.redirects
        )
        folder.finish(name, partial, manifest)
        folder.point_at(name)
        pruned = folder.prune(options.keep)
    return BuildSummary(
        release=name,
        folder=folder.releases / name,
        pages=len(pages),
        rendered=rendered,
        reused=len(pages) - rendered,
        redirects=len(survey.redirects),
        incremental=survey.base is not None,
        events_through=survey.events_through,
        seconds=time.perf_counter() - began,
        pruned=tuple(pruned),
    )


def _survey(
    connection: Connection, settings: Settings, folder: OutputFolder, incremental: bool
) -> _Survey:
    through = event_store.latest_id(connection)  # first: later changes make a later build
    context = page_context(connection, settings, Renderer())
    urls = list(dict.fromkeys(export.addresses(context)))
    redirects = {
        **export.first_page_redirects(context),
        **pagetable.old_slug_redirects(context),
        **old_addresses(connection),  # an imported site's old paths
    }
    listed = set(urls)
    redirects = {old: new for old, new in redirects.items() if old not in listed}
    site = context.site
    survey = _Survey(urls, redirects, through, export.fingerprint(site), site.public_url, None)
    live = folder.live()
    base = folder.manifest(live) if incremental and live else None
    if base is not None and base.fingerprint == survey.fingerprint:
        survey.base = base
        survey.named = set(_named_since(connection, base.events_through))
    return survey


def _named_since(connection: Connection, position: int) -> Iterator[str]:
    """Every URL the events after `position` name as affected."""
    while True:
        batch = event_store.events_after(connection, position, limit=EVENT_BATCH)
        if not batch:
            return
        for event in batch:
            yield from pagetable.expand(event.affected)
        position = batch[-1].id


def _write_pages(
    engine: Engine,
    settings: Settings,
    options: BuildOptions,
    survey: _Survey,
    folder: OutputFolder,
    partial: Path,
    progress: Progress | None,
) -> tuple[dict[str, PageFile], int]:
    """Every page's file in the new release, and how many were rendered (not linked)."""
    base = survey.base
    plan = plan_build(survey.urls, base.pages if base else None, survey.named)
    total, done = len(survey.urls), 0
    pages: dict[str, PageFile] = {}

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(done, total)

    if base is not None:
        pages.update(_link_from(folder.releases / base.release, partial, base, plan.reuse))
        advance(len(plan.reuse))
    missing = [url for url in plan.reuse if url not in pages]
    to_render = [*plan.render, *missing]
    for url, page in _render(engine, settings, options, partial, to_render, advance):
        if page is not None:
            pages[url] = page
    order = {url: index for index, url in enumerate(survey.urls)}
    return dict(sorted(pages.items(), key=lambda item: order[item[0]])), len(to_render)


def _render(
    engine: Engine,
    settings: Settings,
    options: BuildOptions,
    partial: Path,
    urls: list[str],
    advance: Callable[[int], None],
) -> Iterator[Rendered]:
    if options.jobs > 1 and len(urls) > CHUNK:
        yield from render_in_processes(settings, partial, urls, options.jobs, advance)
        return
    for rendered in render_here(engine, settings, partial, urls):
        advance(1)
        yield rendered


def _link_from(
    release: Path, partial: Path, base: Manifest, urls: tuple[str, ...]
) -> dict[str, PageFile]:
    """Hard-link the unchanged pages from the live release (a page it lacks is left out,
    to be rendered)."""
    folders = Folders(partial)
    linked: dict[str, PageFile] = {}
    for url in urls:
        page = base.pages[url]
        try:
            os.link(release / page.path, folders.path(page.path))
        except FileNotFoundError:
            continue
        linked[url] = page
    return linked


def _write_redirects(survey: _Survey, partial: Path) -> None:
    folders, redirects = Folders(partial), survey.redirects
    for old, new in redirects.items():
        page = export.redirect_page(new, f"{survey.public_url}{new}")
        write_page(folders, old, page.encode())
    write_page(folders, "/" + export.REDIRECTS_MAP, export.nginx_map(redirects).encode())


# --- rolling back ----------------------------------------------------------------------


@dataclass(frozen=True)
class RollbackSummary:
    previous: str
    current: str

    def as_dict(self) -> dict[str, str]:
        return {"from": self.previous, "to": self.current}


def rollback_site(out: Path) -> RollbackSummary:
    """Point `current` at the release before the live one."""
    folder = OutputFolder(out)
    with folder.locked():
        previous, current = folder.rollback()
    return RollbackSummary(previous, current)
