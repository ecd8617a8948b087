"""Live serving near the limit (issue 12): the render cache against a bare ASGI app and nginx.

    python -m bench.live_serving [--posts 1000,10000] [--duration 5] [--publishes 100]

For each site size (env `N` adds its size; `LIVE_POSTS` replaces the list), a corpus is
imported into a scratch SQLite database and, side by side in one run, on the same pages
(the index, the busiest tag's first page and its last page, an author page, the median
post), `wrk -t2 -c64` loads:

* `masthead serve` with the render cache, as shipped (request log, metrics, security
  headers, request id all on);
* a bare ASGI app returning the same bytes on the same server (`bench.bare_asgi`);
* Debian's nginx, one worker, serving the same bytes from files (own config and prefix in
  a temp dir, on loopback).

Then with the cache off: CPU time per listing (the server process's user + system time
over a one-connection run, divided by its requests) and requests/s at 1 and at 64
connections. Last, two server processes on one database: a publish through one, and the
time until the other serves it on each affected page polled (the index and the post).
The table at the end says of each goal its figure and met / missed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.corpus import Corpus, generate_corpus
from bench.publish_latency import _site as import_site
from bench.servers import free_port, running_process
from bench.wrk import WrkResult, run_wrk, wrk_path

HOST = "127.0.0.1"
PAGE_SIZE = 9
CPU_TICKS = os.sysconf("SC_CLK_TCK")
BODY = " ".join(f"Paragraph {n} says what changed, and why it matters now." for n in range(12))


@dataclass(frozen=True)
class Target:
    name: str
    path: str


@dataclass
class SizeRun:
    posts: int
    targets: list[Target] = field(default_factory=list)
    cached: dict[str, WrkResult] = field(default_factory=dict)
    bare: dict[str, WrkResult] = field(default_factory=dict)
    nginx: dict[str, WrkResult] = field(default_factory=dict)
    cpu_ms: dict[str, float] = field(default_factory=dict)
    one: dict[str, WrkResult] = field(default_factory=dict)
    many: dict[str, WrkResult] = field(default_factory=dict)
    cpu_growth: dict[str, float] = field(default_factory=dict)
    """The server's CPU per request at 64 connections over that at one: a storm's own cost."""
    visible: list[float] = field(default_factory=list)
    memory_bytes: int = 0
    cached_pages: int = 0


def say(text: str) -> None:
    print(text, flush=True)


# --- processes ---------------------------------------------------------------------------


def process(
    command: list[str], env: dict[str, str], cwd: Path, log: str, base: str
) -> AbstractContextManager[int]:
    return running_process(command, env, cwd, cwd / log, base)


def serve(
    env: dict[str, str], cwd: Path, port: int, log: str, **more: str
) -> AbstractContextManager[int]:
    command = [*_masthead(), "serve", "--host", HOST, "--port", str(port), "--no-worker"]
    return process(command, {**env, **more}, cwd, log, f"http://{HOST}:{port}")


def _masthead() -> list[str]:
    script = Path(sys.executable).with_name("masthead")
    return [str(script)] if script.exists() else [sys.executable, "-m", "masthead.cli.main"]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CPU_TICKS


# --- the site ------------------------------------------------------------------------------


def build_site(env: dict[str, str], workdir: Path, posts: int) -> tuple[Corpus, str]:
    """The corpus imported (as the publish-latency bench does), and an admin's token."""
    token, seconds = import_site(env, workdir, posts)
    say(f"  imported {posts:,} posts in {seconds:.1f} s")
    return generate_corpus(posts), token


