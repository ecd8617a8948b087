"""A backup's manifest: what it holds, to check a restore against. Pure: no IO."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST_SUFFIX", "Manifest", "count_differences", "manifest_path"]

MANIFEST_SUFFIX = ".manifest.json"
FORMAT = "masthead-backup/1"


def manifest_path(backup: Path) -> Path:
    """`FILE.manifest.json`, beside the backup."""
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


@dataclass(frozen=True)
class Manifest:
    dialect: str  # `sqlite` (a database file) or `postgresql` (pg_dump's custom format)
    revision: str | None
    counts: Mapping[str, int]
    sha256: str
    size: int
    created_at: str
    format: str = field(default=FORMAT)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "dialect": self.dialect,
            "revision": self.revision,
            "counts": dict(self.counts),
            "sha256": self.sha256,
            "bytes": self.size,
            "created_at": self.created_at,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Manifest:
        """Raises KeyError, TypeError or ValueError for a document that is not a manifest."""
        if document["format"] != FORMAT:
            raise ValueError(f"unknown manifest format {document['format']!r}")
        counts = {str(name): int(count) for name, count in dict(document["counts"]).items()}
        return cls(
            dialect=str(document["dialect"]),
            revision=document["revision"],
            counts=counts,
            sha256=str(document["sha256"]),
            size=int(document["bytes"]),
            created_at=str(document["created_at"]),
        )


def count_differences(want: Mapping[str, int], have: Mapping[str, int]) -> dict[str, list[int]]:
    """Tables whose row counts differ: name → [in the manifest, in the database]."""
    return {
        name: [want.get(name, 0), have.get(name, 0)]
        for name in sorted(set(want) | set(have))
        if want.get(name, 0) != have.get(name, 0)
    }
