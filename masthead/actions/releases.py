"""The output folder of static builds: releases, `current`, manifests and the build lock.

Layout of `DIR`:

* `releases/NAME/` — one complete release, the files of every public URL;
* `releases/NAME.json` — its manifest: each URL's file, digest and size, its redirects,
  the last event it includes and the fingerprint of what renders it;
* `releases/.partial-NAME/` — a build in progress (or killed): never served, removed by
  the next build;
* `current` — a symlink to `releases/NAME`, replaced by renaming a new symlink over it;
* `.lock` — held (`flock`) by the one build that may run at a time.

Nothing in a complete release is ever written again: a file is written to a temporary
name and renamed, a release folder is renamed into place only when its every file and
its manifest are on disk, and `current` moves only after that.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from masthead.domain.releases import PageFile, release_before, release_name, releases_to_prune
from masthead.errors import NotFound, UnusablePath

__all__ = [
    "CURRENT",
    "Manifest",
    "OutputFolder",
    "write_atomically",
]

CURRENT = "current"
RELEASES = "releases"
PARTIAL = ".partial-"
LOCK = ".lock"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Manifest:
    release: str
    events_through: int
    fingerprint: str
    pages: Mapping[str, PageFile]
    redirects: Mapping[str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "release": self.release,
            "events_through": self.events_through,
            "fingerprint": self.fingerprint,
            "pages": {url: [page.path, page.digest, page.size] for url, page in self.pages.items()},
            "redirects": dict(self.redirects),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        return cls(
            release=data["release"],
            events_through=int(data["events_through"]),
            fingerprint=data["fingerprint"],
            pages={url: PageFile(*entry) for url, entry in data["pages"].items()},
            redirects=dict(data["redirects"]),
        )


def write_atomically(path: Path, content: bytes, *, sync: bool = False) -> None:
    """Write `content` under a temporary name beside `path`, then rename it into place."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(content)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(temporary, path)


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync_filesystem(folder: Path) -> None:
    """Flush every file written on `folder`'s file system (one `syncfs`, not one fsync a
    file); `os.sync` where `syncfs` is missing."""
    library = ctypes.util.find_library("c")
    syncfs = getattr(ctypes.CDLL(library), "syncfs", None) if library else None
    if syncfs is None:
        os.sync()
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        syncfs(descriptor)
    finally:
        os.close(descriptor)


class OutputFolder:
    """`DIR` of a static build: its releases, the live one, and the build lock."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.releases = root / RELEASES

    def prepare(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise UnusablePath(f"{self.root} is not a folder: give a folder to build into")
        try:
            self.releases.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UnusablePath(f"cannot create {self.releases}: {error.strerror}") from error

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One build (or rollback) at a time on this folder; others wait their turn."""
        self.prepare()
        with open(self.root / LOCK, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # --- what is there ----------------------------------------------------------------

    def names(self) -> list[str]:
        """The complete releases, oldest first."""
        if not self.releases.is_dir():
            return []
        return sorted(
            entry.name
            for entry in self.releases.iterdir()
            if entry.is_dir() and not entry.name.startswith(".")
        )

    def live(self) -> str | None:
        """The release `current` points at (None before the first build)."""
        link = self.root / CURRENT
        if not link.is_symlink():
            return None
        return Path(os.readlink(link)).name

    def manifest(self, name: str) -> Manifest | None:
        try:
            data = json.loads((self.releases / f"{name}.json").read_bytes())
        except (OSError, ValueError):
            return None
        if data.get("version") != MANIFEST_VERSION:
            return None
        return Manifest.from_json(data)

    # --- making a release -------------------------------------------------------------

    def clear_partial(self) -> None:
        """Remove what killed builds left behind (the lock is held: none is running)."""
        for entry in self.releases.iterdir():
            if entry.name.startswith(PARTIAL):
                shutil.rmtree(entry, ignore_errors=True)
            elif entry.name.endswith(".tmp"):
                entry.unlink(missing_ok=True)

    def start(self, at: datetime) -> tuple[str, Path]:
        """A new release's name and the partial folder it is built in."""
        serial = os.getpid()
        name = release_name(at, serial)
        while name in self.names() or (self.live() or "") >= name:
            serial += 1
            name = release_name(at, serial)
        folder = self.releases / f"{PARTIAL}{name}"
        folder.mkdir()
        return name, folder

    def finish(self, name: str, folder: Path, manifest: Manifest) -> Path:
        """Put the release in place: files flushed, manifest written, folder renamed."""
        _sync_filesystem(folder)
        write_atomically(
            self.releases / f"{name}.json",
            json.dumps(manifest.as_json(), separators=(",", ":")).encode(),
            sync=True,
        )
        final = self.releases / name
        os.replace(folder, final)
        _sync_folder(self.releases)
        return final

    def point_at(self, name: str) -> None:
        """Make `name` live: a new symlink renamed over `current` (atomic)."""
        temporary = self.root / f".{CURRENT}.{os.getpid()}.tmp"
        temporary.unlink(missing_ok=True)
        os.symlink(f"{RELEASES}/{name}", temporary)
        os.replace(temporary, self.root / CURRENT)
        _sync_folder(self.root)

    def prune(self, keep: int) -> list[str]:
        """Delete all but the newest `keep` releases (never the live one)."""
        doomed = releases_to_prune(self.names(), self.live(), keep)
        for name in doomed:
            (self.releases / f"{name}.json").unlink(missing_ok=True)
            shutil.rmtree(self.releases / name, ignore_errors=True)
        return doomed

    def rollback(self) -> tuple[str, str]:
        """Point `current` at the release before the live one; (from, to)."""
        live = self.live()
        earlier = release_before(self.names(), live)
        if live is None or earlier is None:
            raise NotFound(f"no release before the live one in {self.releases}")
        self.point_at(earlier)
        return live, earlier
