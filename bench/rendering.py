"""Markdown renderers on the corpus bodies: bodies per second, and the project pipeline.

Each renderer gets the same list of bodies, in the same order: a short warm-up, then
whole passes over the list until the time budget is spent (at least one pass). Each
pass is timed in chunks of 50 bodies; the headline rate is the median chunk's bodies
per second, which a burst of other work on the machine moves less than the mean does
(the mean, all bodies over all seconds, is kept too; MB/s is the median rate times
the mean body size).

The first pass also counts a few elements of the output (tables, code blocks, list
items, links), so the report can show whether the renderers did comparable work: GFM
tables and strikethrough on for all of them, raw HTML passed through, nothing
sanitised except in the pipeline. That pass is left out of the rate when there are more.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

__all__ = ["RENDERERS", "RenderResult", "measure_renderers", "renderer_functions"]

RENDERERS = ("cmarkgfm", "markdown-it-py", "pyromark", "pipeline")
WARMUP_BODIES = 50
CHUNK = 50
_COUNTED = {"tables": "<table", "code_blocks": "<pre", "list_items": "<li", "links": "<a "}


@dataclass(frozen=True)
class RenderResult:
    name: str
    call: str
    bodies_per_second: float
    mean_bodies_per_second: float
    megabytes_per_second: float
    passes: int
    bodies: int
    seconds: float
    counts: dict[str, int]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _cmarkgfm() -> tuple[str, Callable[[str], str]]:
    import cmarkgfm
    from cmarkgfm.cmark import Options

    def render(text: str) -> str:
        html: str = cmarkgfm.github_flavored_markdown_to_html(
            text, options=Options.CMARK_OPT_UNSAFE
        )
        return html

    return "cmarkgfm.github_flavored_markdown_to_html(text, options=CMARK_OPT_UNSAFE)", render


def _markdown_it() -> tuple[str, Callable[[str], str]]:
    from markdown_it import MarkdownIt

    parser = MarkdownIt("gfm-like")
    return 'MarkdownIt("gfm-like").render(text)', parser.render


def _pyromark() -> tuple[str, Callable[[str], str]]:
    import pyromark

    flags = (
        pyromark.Options.ENABLE_TABLES
        | pyromark.Options.ENABLE_STRIKETHROUGH
        | pyromark.Options.ENABLE_TASKLISTS
    )

    def render(text: str) -> str:
        return pyromark.html(text, options=flags)

    return "pyromark.html(text, options=TABLES|STRIKETHROUGH|TASKLISTS)", render


def _pipeline() -> tuple[str, Callable[[str], str]]:
    from masthead.content.markdown import render_markdown

    def render(text: str) -> str:
        return render_markdown(text).html

    return "masthead.content.markdown.render_markdown(text) (render+highlight+sanitise)", render


def renderer_functions() -> dict[str, tuple[str, Callable[[str], str]]]:
    makers = {
        "cmarkgfm": _cmarkgfm,
        "markdown-it-py": _markdown_it,
        "pyromark": _pyromark,
        "pipeline": _pipeline,
    }
    return {name: make() for name, make in makers.items()}


def _render_pass(
    render: Callable[[str], str], chunks: list[list[str]], counts: dict[str, int] | None
) -> list[float]:
    """Render every chunk once; the seconds each chunk took. Counts elements if asked."""
    clock = time.perf_counter
    seconds = []
    for chunk in chunks:
        started = clock()
        if counts is None:
            for body in chunk:
                render(body)
        else:
            for body in chunk:
                html = render(body)
                for key, needle in _COUNTED.items():
                    counts[key] += html.count(needle)
        seconds.append(clock() - started)
    return seconds


def _measure(
    name: str, call: str, render: Callable[[str], str], bodies: list[str], budget: float
) -> RenderResult:
    for body in bodies[:WARMUP_BODIES]:
        render(body)
    chunks = [bodies[start : start + CHUNK] for start in range(0, len(bodies), CHUNK)]
    counts = dict.fromkeys(_COUNTED, 0)
    passes = [_render_pass(render, chunks, counts)]
    total = sum(passes[0])
    while total < budget:
        passes.append(_render_pass(render, chunks, None))
        total += sum(passes[-1])
    # The first pass also counted elements: use it only when it is the only pass.
    timed = passes[1:] or passes
    timed_seconds = sum(map(sum, timed))
    chunk_rates = sorted(
        len(chunk) / seconds for one in timed for chunk, seconds in zip(chunks, one, strict=True)
    )
    median_rate = chunk_rates[len(chunk_rates) // 2]
    mean_body_bytes = sum(len(body.encode()) for body in bodies) / len(bodies)
    return RenderResult(
        name=name,
        call=call,
        bodies_per_second=median_rate,
        mean_bodies_per_second=len(bodies) * len(timed) / timed_seconds,
        megabytes_per_second=median_rate * mean_body_bytes / 1_000_000,
        passes=len(timed),
        bodies=len(bodies) * len(timed),
        seconds=total,
        counts=counts,
    )


def measure_renderers(
    bodies: list[str], budget: float, names: tuple[str, ...] = RENDERERS
) -> dict[str, RenderResult]:
    functions = renderer_functions()
    return {
        name: _measure(name, functions[name][0], functions[name][1], bodies, budget)
        for name in names
    }
