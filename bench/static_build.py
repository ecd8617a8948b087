"""`python -m bench.static_build`: `masthead build` against Hugo and Pelican, same corpus.

For each size (1,000 and 10,000 posts by default) it generates the corpus, imports it
into a fresh SQLite file, and measures: a full `masthead build --jobs 2` (pages/s, peak
resident memory of the whole process tree); an incremental build after a one-post body
edit and after a new post; and a full Hugo build of the same posts with the minimal
theme in `bench/hugo_theme/` (the same kinds of pages). Hugo is installed with apt-get
when it is missing and the user is root. Pelican 4.12 builds the same posts, written as
Pelican Markdown, with the minimal theme in `bench/pelican_theme/`; it is installed from
PyPI into the bench's own virtual environment, `bench/.pelican-venv` (never the
project's). It prints the figures side by side, then every goal with its figure and
met / missed.

At 1,000 posts on the shared 2-core machine (load average 1.1; docs/benchmarks.md):
masthead 2,351 pages in 3.11 s (757 pages/s, 275 MiB peak), Hugo 1,407 in 0.87 s
(1,624 pages/s, 221 MiB), Pelican 1,388 in 4.26 s (326 pages/s, 54 MiB): 0.47× Hugo's
pages/s (goal 1.5×, missed) and 2.32× Pelican's (goal 15×, missed). Masthead's count is
every file it writes, Markdown twins included; its .html and .xml files are 1,407.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.corpus import Corpus, generate_corpus, write_corpus
from bench.importing import masthead_command, masthead_env
from bench.report import format_table, write_json

THEME = Path(__file__).resolve().parent / "hugo_theme"
PELICAN_THEME = Path(__file__).resolve().parent / "pelican_theme"
PELICAN_VENV = Path(__file__).resolve().parent / ".pelican-venv"
PELICAN_REQUIREMENTS = ("pelican==4.12.*", "markdown")
RESULTS = Path(__file__).resolve().parent / "results" / "static_build.json"
SAMPLE_SECONDS = 0.02


@dataclass
class Run:
    seconds: float
    peak_rss: int  # bytes, summed over the process tree at its largest
    output: str


@dataclass
class SizeResult:
    posts: int
    masthead_pages: int = 0
    masthead: Run | None = None
    edit: dict[str, Any] = field(default_factory=dict)
    new_post: dict[str, Any] = field(default_factory=dict)
    hugo_pages: int = 0
    hugo: Run | None = None
    pelican_pages: int = 0
    pelican: Run | None = None


# --- measuring a process tree --------------------------------------------------------


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants, from /proc."""
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    pending += [int(child) for child in children.read().split()]
        except (OSError, ValueError):
            continue
    return total


