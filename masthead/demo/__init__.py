"""Demo content written for Masthead: staff, tags and posts about using it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["DEMO_CONTENT"]

DEMO_CONTENT = Path(str(resources.files("masthead.demo").joinpath("content")))
