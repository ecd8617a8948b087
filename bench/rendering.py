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

`python -m bench.rendering` also measures memory: how much a fresh interpreter's resident
memory grows over 200 renders of one 400 KB body (corpus bodies joined), next to the
bodies per second, for each renderer and for cmarkgfm's own wrapper, which Masthead used
before and which never frees what cmark-gfm allocates (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

__all__ = [
    "RENDERERS",
    "WRAPPER",
    "FreshRun",
    "MemoryResult",
    "RenderResult",
    "measure_in_fresh_process",
    "measure_renderers",
    "renderer_functions",
]

RENDERERS = ("cmarkgfm", "markdown-it-py", "pyromark", "pipeline")
# cmarkgfm's own wrapper: left out of `make bench`, where its leak would grow the
# benchmark by gigabytes; `python -m bench.rendering` measures it on purpose.
WRAPPER = "cmarkgfm-wrapper"
MEMORY_RENDERS = 200
BIG_BODY_BYTES = 400_000
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


@dataclass(frozen=True)
class MemoryResult:
    """Resident memory of a fresh interpreter before and after rendering one body N times."""

    name: str
    body_bytes: int
    renders: int
    start_megabytes: float
    growth_megabytes: float
    seconds: float


def _cmarkgfm() -> tuple[str, Callable[[str], str]]:
    from masthead.content.markdown import gfm_to_html

    call = "masthead.content.markdown.gfm_to_html(text) (cmark-gfm, everything freed)"
    return call, gfm_to_html


def _cmarkgfm_wrapper() -> tuple[str, Callable[[str], str]]:
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
        WRAPPER: _cmarkgfm_wrapper,
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


def big_body(bodies: list[str], size: int = BIG_BODY_BYTES) -> str:
    """Corpus bodies joined, in order, until the text has `size` bytes: one long post."""
    parts: list[str] = []
    length = 0
    for body in bodies:
        if length >= size:
            break
        parts.append(body)
        length += len(body.encode()) + 2
    return "\n\n".join(parts)


def resident_megabytes() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1_000_000


def _memory_growth(
    name: str, render: Callable[[str], str], body: str, renders: int
) -> MemoryResult:
    start = resident_megabytes()
    started = time.perf_counter()
    for _ in range(renders):
        render(body)
    return MemoryResult(
        name=name,
        body_bytes=len(body.encode()),
        renders=renders,
        start_megabytes=start,
        growth_megabytes=resident_megabytes() - start,
        seconds=time.perf_counter() - started,
    )


def _cpu_rate(render: Callable[[str], str], bodies: list[str]) -> float:
    """Bodies per second of this process's own CPU time, over one pass.

    Other work on a shared machine lowers the wall-clock rate far more than this one.
    """
    started = time.process_time()
    for body in bodies:
        render(body)
    return len(bodies) / (time.process_time() - started)


@dataclass(frozen=True)
class FreshRun:
    """What one fresh interpreter measured: memory first, then the rates."""

    memory: MemoryResult
    rate: RenderResult
    cpu_bodies_per_second: float


def _child(name: str, posts: int, seed: int, renders: int, budget: float) -> None:
    """Measures in this (fresh) interpreter; prints a FreshRun as JSON."""
    from bench.corpus import generate_corpus

    bodies = generate_corpus(posts, seed).bodies
    call, render = renderer_functions()[name]
    memory = _memory_growth(name, render, big_body(bodies), renders)
    rate = _measure(name, call, render, bodies, budget)
    run = FreshRun(memory, rate, _cpu_rate(render, bodies))
    print(json.dumps(asdict(run)))


def measure_in_fresh_process(
    name: str, posts: int, seed: int, renders: int, budget: float
) -> FreshRun:
    """One renderer in a fresh interpreter, so nothing else allocated or leaked counts."""
    command = [sys.executable, "-m", "bench.rendering", "--child", name]
    command += ["--posts", str(posts), "--seed", str(seed), "--renders", str(renders)]
    command += ["--render-seconds", str(budget)]
    child = subprocess.run(command, capture_output=True, text=True, check=True)
    measured = json.loads(child.stdout)
    return FreshRun(
        MemoryResult(**measured["memory"]),
        RenderResult(**measured["rate"]),
        measured["cpu_bodies_per_second"],
    )


def _report(runs: list[FreshRun]) -> str:
    from bench.report import format_table

    rows = [
        [
            run.memory.name,
            f"{run.rate.bodies_per_second:,.0f}",
            f"{run.cpu_bodies_per_second:,.0f}",
            f"{run.memory.start_megabytes:.1f}",
            f"{run.memory.growth_megabytes:,.1f}",
            f"{run.memory.growth_megabytes / run.memory.renders:.2f}",
            f"{run.memory.seconds:.1f}",
        ]
        for run in runs
    ]
    body_kb, renders = runs[0].memory.body_bytes / 1000, runs[0].memory.renders
    headers = ["renderer", "bodies/s", "bodies/CPU-s", "RSS at start MB", "RSS growth MB"]
    headers += ["MB/render", "s"]
    title = f"RSS growth: {renders} renders of one {body_kb:.0f} KB body, a fresh process each"
    return title + "\n" + format_table(headers, rows, right=(1, 2, 3, 4, 5, 6))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.rendering", description="Renderers: bodies/s and memory growth."
    )
    parser.add_argument("--names", default=",".join((WRAPPER, *RENDERERS)))
    parser.add_argument("--posts", type=int, default=1000, help="corpus size")
    parser.add_argument("--seed", type=int, default=2024, help="corpus seed")
    parser.add_argument("--renders", type=int, default=MEMORY_RENDERS)
    parser.add_argument("--render-seconds", type=float, default=3.0, help="rate budget")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.posts, args.seed, args.renders, args.render_seconds)
        return
    runs = []
    for name in args.names.split(","):
        runs.append(
            measure_in_fresh_process(name, args.posts, args.seed, args.renders, args.render_seconds)
        )
        print(f"  {name}: done", file=sys.stderr, flush=True)
    print(_report(runs))


if __name__ == "__main__":
    main()