def measure(command: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Wall time and peak memory of one command (and every process it starts)."""
    began = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0

    def sample() -> None:
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - began
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{stderr[-3000:]}")
    return Run(seconds, peak, stdout)


# --- Masthead ------------------------------------------------------------------------


def _masthead(args: list[str], env: dict[str, str], cwd: Path) -> Run:
    return measure([*masthead_command(), *args], env, cwd)


def _load(corpus: Corpus, work: Path) -> dict[str, str]:
    folder = write_corpus(corpus, work / "corpus")
    env = masthead_env(work / "masthead.db", work)
    _masthead(["init"], env, work)
    _masthead(["import", str(folder), "--json"], env, work)
    return env


def _edit_and_publish(env: dict[str, str], work: Path, script: str) -> None:
    """Change the site through Masthead's own use cases, in a process of its own."""
    subprocess.run([sys.executable, "-c", script], env=env, cwd=work, check=True)


EDIT = """
from masthead.actions.drafts import PostFields, edit_post
from masthead.actions.publishing import publish_post
from masthead.cli.context import open_database, operator_call
from masthead.store.engine import reading, writing
from masthead.store.public import live_slugs
engine = open_database()
with reading(engine) as connection:
    post_id = sorted(live_slugs(connection))[len(live_slugs(connection)) // 2]
with writing(engine) as connection:
    fields = PostFields(body="An edited body, in a paragraph of its own.\\n\\n" * 40)
    post = edit_post(connection, operator_call(), post_id, fields)
    publish_post(connection, operator_call(), post.id)
"""

NEW_POST = """
from masthead.actions.drafts import PostFields, create_post
from masthead.actions.publishing import publish_post
from masthead.cli.context import open_database, operator_call
from masthead.store.engine import writing
from masthead.store.staff import list_staff
engine = open_database()
with writing(engine) as connection:
    author = list_staff(connection)[0].slug
    fields = PostFields(title="A brand new post", dek="New.", body="Fresh words. " * 300,
                        tags=("operations",), authors=(author,))
    post = create_post(connection, operator_call(), fields)
    publish_post(connection, operator_call(), post.id)
"""


def _incremental(env: dict[str, str], work: Path, script: str, jobs: int) -> dict[str, Any]:
    _edit_and_publish(env, work, script)
    out = str(work / "out")
    run = _masthead(
        ["build", "--out", out, "--incremental", "--jobs", str(jobs), "--json"], env, work
    )
    summary = json.loads(run.output)
    return {
        "build_seconds": summary["seconds"],
        "wall_seconds": round(run.seconds, 3),
        "rendered": summary["rendered"],
        "reused": summary["reused"],
    }


def bench_masthead(result: SizeResult, corpus: Corpus, work: Path, jobs: int) -> None:
    env = _load(corpus, work)
    out = work / "out"
    run = _masthead(["build", "--out", str(out), "--jobs", str(jobs), "--json"], env, work)
    result.masthead, result.masthead_pages = run, json.loads(run.output)["pages"]
    result.edit = _incremental(env, work, EDIT, jobs)
    result.new_post = _incremental(env, work, NEW_POST, jobs)


# --- Hugo ----------------------------------------------------------------------------


def hugo_path() -> str | None:
    found = shutil.which("hugo")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        install = ["apt-get", "install", "-y", "-q", "hugo"]
        if subprocess.run(install, capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
            subprocess.run(install, capture_output=True, check=False)
        found = shutil.which("hugo")
    return found


HUGO_CONFIG = """
baseURL = "https://bench.example.test/"
title = "Masthead bench"
theme = "hugo_theme"
themesDir = "{themes}"
disableKinds = ["section", "taxonomy"]
ignoreErrors = ["error-disable-taxonomy"]
enableRobotsTXT = true
rssLimit = 20
paginate = 9
[taxonomies]
  tag = "tags"
  author = "authors"
[permalinks]
  posts = "/posts/:slug/"
  tags = "/tag/:slug/"
  authors = "/author/:slug/"
[outputs]
  home = ["HTML", "RSS"]
  term = ["HTML", "RSS"]
[outputFormats.RSS]
  baseName = "feed"
[markup.goldmark.renderer]
  unsafe = true
"""


def _hugo_site(corpus: Corpus, work: Path) -> Path:
    site = work / "hugo"
    posts = site / "content" / "posts"
    posts.mkdir(parents=True)
    (site / "config.toml").write_text(HUGO_CONFIG.format(themes=THEME.parent), encoding="utf-8")
    for post in corpus.posts:
        front = {
            "title": post.title,
            "slug": post.slug,
            "date": post.date.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "tags": list(post.tags),
            "authors": [post.author],
            "dek": post.dek,
            "draft": post.status != "published",
        }
        text = "---\n" + json.dumps(front, ensure_ascii=False) + "\n---\n\n" + post.body
        (posts / f"{post.slug}.md").write_text(text, encoding="utf-8")
    return site


def bench_hugo(result: SizeResult, corpus: Corpus, work: Path, hugo: str) -> None:
    site = _hugo_site(corpus, work)
    run = measure([hugo, "--quiet", "--destination", "public"], dict(os.environ), site)
    public = site / "public"
    result.hugo = run
    result.hugo_pages = sum(1 for path in public.rglob("*") if path.suffix in {".html", ".xml"})


# --- Pelican -------------------------------------------------------------------------


def pelican_path() -> str | None:
    """The `pelican` command of the bench's own environment, made when it is missing."""
    command = PELICAN_VENV / "bin" / "pelican"
    if not command.exists():
        python = PELICAN_VENV / "bin" / "python"
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(PELICAN_VENV)], capture_output=True, check=False
        )
        if made.returncode == 0:
            install = [str(python), "-m", "pip", "install", "-q", *PELICAN_REQUIREMENTS]
            subprocess.run(install, capture_output=True, check=False)
    return str(command) if command.exists() else None