def targets_of(corpus: Corpus) -> list[Target]:
    published = sorted(corpus.published, key=lambda post: post.date)
    tags = Counter(tag for post in published for tag in post.tags)
    busiest, count = tags.most_common(1)[0]
    authors = Counter(post.author for post in published)
    author = authors.most_common()[len(authors) // 2][0]
    last = max(1, -(-count // PAGE_SIZE))
    deep = f"/tag/{busiest}/page/{last}/" if last > 1 else f"/tag/{busiest}/"
    return [
        Target("index", "/"),
        Target("tag", f"/tag/{busiest}/"),
        Target("deep tag", deep),
        Target("author", f"/author/{author}/"),
        Target("post", f"/posts/{published[len(published) // 2].slug}/"),
    ]


def write_pages(base: str, targets: list[Target], folder: Path) -> None:
    """The pages' bytes as files (for nginx and the bare app), fetched from Masthead."""
    manifest = {}
    for number, target in enumerate(targets):
        response = httpx.get(base + target.path, timeout=30)
        response.raise_for_status()
        file = f"page{number}.html"
        (folder / file).write_bytes(response.content)
        on_disk = folder / "root" / target.path.lstrip("/") / "index.html"
        on_disk.parent.mkdir(parents=True, exist_ok=True)
        on_disk.write_bytes(response.content)
        manifest[target.path] = [file, response.headers["content-type"]]
    (folder / "pages.json").write_text(json.dumps(manifest), encoding="utf-8")


NGINX_CONF = """\
worker_processes 1;
user root;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type text/html;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {prefix}/tmp;
    proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp;
    scgi_temp_path {prefix}/tmp;
    server {{
        listen {host}:{port};
        root {root};
        location = /healthz {{ return 200 "ok\\n"; }}
    }}
}}
"""


def nginx(folder: Path, port: int) -> AbstractContextManager[int]:
    prefix = folder / "nginx"
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(prefix=prefix, host=HOST, port=port, root=folder / "root"),
        encoding="utf-8",
    )
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    command = [binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"]
    return process(command, dict(os.environ), folder, "nginx.log", f"http://{HOST}:{port}")


# --- measurements --------------------------------------------------------------------------


def load(
    base: str, targets: list[Target], seconds: float, connections: int = 64
) -> dict[str, WrkResult]:
    found = {}
    for target in targets:
        run_wrk(base + target.path, seconds=1, threads=2, connections=connections)  # warm-up
        found[target.name] = run_wrk(
            base + target.path, seconds=seconds, threads=2, connections=connections
        )
    return found


def uncached(run: SizeRun, env: dict[str, str], workdir: Path, seconds: float) -> None:
    port = free_port()
    base = f"http://{HOST}:{port}"
    listings = [target for target in run.targets if target.name != "post"]
    with serve(env, workdir, port, "uncached.log", MASTHEAD_RENDER_CACHE_BYTES="0") as pid:
        for target in run.targets:
            run_wrk(base + target.path, seconds=1, threads=1, connections=1)
            before = cpu_seconds(pid)
            one = run_wrk(base + target.path, seconds=seconds, threads=1, connections=1)
            used = cpu_seconds(pid) - before
            run.one[target.name] = one
            if target in listings:
                run.cpu_ms[target.name] = used / max(one.requests, 1) * 1000
            before = cpu_seconds(pid)
            many = run_wrk(base + target.path, seconds=seconds, threads=2, connections=64)
            used_many = cpu_seconds(pid) - before
            run.many[target.name] = many
            run.cpu_growth[target.name] = (used_many / max(many.requests, 1)) / (
                used / max(one.requests, 1)
            )


def visibility(
    run: SizeRun, env: dict[str, str], workdir: Path, token: str, publishes: int
) -> None:
    """Publish through one process; time until the other shows it on the index and its page."""
    one_port, other_port = free_port(), free_port()
    one, other = f"http://{HOST}:{one_port}", f"http://{HOST}:{other_port}"
    headers = {"X-Masthead-Edge": env["MASTHEAD_EDGE_SECRETS"], "Authorization": f"Bearer {token}"}
    with (
        serve(env, workdir, one_port, "one.log"),
        serve(env, workdir, other_port, "other.log"),
        httpx.Client(base_url=f"{one}/api/v1", headers=headers, timeout=60) as api,
        httpx.Client(base_url=other, timeout=10) as reader,
    ):
        for number in range(publishes):
            title = f"Seen elsewhere {number} {secrets.token_hex(3)}"
            reader.get("/")  # the other's index is cached
            draft = api.post("/posts", json={"title": title, "body": BODY})
            draft.raise_for_status()
            published = api.post(
                f"/posts/{draft.json()['id']}/publish", headers={"If-Match": draft.headers["etag"]}
            )
            published.raise_for_status()
            committed = time.perf_counter()
            paths = ["/", f"/posts/{draft.json()['slug']}/"]
            while paths:
                response = reader.get(paths[0])
                if response.status_code == 200 and title in response.text:
                    paths.pop(0)
                elif time.perf_counter() - committed > 30:
                    raise RuntimeError(f"{paths[0]} never showed {title!r}")
                else:
                    time.sleep(0.002)
            run.visible.append(time.perf_counter() - committed)


def site_pages(corpus: Corpus) -> int:
    """How many pages the site has: posts, every listing's pages, feeds and the rest."""
    published = corpus.published
    listings = [len(published)]
    listings += Counter(tag for post in published for tag in post.tags).values()
    listings += Counter(post.author for post in published).values()
    return len(published) + sum(-(-count // PAGE_SIZE) for count in listings) + len(listings) + 3


def cache_memory(run: SizeRun, corpus: Corpus, base: str, env: dict[str, str], token: str) -> None:
    """Fill the cache with a sample of pages; from its bytes per entry, the whole site's."""
    published = corpus.published
    sample = [f"/posts/{post.slug}/" for post in published[:: max(1, len(published) // 200)]]
    sample += [f"/page/{number}/" for number in range(2, min(50, len(published) // PAGE_SIZE))]
    with httpx.Client(base_url=base, timeout=30) as client:
        for path in sample:
            client.get(path)
        headers = {
            "X-Masthead-Edge": env["MASTHEAD_EDGE_SECRETS"],
            "Authorization": f"Bearer {token}",
        }
        text = client.get("/api/v1/metrics", headers=headers).text
    figures = {
        line.split("{")[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("masthead_render_cache_")
    }
    entries = max(figures.get("masthead_render_cache_entries", 0.0), 1.0)
    per_entry = figures.get("masthead_render_cache_bytes", 0.0) / entries
    run.cached_pages = site_pages(corpus)
    run.memory_bytes = int(per_entry * run.cached_pages)
    say(
        f"  render cache: {per_entry / 1024:.1f} KiB a page; the whole site "
        f"({run.cached_pages:,} pages) {run.memory_bytes / 2**20:.0f} MiB"
    )


def measure(posts: int, seconds: float, publishes: int) -> SizeRun:
    run = SizeRun(posts)
    with tempfile.TemporaryDirectory(prefix="masthead-live-") as tmp:
        workdir = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
        env |= {
            "MASTHEAD_DATABASE_URL": f"sqlite:///{workdir / 'live.db'}",
            "MASTHEAD_EDGE_SECRETS": secrets.token_urlsafe(36),
            "MASTHEAD_RATE_LIMIT_PER_MINUTE": "0",
            "MASTHEAD_CONFIG": str(workdir / "masthead.toml"),
            "MASTHEAD_PUBLIC_URL": "http://blog.example.test",
        }
        corpus, token = build_site(env, workdir, posts)
        run.targets = targets_of(corpus)
        say("  pages: " + ", ".join(f"{t.name} {t.path}" for t in run.targets))
        port = free_port()
        base = f"http://{HOST}:{port}"
        with serve(env, workdir, port, "cached.log"):
            write_pages(base, run.targets, workdir)
            run.cached = load(base, run.targets, seconds)
            _report("cached", run.cached)
            cache_memory(run, corpus, base, env, token)
        bare_port = free_port()
        bare = [sys.executable, "-m", "bench.bare_asgi", "--port", str(bare_port), "--pages", tmp]
        first = f"http://{HOST}:{bare_port}"
        bare_env = {**env, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        with process(bare, bare_env, workdir, "bare.log", first):
            run.bare = load(f"http://{HOST}:{bare_port}", run.targets, seconds)
            _report("bare", run.bare)
        nginx_port = free_port()
        with nginx(workdir, nginx_port):
            run.nginx = load(f"http://{HOST}:{nginx_port}", run.targets, seconds)
            _report("nginx", run.nginx)
        uncached(run, env, workdir, seconds)
        _report("uncached 1", run.one)
        _report("uncached 64", run.many)
        say("  uncached CPU per listing: " + _join(run.cpu_ms, "ms"))
        say("  uncached CPU per request, 64 connections over 1: " + _join(run.cpu_growth, "×"))
        visibility(run, env, workdir, token, publishes)
        say(
            f"  publish visible elsewhere: p50 {_p(run.visible, 0.5):.3f} s, "
            f"p99 {_p(run.visible, 0.99):.3f} s"
        )
    return run


def _join(values: dict[str, float], unit: str) -> str:
    return ", ".join(f"{name} {value:.2f} {unit}" for name, value in values.items())


def _report(label: str, results: dict[str, WrkResult]) -> None:
    for name, result in results.items():
        errors = result.non_2xx_3xx + result.socket_errors
        say(
            f"  {label:12} {name:9} {result.requests_per_second:9.0f} req/s  "
            f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms"
            + (f"  ERRORS {errors}" if errors else "")
        )


def _p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


# --- the goals -----------------------------------------------------------------------------


def goals(run: SizeRun) -> list[tuple[str, str, bool]]:
    def ratio(top: dict[str, WrkResult], bottom: dict[str, WrkResult]) -> float:
        return min(
            top[name].requests_per_second / max(bottom[name].requests_per_second, 1e-9)
            for name in top
        )

    size = f"{run.posts:,} posts"
    bare = ratio(run.cached, run.bare)
    versus_nginx = ratio(run.cached, run.nginx)
    p99 = max(result.p99_ms for result in run.cached.values())
    cpu = max(run.cpu_ms.values()) if run.cpu_ms else float("nan")
    storm = min(
        run.many[name].requests_per_second / max(run.one[name].requests_per_second, 1e-9)
        for name in run.one
    )
    visible = _p(run.visible, 0.99)
    return [
        (f"{size}: cached ≥ 0.8× bare ASGI (worst page)", f"{bare:.2f}×", bare >= 0.8),
        (
            f"{size}: cached ≥ 0.5× nginx (stretch; worst page)",
            f"{versus_nginx:.2f}×",
            versus_nginx >= 0.5,
        ),
        (f"{size}: cached p99 < 15 ms (worst page)", f"{p99:.2f} ms", p99 < 15),
        (f"{size}: uncached CPU per listing ≤ 1 ms (worst)", f"{cpu:.2f} ms", cpu <= 1.0),
        (f"{size}: uncached 64 conns within 20 % of 1 (worst)", f"{storm:.2f}×", storm >= 0.8),
        (
            f"{size}: publish visible in the other process p99 < 1 s",
            f"{visible:.3f} s",
            visible < 1.0,
        ),
    ]


def table(runs: list[SizeRun]) -> str:
    lines = ["| goal | figure | met |", "| --- | ---: | --- |"]
    for run in runs:
        for goal, figure, met in goals(run):
            lines.append(f"| {goal} | {figure} | {'met' if met else 'MISSED'} |")
    pages = ["", "| posts | page | cached req/s | bare req/s | nginx req/s | cached p99 ms |"]
    pages.append("| ---: | --- | ---: | ---: | ---: | ---: |")
    for run in runs:
        for target in run.targets:
            cached, bare, fast = (
                run.cached[target.name],
                run.bare[target.name],
                run.nginx[target.name],
            )
            pages.append(
                f"| {run.posts:,} | {target.name} | {cached.requests_per_second:,.0f} "
                f"| {bare.requests_per_second:,.0f} | {fast.requests_per_second:,.0f} "
                f"| {cached.p99_ms:.2f} |"
            )
    memory = ["", "| posts | site pages | render cache for all of them | per 10,000 posts |"]
    memory.append("| ---: | ---: | ---: | ---: |")
    for run in runs:
        per = run.memory_bytes * 10_000 / max(run.posts, 1)
        memory.append(
            f"| {run.posts:,} | {run.cached_pages:,} | {run.memory_bytes / 2**20:.0f} MiB "
            f"| {per / 2**20:.0f} MiB |"
        )
    return "\n".join(lines + pages + memory)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.live_serving", description=__doc__.splitlines()[0]
    )
    sizes = os.environ.get("LIVE_POSTS") or ",".join(
        sorted({"1000", os.environ.get("N", "1000")}, key=int)
    )
    parser.add_argument(
        "--posts", default=sizes, help="site sizes, comma-separated (env LIVE_POSTS, N)"
    )
    parser.add_argument("--duration", type=float, default=float(os.environ.get("DURATION", 5)))
    parser.add_argument("--publishes", type=int, default=100)
    options = parser.parse_args(argv)
    if wrk_path() is None:
        say("wrk is missing (make bench-deps): no live-serving figures")
        return 0
    runs = []
    for size in (int(value) for value in options.posts.split(",")):
        say(f"live serving, {size:,} posts")
        runs.append(measure(size, options.duration, options.publishes))
        say(table(runs[-1:]))  # each size's goals as soon as they are measured
    if len(runs) > 1:
        say(table(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
