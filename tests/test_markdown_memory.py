"""Rendering gives its memory back: rendering big bodies again and again does not grow a process.

cmarkgfm's own wrapper never freed cmark-gfm's document nor its HTML string, so every
render of a 400 KB body kept megabytes for good, and any writer could grow the server
through `POST /api/v1/render`. The measurement runs in a fresh interpreter, so that
nothing the other tests allocated (or freed) moves its resident memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from masthead.content.markdown import render_markdown

RENDERS = 200
BODY_BYTES = 400_000
MAX_GROWTH_MB = 50
ROOT = Path(__file__).resolve().parent.parent
# Long words in long paragraphs: many bytes for few words and elements, so 200 renders
# of 400 KB stay a matter of seconds (the sanitiser and the word count run per element
# and per word).
_SENTENCE = (
    "Authentication infrastructure synchronisation responsibilities notwithstanding, "
    "administrators acknowledged misconfigured certificates immediately. "
)


def _section(number: int) -> str:
    """One part of a long post: mostly prose and lists; a table or code now and then."""
    paragraph = _SENTENCE * 30 + f"See *part {number}* and https://example.org/{number}."
    items = "".join(f"- item {item} of part {number}, with a few more words\n" for item in range(8))
    parts = [f"## Part {number}", paragraph, items, "- [x] checked\n- [ ] open"]
    if number % 5 == 0:
        parts.append("| step | owner |\n|---|---|\n| rotate | ops |\n| verify | web |")
    if number % 10 == 0:
        parts.append("```python\ndef rotate(secret: str) -> str:\n    return secret[::-1]\n```")
    return "\n\n".join(parts) + "\n\n"


def long_body(size: int = BODY_BYTES) -> str:
    """A post of at least `size` bytes, built from numbered sections."""
    sections: list[str] = []
    length = 0
    while length < size:
        sections.append(_section(len(sections) + 1))
        length += len(sections[-1].encode())
    return "".join(sections)


def resident_megabytes() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1_000_000


def grow_by_rendering() -> None:
    """Render the long body until done or until resident memory has grown too much.

    Run in the child interpreter; prints what it measured as JSON. Stopping early keeps a
    leaking renderer from taking gigabytes before the test can fail.
    """
    body = long_body()
    start = resident_megabytes()
    renders, growth = 0, 0.0
    while renders < RENDERS and growth <= MAX_GROWTH_MB:
        render_markdown(body)
        renders += 1
        growth = resident_megabytes() - start
    print(json.dumps({"body_bytes": len(body.encode()), "renders": renders, "growth": growth}))


def test_two_hundred_renders_of_a_400_kb_body_grow_memory_less_than_50_mb() -> None:
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tests.test_markdown_memory import grow_by_rendering as g; g()",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    measured = json.loads(child.stdout)
    assert measured["body_bytes"] >= BODY_BYTES
    assert measured["renders"] == RENDERS, measured
    assert measured["growth"] <= MAX_GROWTH_MB, measured