PELICAN_CONFIG = """
AUTHOR = "Masthead bench"
SITENAME = "Masthead bench"
SITEURL = "https://bench.example.test"
FEED_DOMAIN = SITEURL
PATH = "content"
THEME = {theme!r}
THEME_STATIC_PATHS = []
STATIC_PATHS = []
PAGE_PATHS = []
ARTICLE_PATHS = ["posts"]
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_PAGINATION = 9
PAGINATION_PATTERNS = (
    (1, "{{url}}", "{{save_as}}"),
    (2, "{{base_name}}/page/{{number}}/", "{{base_name}}/page/{{number}}/index.html"),
)
ARTICLE_URL = "posts/{{slug}}/"
ARTICLE_SAVE_AS = "posts/{{slug}}/index.html"
DRAFT_SAVE_AS = ""
TAG_URL = "tag/{{slug}}/"
TAG_SAVE_AS = "tag/{{slug}}/index.html"
AUTHOR_URL = "author/{{slug}}/"
AUTHOR_SAVE_AS = "author/{{slug}}/index.html"
CATEGORY_SAVE_AS = ""
DIRECT_TEMPLATES = ["index", "sitemap"]
SITEMAP_SAVE_AS = "sitemap.xml"
TAGS_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
TEMPLATE_PAGES = {{{robots!r}: "robots.txt", {missing!r}: "404.html"}}
FEED_ALL_ATOM = "feed.xml"
TAG_FEED_ATOM = "tag/{{slug}}/feed.xml"
AUTHOR_FEED_ATOM = "author/{{slug}}/feed.xml"
AUTHOR_FEED_RSS = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
FEED_MAX_ITEMS = 20
SUMMARY_MAX_LENGTH = None
"""


def _pelican_text(value: str) -> str:
    """A value on one line, as a Pelican metadata line needs."""
    return " ".join(value.split())


def _pelican_site(corpus: Corpus, work: Path) -> Path:
    site = work / "pelican"
    posts = site / "content" / "posts"
    posts.mkdir(parents=True)
    config = PELICAN_CONFIG.format(
        theme=str(PELICAN_THEME),
        robots=str(PELICAN_THEME / "pages" / "robots.txt"),
        missing=str(PELICAN_THEME / "pages" / "404.html"),
    )
    (site / "pelicanconf.py").write_text(config, encoding="utf-8")
    for post in corpus.posts:
        metadata = [
            f"Title: {_pelican_text(post.title)}",
            f"Date: {post.date.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S')}",
            f"Tags: {', '.join(_pelican_text(tag) for tag in post.tags)}",
            f"Authors: {_pelican_text(post.author)}",
            f"Slug: {post.slug}",
            f"Summary: {_pelican_text(post.dek)}",
            "Category: posts",
            f"Status: {'published' if post.status == 'published' else 'draft'}",
        ]
        text = "\n".join(metadata) + "\n\n" + post.body
        (posts / f"{post.slug}.md").write_text(text, encoding="utf-8")
    return site


def bench_pelican(result: SizeResult, corpus: Corpus, work: Path, pelican: str) -> None:
    site = _pelican_site(corpus, work)
    command = [pelican, "content", "--settings", "pelicanconf.py", "--output", "public", "-q"]
    run = measure(command, dict(os.environ), site)
    public = site / "public"
    result.pelican = run
    result.pelican_pages = sum(1 for path in public.rglob("*") if path.suffix in {".html", ".xml"})


# --- the report ------------------------------------------------------------------------


def _rate(pages: int, run: Run | None) -> float:
    return pages / run.seconds if run else 0.0


def _mib(run: Run | None) -> float:
    return run.peak_rss / 2**20 if run else 0.0


def goals(results: list[SizeResult]) -> list[tuple[str, str, bool | None]]:
    found: list[tuple[str, str, bool | None]] = []
    for result in results:
        ours, theirs = _rate(result.masthead_pages, result.masthead), 0.0
        if result.hugo:
            theirs = _rate(result.hugo_pages, result.hugo)
        want = 3.0 if result.posts >= 10_000 else 1.5
        ratio = ours / theirs if theirs else 0.0
        met = ratio >= want if theirs else None
        found.append((f"{result.posts} posts: ≥ {want}× Hugo's pages/s", f"{ratio:.2f}×", met))
        if result.posts >= 10_000:
            memory = _mib(result.masthead) / _mib(result.hugo) if result.hugo else 0.0
            found.append(
                ("10000 posts: peak memory ≤ 1/3 of Hugo's", f"{memory:.2f}×", memory <= 1 / 3)
            )
            edit, new = result.edit["build_seconds"], result.new_post["build_seconds"]
            found.append(("10000 posts: one-post edit live < 0.5 s", f"{edit:.2f} s", edit < 0.5))
            found.append(("10000 posts: new post live < 2 s", f"{new:.2f} s", new < 2.0))
        pelican = _rate(result.pelican_pages, result.pelican)
        versus = ours / pelican if pelican else 0.0
        found.append((
            f"{result.posts} posts: ≥ 15× Pelican's pages/s",
            f"{versus:.2f}×" if pelican else "not measured (--no-pelican or not installed)",
            versus >= 15.0 if pelican else None,
        ))  # fmt: skip
    return found


