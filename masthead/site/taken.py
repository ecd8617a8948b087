"""Whether a path is one the page table answers: such a path can never be an old address."""

from __future__ import annotations

import re
from functools import cache

from masthead.site.pagetable import PAGES

__all__ = ["is_page_path"]

_PARAMETER = re.compile(r"\{(\w+)(?::(\w+))?\}")


@cache
def _patterns() -> tuple[re.Pattern[str], ...]:
    compiled = []
    for kind in PAGES:
        if not kind.routed:
            continue
        parts, last = [], 0
        for found in _PARAMETER.finditer(kind.pattern):
            parts.append(re.escape(kind.pattern[last : found.start()]))
            parts.append(r"[0-9]+" if found.group(2) == "int" else r"[^/]+")
            last = found.end()
        parts.append(re.escape(kind.pattern[last:]))
        compiled.append(re.compile("".join(parts)))
    return tuple(compiled)


def is_page_path(path: str) -> bool:
    """True when `path` (or its lowercase form, which the site redirects to) has the shape
    of an address of the page table: `/posts/x/`, `/tag/x/`, `/feed.xml`…"""
    return any(
        pattern.fullmatch(candidate)
        for candidate in {path, path.lower()}
        for pattern in _patterns()
    )
