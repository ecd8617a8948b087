"""Static releases as rules: where each URL's file goes, how releases are named, which
ones to keep, and what an incremental build must render again.

A release is a folder of files, one per public URL; `current` points at one of them.
Release names sort in the order they were made, so the newest is the last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "DEFAULT_KEEP",
    "PageFile",
    "Plan",
    "file_for",
    "plan_build",
    "release_before",
    "release_name",
    "releases_to_prune",
]

DEFAULT_KEEP = 5
"""Complete releases kept on disk (the live one is always kept)."""
INDEX_FILE = "index.html"


@dataclass(frozen=True)
class PageFile:
    """One URL's file in a release: its path there, the SHA-256 of its bytes, their size."""

    path: str
    digest: str
    size: int


def file_for(url: str) -> str:
    """The file a URL is written to, relative to the release: `/` is `index.html`,
    `/posts/a/` is `posts/a/index.html`, `/feed.xml` is `feed.xml`."""
    if not url.startswith("/") or "\\" in url or "\0" in url:
        raise ValueError(f"not a site path: {url!r}")
    parts = [part for part in url.split("/") if part]
    if any(part in {".", ".."} for part in parts):
        raise ValueError(f"not a site path: {url!r}")
    if url.endswith("/"):
        parts.append(INDEX_FILE)
    return "/".join(parts)


def release_name(at: datetime, serial: int) -> str:
    """A name that sorts by time: `20261204T012345.123456Z-0042` (serial breaks ties)."""
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ") + f"-{serial % 10_000:04d}"


def releases_to_prune(names: Iterable[str], live: str | None, keep: int) -> list[str]:
    """The releases to delete: all but the newest `keep`, never the live one."""
    ordered = sorted(names)
    kept = set(ordered[-keep:]) if keep > 0 else set()
    return [name for name in ordered if name not in kept and name != live]


def release_before(names: Iterable[str], live: str | None) -> str | None:
    """The newest release older than the live one (what a rollback goes back to)."""
    older = [name for name in sorted(names) if live is None or name < live]
    return older[-1] if older else None


@dataclass(frozen=True)
class Plan:
    """What an incremental build does: render these URLs, hard-link the rest."""

    render: tuple[str, ...]
    reuse: tuple[str, ...]


def plan_build(
    urls: Sequence[str], previous: Mapping[str, PageFile] | None, named: Iterable[str]
) -> Plan:
    """Render every URL the events named and every URL the previous release lacks; reuse
    the others. Without a previous release, render everything."""
    if previous is None:
        return Plan(tuple(urls), ())
    again = set(named)
    render = tuple(url for url in urls if url in again or url not in previous)
    rendered = set(render)
    return Plan(render, tuple(url for url in urls if url not in rendered))
