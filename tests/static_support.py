"""Reading static releases back in tests: a release as {path: bytes}, the live one."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from masthead.actions.static_build import BuildOptions, BuildSummary, build_site
from masthead.settings import Settings
from tests.operators import call_as


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (a release), by its path there."""
    found = {}
    for directory, _folders, files in os.walk(folder):
        for name in files:
            path = Path(directory) / name
            found[str(path.relative_to(folder))] = path.read_bytes()
    return found


def live_release(out: Path) -> Path:
    return out / "current"


def manifest_of(out: Path) -> dict[str, Any]:
    name = Path(os.readlink(out / "current")).name
    document: dict[str, Any] = json.loads((out / "releases" / f"{name}.json").read_bytes())
    return document


def build(engine: Engine, settings: Settings, out: Path, **options: Any) -> BuildSummary:
    return build_site(engine, settings, BuildOptions(out=out, **options), call_as().at)
