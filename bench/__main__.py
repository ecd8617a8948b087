"""`python -m bench`: corpus, import, HTTP (uvicorn and granian), Markdown renderers.

Run by `make bench`. `N=10000 make bench` or `--posts N` sizes the corpus; `--duration`
(or `DURATION=…`) sets each wrk run's length; `--quick` shortens everything. The report
goes to the terminal and, as JSON, to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import html
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import FrameType

from bench.corpus import Corpus, GeneratedPost, generate_corpus, write_corpus
from bench.importing import ImportResult, masthead_env, time_import
from bench.load import LoadSettings, Target, measure_servers, server_ratios
from bench.rendering import RENDERERS, RenderResult, measure_renderers
from bench.report import format_table, write_json
from bench.servers import SERVERS
from bench.wrk import WrkResult, wrk_path, wrk_version

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
PACKAGES = (
    "masthead", "uvicorn", "granian", "uvloop", "httptools", "starlette", "fastapi",
    "cmarkgfm", "markdown-it-py", "pyromark", "pygments", "nh3", "sqlalchemy",
)  # fmt: skip


def say(text: str = "") -> None:
    print(text, flush=True)


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--posts", type=int, default=int(_env_number("N", 1000)), help="corpus size (env N)"
    )
    parser.add_argument("--seed", type=int, default=2024, help="corpus seed")
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds per wrk run (env DURATION; 10)"
    )
    parser.add_argument("--warmup", type=float, default=None, help="wrk warm-up seconds (2)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--render-seconds", type=float, default=None, help="time budget per renderer (3)"
    )
    parser.add_argument("--quick", action="store_true", help="3 s wrk runs, shorter budgets")
    parser.add_argument(
        "--servers", default=",".join(SERVERS), help="comma-separated: uvicorn,granian"
    )
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP measurements")
    parser.add_argument("--no-render", action="store_true", help="skip the renderers")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON file to write")
    args = parser.parse_args(argv)
    quick = args.quick
    if args.duration is None:
        args.duration = _env_number("DURATION", 3 if quick else 10)
    if args.warmup is None:
        args.warmup = 1 if quick else 2
    if args.render_seconds is None:
        args.render_seconds = 1 if quick else 3
    args.servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = [name for name in args.servers if name not in SERVERS]
    if unknown:
        parser.error(f"unknown server(s) {unknown}; known: {', '.join(SERVERS)}")
    if args.posts < 1:
        parser.error("--posts must be at least 1")
    return args


def machine() -> dict[str, object]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": wrk_version(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


def versions() -> dict[str, str]:
    found = {}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "missing"
    return found


def choose_targets(corpus: Corpus) -> list[Target]:
    """The index, the busiest tag, and the published post of median length."""
    published = sorted(corpus.published, key=lambda post: post.date)
    newest = published[-1]
    tag_counts = Counter(tag for post in published for tag in post.tags)
    busiest = min(tag_counts, key=lambda tag: (-tag_counts[tag], tag))
    newest_in_tag = next(post for post in reversed(published) if busiest in post.tags)
    by_length = sorted(published, key=lambda post: (post.words, post.slug))
    middle: GeneratedPost = by_length[len(by_length) // 2]
    return [
        Target("index", "/", html.escape(newest.title)),
        Target("tag", f"/tag/{busiest}/", html.escape(newest_in_tag.title)),
        Target("post", f"/posts/{middle.slug}/", html.escape(middle.title)),
    ]


def section(title: str) -> None:
    say()
    say(f"== {title}")


def run_corpus(args: argparse.Namespace, workdir: Path) -> tuple[Corpus, float]:
    section(f"Corpus: {args.posts} posts, seed {args.seed}")
    started = time.perf_counter()
    corpus = generate_corpus(args.posts, seed=args.seed)
    write_corpus(corpus, workdir / "corpus")
    elapsed = time.perf_counter() - started
    stats = corpus.stats
    say(
        f"  {stats['posts']} posts ({stats['published']} published), {stats['staff']} staff, "
        f"{stats['tags']} tags; {stats['words_min']}–{stats['words_max']} words a body "
        f"(median {stats['words_median']}); {stats['posts_with_code']} with code, "
        f"{stats['posts_with_table']} with tables; {stats['body_bytes_total'] / 1e6:.1f} MB "
        f"of Markdown; written in {elapsed:.1f} s to {corpus.folder}"
    )
    return corpus, elapsed


def run_import(args: argparse.Namespace, workdir: Path, corpus: Corpus) -> ImportResult:
    section("Import into a fresh SQLite database")
    assert corpus.folder is not None
    result = time_import(corpus.folder, workdir / "bench.db", workdir, args.posts)
    say(
        f"  masthead init {result.init_seconds:.2f} s; masthead import --json "
        f"{result.import_seconds:.2f} s = {result.posts_per_second:.0f} posts/s "
        f"(process start-up {result.startup_seconds:.2f} s; without it "
        f"{result.posts_per_second_net:.0f} posts/s); database {result.database_bytes / 1e6:.1f} MB"
    )
    return result


def run_http(
    args: argparse.Namespace, workdir: Path, targets: list[Target]
) -> dict[str, dict[str, WrkResult]] | None:
    section(
        f"HTTP: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency "
        f"(after {args.warmup:g} s warm-up), one server process each"
    )
    if args.no_http:
        say("  skipped (--no-http)")
        return None
    if wrk_path() is None:
        say("  skipped: wrk is not installed (make bench-deps, or apt-get install wrk)")
        return None
    settings = LoadSettings(args.duration, args.warmup, args.threads, args.connections)
    env = masthead_env(workdir / "bench.db", workdir)
    return measure_servers(args.servers, targets, settings, env, workdir, say)


def run_render(args: argparse.Namespace, corpus: Corpus) -> dict[str, RenderResult] | None:
    section(f"Markdown renderers: {len(corpus.posts)} bodies, {args.render_seconds:g} s budget")
    if args.no_render:
        say("  skipped (--no-render)")
        return None
    results = {}
    for name in RENDERERS:
        result = measure_renderers(corpus.bodies, args.render_seconds, (name,))[name]
        say(f"  {name:15} {result.bodies_per_second:10.1f} bodies/s   {result.call}")
        results[name] = result
    counts = {tuple(sorted(result.counts.items())) for result in results.values()}
    if len(counts) == 1:
        say(f"  same structure from every renderer: {dict(next(iter(counts)))}")
    else:
        say("  the renderers' output differs in structure (elements counted in one pass):")
        for name, result in results.items():
            say(f"    {name:15} {result.counts}")
        say("  (pyromark has no GFM autolink extension: bare URLs stay plain text)")
    return results


def _ms(value: float) -> str:
    return f"{value:.2f}"


def summary_http(results: dict[str, dict[str, WrkResult]], targets: list[Target]) -> None:
    servers = list(results)
    headers = ["page", "path"]
    for name in servers:
        headers += [f"{name} req/s", "p50 ms", "p99 ms"]
    ratios = server_ratios(results, "uvicorn", "granian")
    if ratios:
        headers += ["granian/uvicorn req/s"]
    rows = []
    for target in targets:
        row: list[object] = [target.name, target.path]
        for name in servers:
            result = results[name][target.name]
            row += [f"{result.requests_per_second:.1f}", _ms(result.p50_ms), _ms(result.p99_ms)]
        if ratios:
            ratio = ratios[target.name]["requests_per_second"]
            row.append(f"{ratio:.2f}x" if ratio == ratio else "n/a")
        rows.append(row)
    say(format_table(headers, rows, right=tuple(range(2, len(headers)))))
    errors = {
        f"{name} {page}": result.non_2xx_3xx + result.socket_errors
        for name, pages in results.items()
        for page, result in pages.items()
        if result.non_2xx_3xx or result.socket_errors
    }
    if errors:
        say(f"WARNING: non-2xx/3xx responses or socket errors: {errors}")


def summary_render(results: dict[str, RenderResult]) -> dict[str, object]:
    renderers = {name: result for name, result in results.items() if name != "pipeline"}
    fastest = max(renderers, key=lambda name: renderers[name].bodies_per_second)
    top = renderers[fastest].bodies_per_second
    rows = []
    for name, result in sorted(results.items(), key=lambda item: -item[1].bodies_per_second):
        ratio = result.bodies_per_second / top
        if name == "pipeline":
            relative = "reference"
        elif name == fastest:
            relative = "1.00 (fastest)"
        else:
            relative = f"{ratio:.3f} ({1 / ratio:.1f}x slower)"
        rows.append(
            [
                name,
                f"{result.bodies_per_second:.1f}",
                f"{1000 / result.bodies_per_second:.3f}",
                f"{result.megabytes_per_second:.1f}",
                relative,
            ]
        )
    say(format_table(["renderer", "bodies/s", "ms/body", "MB/s", "vs fastest"], rows, (1, 2, 3)))
    share = None
    if "pipeline" in results and "cmarkgfm" in results:
        share = results["pipeline"].bodies_per_second / results["cmarkgfm"].bodies_per_second
        say(
            f"cmarkgfm's own rendering is {share:.0%} of the pipeline's time per body "
            "(the rest: code highlighting, heading ids, sanitising, word count)"
        )
    return {"fastest": fastest, "cmarkgfm_share_of_pipeline": share}


@dataclass
class Outcome:
    """Everything one run measured, for the summary and the JSON document."""

    started: float
    machine: dict[str, object]
    corpus: Corpus | None = None
    generate_seconds: float = 0.0
    imported: ImportResult | None = None
    targets: list[Target] = field(default_factory=list)
    http: dict[str, dict[str, WrkResult]] | None = None
    render: dict[str, RenderResult] | None = None
    render_summary: dict[str, object] | None = None


def build_document(args: argparse.Namespace, outcome: Outcome) -> dict[str, object]:
    assert outcome.corpus is not None
    assert outcome.imported is not None
    http, render = outcome.http, outcome.render
    document: dict[str, object] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**outcome.machine, "load_average_at_end": machine()["load_average"]},
        "versions": versions(),
        "settings": {
            "posts": args.posts,
            "seed": args.seed,
            "wrk_threads": args.threads,
            "wrk_connections": args.connections,
            "wrk_seconds": args.duration,
            "wrk_warmup_seconds": args.warmup,
            "render_budget_seconds": args.render_seconds,
            "quick": args.quick,
        },
        "corpus": {**outcome.corpus.stats, "generate_seconds": outcome.generate_seconds},
        "import": outcome.imported.as_dict(),
        "http": None,
        "render": None,
    }
    if http is not None:
        document["http"] = {
            "pages": {target.name: target.path for target in outcome.targets},
            "servers": {
                name: {page: result.as_dict() for page, result in pages.items()}
                for name, pages in http.items()
            },
            "ratio_granian_to_uvicorn": server_ratios(http, "uvicorn", "granian"),
        }
    if render is not None:
        document["render"] = {
            "renderers": {name: result.as_dict() for name, result in render.items()},
            **(outcome.render_summary or {}),
        }
    document["total_seconds"] = time.perf_counter() - outcome.started
    return document


def run(args: argparse.Namespace) -> int:
    outcome = Outcome(started=time.perf_counter(), machine=machine())
    info = outcome.machine
    say(
        f"Masthead benchmarks: {args.posts} posts; {info['cpus']} CPUs ({info['cpu_model']}); "
        f"Python {info['python']}; {info['wrk']}"
    )
    load = os.getloadavg()[0]
    if load > 0.5:
        say(
            f"WARNING: load average {load:.2f} before the run: other work on this machine "
            "will lower every figure"
        )
    workdir = Path(tempfile.mkdtemp(prefix="masthead-bench-"))
    try:
        outcome.corpus, outcome.generate_seconds = run_corpus(args, workdir)
        outcome.imported = imported = run_import(args, workdir, outcome.corpus)
        outcome.targets = choose_targets(outcome.corpus)
        outcome.http = run_http(args, workdir, outcome.targets)
        outcome.render = run_render(args, outcome.corpus)
        section("Summary")
        say(
            f"Import: {args.posts} posts in {imported.import_seconds:.2f} s = "
            f"{imported.posts_per_second:.0f} posts/s ({imported.posts_per_second_net:.0f} "
            "posts/s without process start-up)"
        )
        if outcome.http:
            say()
            summary_http(outcome.http, outcome.targets)
        if outcome.render:
            say()
            outcome.render_summary = summary_render(outcome.render)
        document = build_document(args, outcome)
        write_json(document, args.output)
        say()
        say(f"Whole run: {document['total_seconds']:.0f} s. JSON: {args.output}")
    finally:
        if args.keep:
            say(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(args)
    except KeyboardInterrupt:
        say("\ninterrupted: every server this run started has been stopped")
        return 130
    except RuntimeError as error:
        say(f"\nbenchmark failed: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