def report(results: list[SizeResult]) -> str:
    rows = []
    for result in results:
        rows.append([
            f"{result.posts}", "masthead", f"{result.masthead_pages}",
            f"{result.masthead.seconds:.2f}" if result.masthead else "-",
            f"{_rate(result.masthead_pages, result.masthead):.0f}", f"{_mib(result.masthead):.0f}",
        ])  # fmt: skip
        rows.append([
            f"{result.posts}", "hugo", f"{result.hugo_pages}",
            f"{result.hugo.seconds:.2f}" if result.hugo else "-",
            f"{_rate(result.hugo_pages, result.hugo):.0f}", f"{_mib(result.hugo):.0f}",
        ])  # fmt: skip
        rows.append([
            f"{result.posts}", "pelican", f"{result.pelican_pages}",
            f"{result.pelican.seconds:.2f}" if result.pelican else "-",
            f"{_rate(result.pelican_pages, result.pelican):.0f}", f"{_mib(result.pelican):.0f}",
        ])  # fmt: skip
    table = format_table(
        ["posts", "builder", "pages", "seconds", "pages/s", "peak MiB"], rows, (0, 2, 3, 4, 5)
    )
    lines = [table, ""]
    for result in results:
        for name, figures in (("one-post edit", result.edit), ("new post", result.new_post)):
            seconds = figures["build_seconds"]
            lines.append(
                f"{result.posts} posts, incremental after a {name}: build {seconds} s "
                f"(process {figures['wall_seconds']} s), {figures['rendered']} rendered, "
                f"{figures['reused']} reused"
            )
    lines.append("")
    for name, figure, met in goals(results):
        verdict = "n/a" if met is None else ("met" if met else "missed")
        lines.append(f"{verdict:>6}  {name}: {figure}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.static_build")
    parser.add_argument("--posts", default="1000,10000", help="corpus sizes, comma-separated")
    parser.add_argument("--jobs", type=int, default=2, help="processes for masthead's build")
    parser.add_argument("--no-hugo", action="store_true", help="skip the Hugo builds")
    parser.add_argument("--no-pelican", action="store_true", help="skip the Pelican builds")
    args = parser.parse_args(argv)
    hugo = None if args.no_hugo else hugo_path()
    if hugo is None and not args.no_hugo:
        print("hugo is missing and could not be installed: its figures are skipped")
    pelican = None if args.no_pelican else pelican_path()
    if pelican is None and not args.no_pelican:
        print("pelican is missing and could not be installed: its figures are skipped")
    load = os.getloadavg()[0]
    if load > 1.0:
        print(f"warning: load average {load:.1f}: other work on the machine lowers every figure")
    results = []
    for posts in (int(size) for size in args.posts.split(",")):
        result = SizeResult(posts)
        corpus = generate_corpus(posts)
        with tempfile.TemporaryDirectory(prefix="masthead-static-bench-") as folder:
            work = Path(folder)
            bench_masthead(result, corpus, work, args.jobs)
            if hugo:
                bench_hugo(result, corpus, work, hugo)
            if pelican:
                bench_pelican(result, corpus, work, pelican)
        results.append(result)
        print(f"{posts} posts done", flush=True)
    print(report(results))
    write_json(
        {
            "at": datetime.now(UTC).isoformat(),
            "load_average": [round(value, 2) for value in os.getloadavg()],
            "results": [
                {
                    "posts": result.posts,
                    "masthead": {
                        "pages": result.masthead_pages,
                        "seconds": result.masthead.seconds if result.masthead else None,
                        "peak_rss": result.masthead.peak_rss if result.masthead else None,
                    },
                    "hugo": {
                        "pages": result.hugo_pages,
                        "seconds": result.hugo.seconds if result.hugo else None,
                        "peak_rss": result.hugo.peak_rss if result.hugo else None,
                    },
                    "pelican": {
                        "pages": result.pelican_pages,
                        "seconds": result.pelican.seconds if result.pelican else None,
                        "peak_rss": result.pelican.peak_rss if result.pelican else None,
                    },
                    "incremental_edit": result.edit,
                    "incremental_new_post": result.new_post,
                }
                for result in results
            ],
        },
        RESULTS,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
