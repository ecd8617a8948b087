"""The cold path (issues 12 and 16): CPU time of one uncached page build, in process.

    python -m bench.cold_path [--posts 10000] [--repeats 200] [--keep DIR]

A corpus from `bench/corpus.py` is imported into a scratch SQLite database (with the
CLI, as the other benches do); then `PublicSite.answer` builds each page (index page 1,
index page 500, the busiest tag's last page, an author page, the median post) in its own
read transaction, one at a time, and the table gives the median and p90 CPU time of a
build (`time.process_time`, so other work on a shared machine moves it little) and the
statements it ran. No render cache is involved: `answer` is the miss itself.

`--keep DIR` keeps (and on the next run reuses) the imported database in DIR.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.corpus import Corpus, generate_corpus, write_corpus
from bench.importing import time_import
from bench.report import format_table

__all__ = ["PageTarget", "measure", "targets_of"]

PAGE_SIZE = 9
GOAL_LISTING_MS = 1.0


@dataclass(frozen=True)
class PageTarget:
    label: str
    kind: str
    params: dict[str, Any]


def targets_of(corpus: Corpus) -> list[PageTarget]:
    published = sorted(corpus.published, key=lambda post: post.date)
    tags = Counter(tag for post in published for tag in post.tags)
    busiest, count = tags.most_common(1)[0]
    authors = Counter(post.author for post in published)
    author = authors.most_common()[len(authors) // 2][0]
    last_tag_page = max(1, -(-count // PAGE_SIZE))
    index_pages = max(1, -(-len(published) // PAGE_SIZE))
    deep = min(500, index_pages)
    tag_page = PageTarget(f"tag {busiest} page {last_tag_page}", "tag_page", {"slug": busiest})
    if last_tag_page > 1:
        tag_page.params["number"] = last_tag_page
    else:
        tag_page = PageTarget(f"tag {busiest}", "tag", {"slug": busiest})
    return [
        PageTarget("index page 1", "index", {}),
        PageTarget(f"index page {deep}", "index_page", {"number": deep}),
        tag_page,
        PageTarget(f"author {author}", "author", {"slug": author}),
        PageTarget("median post", "post", {"slug": published[len(published) // 2].slug}),
    ]


def _database(posts: int, keep: Path | None) -> tuple[Path, Corpus]:
    corpus = generate_corpus(posts)
    folder = keep or Path(tempfile.mkdtemp(prefix="masthead-cold-"))
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / f"cold-{posts}.db"
    done = folder / f"cold-{posts}.imported"
    if not done.exists():
        for stale in folder.glob(f"cold-{posts}.db*"):
            stale.unlink()
        source = write_corpus(corpus, folder / f"corpus-{posts}")
        started = time.perf_counter()
        time_import(source, database, folder, posts)
        print(f"  imported {posts:,} posts in {time.perf_counter() - started:.1f} s", flush=True)
        done.touch()
    return database, corpus


def measure(database: Path, targets: list[PageTarget], repeats: int) -> list[list[str]]:
    from sqlalchemy import event

    from masthead.actions.public_site import PublicSite
    from masthead.settings import Settings
    from masthead.store.engine import open_engine, reading

    url = f"sqlite:///{database}"
    settings = Settings(  # type: ignore[call-arg]
        database_url=url, public_url="https://blog.example.test", page_size=PAGE_SIZE
    )
    engine = open_engine(url)
    site = PublicSite(settings)
    statements = [0]

    def count(*_args: object) -> None:
        statements[0] += 1

    rows = []
    try:
        for target in targets:
            for _ in range(10):  # warm: the statement cache, SQLite's page cache
                with reading(engine) as connection:
                    site.answer(connection, target.kind, target.params)
            statements[0] = 0
            event.listen(engine, "before_cursor_execute", count)
            with reading(engine) as connection:
                site.answer(connection, target.kind, target.params)
            event.remove(engine, "before_cursor_execute", count)
            seen = statements[0]
            cpu = []
            for _ in range(repeats):
                with reading(engine) as connection:
                    started = time.process_time()
                    site.answer(connection, target.kind, target.params)
                    cpu.append(time.process_time() - started)
            cpu.sort()
            rows.append(
                [
                    target.label,
                    f"{statistics.median(cpu) * 1000:.2f}",
                    f"{cpu[int(len(cpu) * 0.9)] * 1000:.2f}",
                    str(seen),
                ]
            )
    finally:
        engine.dispose()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_path", description=__doc__)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the database here")
    args = parser.parse_args(argv)
    print(f"Cold path: uncached page builds at {args.posts:,} posts (SQLite)", flush=True)
    database, corpus = _database(args.posts, args.keep)
    rows = measure(database, targets_of(corpus), args.repeats)
    headers = ["page", "CPU ms p50", "CPU ms p90", "statements"]
    print(format_table(headers, rows, right=(1, 2, 3)))
    listing = [float(row[1]) for row in rows[:4]]
    worst = max(listing)
    verdict = "met" if worst <= GOAL_LISTING_MS else "missed"
    print(f"goal: a listing ≤ {GOAL_LISTING_MS} ms CPU uncached: worst {worst:.2f} ms, {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
