"""Import at scale: `python -m bench.migrating [--posts N …] [--format F]`.

Writes the bench corpus (`bench.corpus`, the same posts as `make bench`) as a Jekyll site,
a Hugo section, a Ghost export, a WordPress WXR file and a Masthead folder, then times
`masthead import PATH --from FORMAT --create-missing --json` (and `masthead import DIR
--json`) on fresh SQLite files, each as a whole process, with its peak resident memory
(its own `ru_maxrss`, read by a small launcher: see `_LAUNCHER`). 1,000 posts by
default; `--posts 10000 --posts 100000` for the large runs (not part of `make bench`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.corpus import Corpus, generate_corpus, write_corpus
from bench.importing import masthead_command, masthead_env

__all__ = [
    "PEAK_GOAL_MB",
    "ScaleResult",
    "measure",
    "summary_line",
    "write_ghost_export",
    "write_hugo_site",
    "write_jekyll_site",
    "write_wxr",
]


@dataclass(frozen=True)
class ScaleResult:
    format: str
    posts: int
    created: int
    seconds: float
    posts_per_second: float
    peak_rss_mb: float
    redirects: int
    cpu_seconds: float
    """The import process's own CPU time (user + system): steadier than the wall time on
    a machine that runs other work."""


def write_jekyll_site(corpus: Corpus, folder: Path) -> Path:
    """The corpus as a Jekyll site: one `_posts` file per post, authors by key."""
    posts = folder / "_posts"
    posts.mkdir(parents=True, exist_ok=True)
    (folder / "_config.yml").write_text("permalink: /:year/:month/:day/:title/\n", "utf-8")
    authors = "".join(
        f"{member['slug']}:\n  name: {json.dumps(member['name'])}\n" for member in corpus.staff
    )
    (folder / "_data").mkdir(exist_ok=True)
    (folder / "_data" / "authors.yml").write_text(authors, encoding="utf-8")
    for post in corpus.posts:
        meta = {
            "title": post.title,
            "date": post.date.strftime("%Y-%m-%d %H:%M:%S +0000"),
            "author": post.author,
            "tags": list(post.tags),
            "description": post.dek,
            **({"published": False} if post.status == "draft" else {}),
        }
        front = "".join(f"{key}: {json.dumps(value)}\n" for key, value in meta.items())
        name = f"{post.date:%Y-%m-%d}-{post.slug}.md"
        (posts / name).write_text(f"---\n{front}---\n\n{post.body}\n", encoding="utf-8")
    return folder


def measure(
    format_name: str, source: Path, database: Path, workdir: Path, posts: int
) -> ScaleResult:
    env = masthead_env(database, workdir)
    command = masthead_command()
    subprocess.run([*command, "init"], env=env, cwd=workdir, check=True, capture_output=True)
    args = [*command, "import", str(source), "--json"]
    if format_name != "masthead":
        args += ["--from", format_name, "--create-missing"]
    seconds, peak, cpu, out = _timed(args, env, workdir)
    report = json.loads(out)
    created = int(report["posts"]["created"])
    redirects = int(report.get("redirects", {}).get("made", 0))
    rate = posts / seconds
    return ScaleResult(format_name, posts, created, seconds, rate, peak, redirects, cpu)


def write_hugo_site(corpus: Corpus, folder: Path) -> Path:
    """The corpus as a Hugo section: TOML front matter, one file per post."""
    posts = folder / "post"
    posts.mkdir(parents=True, exist_ok=True)
    names = {member["slug"]: member["name"] for member in corpus.staff}
    for post in corpus.posts:
        front = (
            f"title = {json.dumps(post.title)}\ndate = {post.date.isoformat()}\n"
            f"tags = {json.dumps(list(post.tags))}\nauthor = {json.dumps(names[post.author])}\n"
            f"summary = {json.dumps(post.dek)}\ndraft = {str(post.status == 'draft').lower()}\n"
        )
        (posts / f"{post.slug}.md").write_text(f"+++\n{front}+++\n\n{post.body}\n", "utf-8")
    return posts


def _html(body: str) -> str:
    from masthead.content.markdown import render_markdown

    return render_markdown(body).html


def write_ghost_export(corpus: Corpus, folder: Path) -> Path:
    """The corpus as a Ghost JSON export (HTML bodies, posts_tags, posts_authors)."""
    folder.mkdir(parents=True, exist_ok=True)
    tags = [
        {"id": f"t{i}", "name": t["name"], "slug": t["slug"]} for i, t in enumerate(corpus.tags)
    ]
    tag_id = {tag["slug"]: tag["id"] for tag in tags}
    users = [
        {"id": f"u{i}", "name": m["name"], "slug": m["slug"], "bio": m.get("bio", "")}
        for i, m in enumerate(corpus.staff)
    ]
    user_id = {user["slug"]: user["id"] for user in users}
    posts, posts_tags, posts_authors = [], [], []
    for index, post in enumerate(corpus.posts):
        posts.append(
            {
                "id": f"p{index}", "title": post.title, "slug": post.slug, "type": "post",
                "status": "draft" if post.status == "draft" else "published",
                "visibility": "public", "html": _html(post.body),
                "published_at": post.date.isoformat(), "custom_excerpt": post.dek,
            }
        )  # fmt: skip
        posts_tags += [
            {"post_id": f"p{index}", "tag_id": tag_id[slug], "sort_order": order}
            for order, slug in enumerate(post.tags)
        ]
        posts_authors.append({"post_id": f"p{index}", "author_id": user_id[post.author]})
    data = {"posts": posts, "tags": tags, "users": users, "posts_tags": posts_tags,
            "posts_authors": posts_authors}  # fmt: skip
    path = folder / "ghost.json"
    path.write_text(json.dumps({"db": [{"data": data}]}), encoding="utf-8")
    return path


def write_wxr(corpus: Corpus, folder: Path) -> Path:
    """The corpus as a WordPress export (WXR 1.2)."""
    from xml.sax.saxutils import escape

    folder.mkdir(parents=True, exist_ok=True)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">'
        "<channel>"
    ]
    for member in corpus.staff:
        parts.append(
            f"<wp:author><wp:author_login>{member['slug']}</wp:author_login>"
            f"<wp:author_display_name>{escape(member['name'])}</wp:author_display_name></wp:author>"
        )
    for post in corpus.posts:
        terms = "".join(
            f'<category domain="post_tag" nicename="{slug}">{slug}</category>' for slug in post.tags
        )
        html = _html(post.body).replace("]]>", "]]]]><![CDATA[>")
        parts.append(
            f"<item><title>{escape(post.title)}</title>"
            f"<link>https://old.example/{post.date:%Y/%m/%d}/{post.slug}/</link>"
            f"<dc:creator>{post.author}</dc:creator>"
            f"<content:encoded><![CDATA[{html}]]></content:encoded>"
            f"<excerpt:encoded><![CDATA[{post.dek}]]></excerpt:encoded>"
            f"<wp:post_date_gmt>{post.date:%Y-%m-%d %H:%M:%S}</wp:post_date_gmt>"
            f"<wp:post_name>{post.slug}</wp:post_name>"
            f"<wp:status>{'draft' if post.status == 'draft' else 'publish'}</wp:status>"
            f"<wp:post_type>post</wp:post_type>{terms}</item>"
        )
    parts.append("</channel></rss>\n")
    path = folder / "export.xml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


WRITERS = {
    "jekyll": write_jekyll_site,
    "hugo": write_hugo_site,
    "ghost": write_ghost_export,
    "wordpress": write_wxr,
    "masthead": write_corpus,
}


PEAK_GOAL_MB = 500.0
"""Issue 17: an import of 100,000 posts stays under 500 MB peak resident memory."""


def summary_line(result: ScaleResult) -> str:
    """One run: its time, rate, CPU, and its peak memory against the goal (met/missed)."""
    peak = result.peak_rss_mb
    verdict = "met" if peak < PEAK_GOAL_MB else "missed"
    return (
        f"{result.format:9} {result.posts:>7} posts: {result.seconds:8.1f} s, "
        f"{result.posts_per_second:6.1f} posts/s, CPU {result.cpu_seconds:.1f} s "
        f"({1000 * result.cpu_seconds / result.posts:.1f} ms a post), peak RSS {peak:7.1f} MB "
        f"(goal < {PEAK_GOAL_MB:.0f} MB: {verdict})"
    )


_LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_pid, status, usage = os.wait4(pid, 0)
print(json.dumps([usage.ru_maxrss, usage.ru_utime + usage.ru_stime]), file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Runs the command as its own child and prints that child's peak memory and CPU time.
Linux carries a process's peak (`ru_maxrss`) over `execve`, so a command started
straight from this process (which holds the whole corpus: 515 MB at 100,000 posts)
would report this process's peak; a child forked by a small launcher starts afresh."""


def _timed(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float, str]:
    """Run through the launcher; the child's own peak memory (MB) and CPU seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *args], env=env, cwd=cwd, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    peak_kb, cpu = json.loads(done.stderr.strip().splitlines()[-1])
    return elapsed, peak_kb / 1024, cpu, done.stdout


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.migrating", description=__doc__)
    parser.add_argument("--posts", type=int, action="append", help="corpus sizes (1000)")
    parser.add_argument("--format", action="append", choices=sorted(WRITERS), help="formats (all)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="masthead-migrating-"))
    results = []
    try:
        for size in args.posts or [1000]:
            corpus = generate_corpus(size)
            for format_name in args.format or list(WRITERS):
                folder = workdir / f"{format_name}-{size}"
                source = WRITERS[format_name](corpus, folder)
                result = measure(format_name, source, folder / "db.sqlite", folder, size)
                results.append(result)
                print(summary_line(result), flush=True)
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps([asdict(result) for result in results], indent=2))


if __name__ == "__main__":
    main()
